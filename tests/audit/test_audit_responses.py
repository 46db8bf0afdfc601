"""``guardkit audit --responses``: records, report fields and the interval, from known answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_support import completion, write_jsonl
from typer.testing import CliRunner

from guardkit.audit import read_records
from guardkit.audit.html import render_html
from guardkit.audit.record import Record
from guardkit.audit.report import build_report
from guardkit.cli import app
from guardkit.reports import wilson_interval
from guardkit.reports.model import ErrorInfo, PolicyRef

runner = CliRunner()


def audit(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *map(str, args)])
    return result.exit_code, result.output


@pytest.fixture
def audited(policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path) -> tuple[Path, str]:
    """The 40-case suite audited from its recorded responses: the out folder and the output."""
    suite, responses = suite_files
    out = tmp_path / "out"
    code, output = audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert code == 0, output
    return out, output


def test_report_fields_from_recorded_responses(audited: tuple[Path, str]) -> None:
    out, output = audited
    report = json.loads((out / "report.json").read_text())
    failed = [i for i in range(40) if i % 11 == 10]  # 10, 21, 32
    reask = [i for i in range(40) if i % 5 == 4 and i not in failed]
    fixed = [i for i in range(40) if i % 7 == 6 and i not in failed and i not in reask]
    assert report["cases"] == 40
    assert report["reliable"] == 40 - len(failed)
    assert report["rcr"] == (40 - len(failed)) / 40
    assert report["rcr_ci"] == list(wilson_interval(40 - len(failed), 40))
    assert report["outcomes"] == {
        "reliable": 40 - len(failed) - len(reask) - len(fixed),
        "repaired": len(reask) + len(fixed),
        "flagged": 0,
        "refused": 0,
        "failed": len(failed),
    }
    assert report["attempts_histogram"] == {
        "1": 40 - len(failed) - len(reask),
        "2": len(failed) + len(reask),
    }
    # every attempt costs 100 * 0.001 / 1000 + 20 * 0.002 / 1000 = 0.00014
    attempts = 40 + len(failed) + len(reask)
    assert (
        report["cost_total"] == round(attempts * 0.00014, 12)
        or abs(report["cost_total"] - attempts * 0.00014) < 1e-12
    )
    assert abs(report["cost_per_reliable"] - report["cost_total"] / report["reliable"]) < 1e-12
    assert report["tokens"] == {
        "input": 100 * attempts,
        "output": 20 * attempts,
        "total": 120 * attempts,
        "per_case": 120 * attempts / 40,
    }
    assert report["check_failure_rates"]["schema"] == (len(failed) + len(reask) + len(fixed)) / 40
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p95"] <= report["latency_ms"]["p99"]
    assert report["calibration"] is None  # no risk check in this policy
    records = read_records(out / "records.jsonl")
    assert sorted(r.id for r in records) == sorted(f"c{i}" for i in range(40))
    assert {r.id for r in records if not r.reliable} == {f"c{i}" for i in failed}
    assert "rcr 92.5%" in output


def test_malformed_lines_are_skipped_and_reported(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    lines = suite.read_text().splitlines()
    lines[2] = "{not json"
    lines[5] = json.dumps({"id": "c5"})
    lines[7] = json.dumps({"id": "c7", "input": "q", "contxt": "typo"})
    lines.append(json.dumps({"id": "c1", "input": "again"}))
    suite.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    code, output = audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert code == 0, output
    report = json.loads((out / "report.json").read_text())
    assert report["cases"] == 37
    assert [p["line"] for p in report["skipped_lines"]] == [3, 6, 8, 41]
    assert report["skipped_lines"][0]["message"].startswith("not JSON")
    assert "exactly one of 'input'" in report["skipped_lines"][1]["message"]
    assert "contxt" in report["skipped_lines"][2]["message"]
    assert report["skipped_lines"][3]["message"] == "field id: duplicate id 'c1' (first on line 2)"
    assert f"skipped {suite}:3" in output

    code, output = audit(
        suite,
        "--policy",
        policy_file,
        "--responses",
        responses,
        "--out",
        tmp_path / "o2",
        "--fail-fast",
    )
    assert code == 2
    assert f"{suite}:3: not JSON" in output and "[suite_invalid]" in output


def test_report_lists_the_cases_not_reliable_with_the_reason(audited: tuple[Path, str]) -> None:
    out, _ = audited
    notes = json.loads((out / "report.json").read_text())["not_reliable"]
    assert [(n["id"], n["line"], n["outcome"], n["attempts"]) for n in notes] == [
        ("c10", 11, "failed", 2),
        ("c21", 22, "failed", 2),
        ("c32", 33, "failed", 2),
    ]
    # the schema check's finding, without the reask's instructions to the model
    assert (
        notes[0]["reason"] == "schema: - (root): not valid JSON: Expecting value at line 1 column 1"
    )
    page = (out / "report.html").read_text()
    assert page.count("<tr data-case=") == 3 and "not valid JSON" in page


def test_case_reasons_name_the_error_or_the_claims() -> None:
    feedback = (
        "Some statements in your previous answer are not backed by the reference facts.\n"
        "Contradicted by the references:\n"
        '- "It costs <b>9</b> euros.": the reference says "It costs 49 euros."\n'
        "Answer again using only statements the references support."
    )
    facts = {"check": "facts", "passed": False, "feedback": feedback}
    base = {"line": 1, "outcome": "refused", "reliable": False, "attempts": 2}
    refused = Record(
        id="a",
        **base,
        checks_failed=["facts"],
        report={"attempts": [{"checks": [{"check": "schema", "passed": True}, facts]}]},
    )
    risk_feedback = (
        "Your previous answer contained statements that the provided documents do not support "
        '(risk 0.94 > 0.60).\nThe least supported:\n- "It sells elephants."\nAnswer again.'
    )
    flagged = Record(
        id="c",
        **{**base, "outcome": "flagged"},
        checks_failed=["risk"],
        report={
            "attempts": [
                {"checks": [{"check": "risk", "passed": False, "feedback": risk_feedback}]}
            ]
        },
    )
    crashed = Record(
        id="b",
        **{**base, "outcome": "failed"},
        error=ErrorInfo(type="APIConnectionError", message="connection refused", retryable=True),
    )
    report = build_report(
        [refused, crashed, flagged],
        policy=PolicyRef(id="p", version="1", sha256="0" * 64),
        currency="USD",
        source="responses",
        engine="local",
        suite="s.jsonl",
        problems=[],
        guarantee=None,
        generated_at=datetime.now(UTC),
    )
    assert [n.reason for n in report.not_reliable] == [
        'facts: Contradicted by the references: - "It costs <b>9</b> euros.": '
        'the reference says "It costs 49 euros."',
        "APIConnectionError: connection refused",
        'risk: The least supported: - "It sells elephants."',
    ]
    page = render_html(report)
    assert "&lt;b&gt;9&lt;/b&gt;" in page and "<b>9</b>" not in page  # escaped


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "a", "input": ""}, "field input: String should have at least 1 character"),
        ({"id": "a", "input": "q", "context": " "}, "field context: a context document is blank"),
        ({"id": "a", "messages": [{"foo": "bar"}]}, "message 0 needs a 'role' string"),
        ({"id": "a", "input": "q", "hallucinated": "yes"}, "field hallucinated:"),
    ],
)
def test_case_content_errors_are_reported_by_line(row: dict, message: str, tmp_path: Path) -> None:
    from guardkit.audit.suite import SuiteError, read_suite

    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"id": "ok", "input": "q"}) + "\n" + json.dumps(row) + "\n")
    cases, problems = read_suite(suite)
    assert [c.case.id for c in cases] == ["ok"]
    assert problems[0].line == 2 and message in problems[0].message
    with pytest.raises(SuiteError):
        read_suite(suite, fail_fast=True)


def test_a_suite_with_no_usable_case_is_an_error(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, responses = suite_files
    suite = tmp_path / "bad.jsonl"
    suite.write_text("{not json\n")
    out = tmp_path / "out"
    code, output = audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert code == 2 and "the suite has no usable cases; line 1: not JSON" in output
    assert len(output.strip().splitlines()) == 1  # no progress bar before the error
    assert not out.exists()


@pytest.mark.parametrize(
    ("mode", "kept"),
    [
        ("store", {"answer": "Mail jo@example.com or call +49 170 1234567."}),
        ("redact", None),  # the report keeps the model's text redacted
        ("hash", None),
    ],
)
def test_records_keep_the_output_as_the_policy_says(
    mode: str, kept: object, policy_file: Path, tmp_path: Path
) -> None:
    policy = policy_file.read_text().replace(
        "records: {content: store}", f"records: {{content: {mode}}}"
    )
    (tmp_path / f"{mode}.yaml").write_text(policy)
    text = json.dumps({"answer": "Mail jo@example.com or call +49 170 1234567."})
    suite = write_jsonl(tmp_path / "s.jsonl", [{"id": "c0", "input": "Contact?"}])
    responses = write_jsonl(tmp_path / "r.jsonl", [{"id": "c0", "responses": [completion(text)]}])
    out = tmp_path / mode
    code, output = audit(
        suite, "--policy", tmp_path / f"{mode}.yaml", "--responses", responses, "--out", out
    )
    assert code == 0, output
    (record,) = read_records(out / "records.jsonl")
    assert record.reliable and record.output == kept
    raw = (out / "records.jsonl").read_text()
    assert ("jo@example.com" in raw) is (mode == "store")


def _answer_policy(folder: Path, rest: str) -> Path:
    """A policy whose output is ``{"answer": string}``, then ``rest`` (its actions ...)."""
    (folder / "answer.schema.json").write_text(
        json.dumps({"type": "object", "properties": {"answer": {"type": "string"}}})
    )
    policy = folder / "policy.yaml"
    policy.write_text('id: p\nversion: "1"\noutput:\n  json_schema: answer.schema.json\n' + rest)
    return policy


def test_a_reask_past_the_recorded_answers_falls_through_to_its_fallback(
    tmp_path: Path,
) -> None:
    """One recorded answer that fails: the reask cannot be replayed, so the case ends as the
    policy's fallback ends it (refused, for the reason the check gave), not as a missing
    recording; a case with no recorded answer at all is still a failure that says so."""
    policy = _answer_policy(
        tmp_path,
        "actions:\n  schema: {type: reask, max_attempts: 3, then: {type: refrain, "
        "fallback: {answer: n/a}}}\n",
    )
    suite = write_jsonl(tmp_path / "suite.jsonl", [{"id": i, "input": "q"} for i in "ab"])
    responses = write_jsonl(tmp_path / "responses.jsonl", [{"id": "a", "response": "nope"}])
    code, output = audit(
        suite, "--policy", policy, "--responses", responses, "--out", tmp_path / "o"
    )
    assert code == 0, output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    reasons = {c["id"]: (c["outcome"], c["reason"]) for c in report["not_reliable"]}
    assert reasons["a"][0] == "refused" and reasons["a"][1].startswith("schema:")
    assert reasons["b"][0] == "failed" and "no recorded response for case 'b'" in reasons["b"][1]


def test_an_audit_queues_flagged_cases_for_review_but_waits_for_no_reviewer(
    tmp_path: Path,
) -> None:
    from guardkit.review.queue import ReviewQueue

    policy = _answer_policy(
        tmp_path, "actions:\n  schema: flag\nreview: {queue: reviews.db, wait_s: 30}\n"
    )
    suite = write_jsonl(tmp_path / "suite.jsonl", [{"id": "a", "input": "q"}])
    responses = write_jsonl(tmp_path / "responses.jsonl", [{"id": "a", "response": "nope"}])
    t0 = datetime.now(UTC)
    code, output = audit(
        suite, "--policy", policy, "--responses", responses, "--out", tmp_path / "o"
    )
    assert code == 0, output
    assert (datetime.now(UTC) - t0).total_seconds() < 20  # no 30 s wait for a reviewer
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["outcomes"]["flagged"] == 1  # flagged, as the policy's action says
    (item,) = ReviewQueue(tmp_path / "reviews.db").list()
    assert item.status == "pending"  # queued for a reviewer all the same


def test_an_audit_refused_before_any_case_leaves_no_folder(tmp_path: Path) -> None:
    """A guard that cannot be built (here: a verifier folder that does not exist) stops the
    audit before its first case; the --out folder it would have used is not left behind to
    block the next run."""
    policy = tmp_path / "policy.yaml"
    policy.write_text('id: p\nversion: "1"\nchecks:\n  facts: {verifier: nowhere}\n')
    suite = write_jsonl(tmp_path / "suite.jsonl", [{"id": "a", "input": "q", "context": ["c d e"]}])
    responses = write_jsonl(tmp_path / "responses.jsonl", [{"id": "a", "response": "It is."}])
    out = tmp_path / "out"
    code, output = audit(suite, "--policy", policy, "--responses", responses, "--out", out)
    assert code == 2 and "nowhere" in output
    assert not out.exists()


@pytest.mark.parametrize(
    ("output", "expected", "matches"),
    [
        ("You have 30  days to return it.", "30 days", True),
        ("You have 30 days.", "60 days", False),
        ({"invoice": "A1", "total": 9.5}, {"invoice": "A1"}, True),
        ({"invoice": "A1", "total": 9.5}, {"invoice": "A2"}, False),
        ({"note": "Paid in full on time."}, {"note": "paid in full"}, True),
        ([1, 2], [1, 2], True),
        ("Every Nordlicht frame has a warranty.", "no", False),  # words, not letters
        ("No, worn tyres are not covered.", "no", True),
        ("You have __30 days__ to return it.", "30 days", True),  # emphasis is no letter
        ("It costs C$5 per month.", "$5", True),  # no word edge to find at "$"
        ({"answer": "Within 30 days.", "sources": ["1"]}, "30 days", True),  # its strings
        ({"answer": "Within 60 days."}, "30 days", False),
        ({"vendor": "Acme", "note": "Corp"}, "Acme Corp", False),  # not across fields
        ("anything", None, None),
    ],
)
def test_expected_is_what_a_reliable_answer_should_contain(
    output: object, expected: object, matches: bool | None
) -> None:
    from guardkit.audit.record import _matches

    assert _matches(output, expected) is matches
