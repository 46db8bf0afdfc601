"""Interrupted audits: torn writes, --resume with no loss or duplicates, refusals, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audit_support import answer, suite_rows, write_jsonl
from typer.testing import CliRunner

from guardkit.audit import read_records
from guardkit.cli import app
from guardkit.testing import Answer, ScriptedLLMServer

runner = CliRunner()


def audit(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *map(str, args)])
    return result.exit_code, result.output


def ids(out: Path) -> list[str]:
    return [r.id for r in read_records(out / "records.jsonl")]


def test_resume_after_torn_write_loses_and_duplicates_nothing(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    out = tmp_path / "out"
    args = (suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert audit(*args)[0] == 0
    records = (out / "records.jsonl").read_bytes().splitlines(keepends=True)
    # as if killed mid-write: 25 whole records and half of the 26th
    (out / "records.jsonl").write_bytes(b"".join(records[:25]) + records[25][:40])
    assert len(ids(out)) == 25  # the torn line is never read as a record
    code, output = audit(*args)
    assert code == 2 and "already holds an audit" in output
    code, output = audit(*args, "--resume")
    assert code == 0, output
    done = ids(out)
    assert len(done) == 40 and len(set(done)) == 40
    assert json.loads((out / "report.json").read_text())["cases"] == 40


def test_resume_refuses_another_policy_or_suite(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    out = tmp_path / "out"
    assert audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)[0] == 0
    policy_file.write_text(policy_file.read_text().replace('version: "1"', 'version: "2"'))
    code, output = audit(
        suite, "--policy", policy_file, "--responses", responses, "--out", out, "--resume"
    )
    assert code == 2
    assert (
        "cannot resume: the policy (its file, its risk lock and any --index) differs" in output
        and "[audit_state]" in output
    )
    policy_file.write_text(policy_file.read_text().replace('version: "2"', 'version: "1"'))
    other = write_jsonl(tmp_path / "other.jsonl", suite_rows(39))
    code, output = audit(
        other, "--policy", policy_file, "--responses", responses, "--out", out, "--resume"
    )
    assert code == 2 and "cannot resume: the suite differs" in output


def test_resume_refuses_a_changed_output_schema_file(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    out = tmp_path / "out"
    assert audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)[0] == 0
    schema = tmp_path / "answer.schema.json"
    data = json.loads(schema.read_text())
    data["required"] = [*data.get("required", []), "source"]
    schema.write_text(json.dumps(data))
    code, output = audit(
        suite, "--policy", policy_file, "--responses", responses, "--out", out, "--resume"
    )
    assert (
        code == 2
        and "cannot resume: the policy (its file, its risk lock and any --index) differs" in output
    )


def test_a_bad_responses_file_stops_the_audit_before_its_folder_is_written(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    out = tmp_path / "out"
    code, output = audit(
        suite, "--policy", policy_file, "--responses", tmp_path / "nowhere.jsonl", "--out", out
    )
    assert code == 2 and "nowhere.jsonl" in output and "Traceback" not in output
    broken = tmp_path / "broken.jsonl"
    broken.write_text(responses.read_text() + "{oops\n")
    code, output = audit(suite, "--policy", policy_file, "--responses", broken, "--out", out)
    assert code == 2 and f"{broken}:" in output
    assert not out.exists()
    # fixed, the same folder takes a fresh audit (nothing half-made is left to refuse it)
    assert audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)[0] == 0


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [
        (['{"id": "c0", "response": "a"}', '{"id": "c0", "response": "b"}'], ":2 ", "duplicate"),
        (['{"id": "c0", "response": 42}'], ":1 ", "not int"),
        (['{"id": "c0", "responses": ["a", null]}'], ":1 ", "responses[1]"),
        (['{"id": "c0", "response": "a"}', b'{"id": "c1", "response": "caf\xe9"}'], ":2", "UTF-8"),
        (['{"id": "elsewhere", "response": "a"}'], "", "none of the suite's 3 cases"),
    ],
)
def test_responses_that_cannot_be_judged_stop_the_audit_naming_the_line(
    policy_file: Path, tmp_path: Path, lines: list[str | bytes], where: str, message: str
) -> None:
    suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(3))
    responses = tmp_path / "responses.jsonl"
    responses.write_bytes(
        b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    )
    out = tmp_path / "out"
    code, output = audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert code == 2 and f"{responses}{where}" in output and message in output, output
    assert not out.exists()


def test_responses_and_cases_that_do_not_pair_up_are_named(
    policy_file: Path, tmp_path: Path
) -> None:
    suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(3))
    responses = tmp_path / "responses.jsonl"
    responses.write_text(
        json.dumps(
            {"id": "c0", "response": answer(0).replace(" 0", "\u2028 0")},
            ensure_ascii=False,
        )
        + "\n"
        + json.dumps({"id": "zz", "response": answer(9)})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, output = audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert code == 0, output
    assert "warning:" in output and "2 suite cases have no recorded response" in output
    assert "'c1', 'c2'" in output and "1 recorded responses name no case" in output
    assert [r.outcome for r in read_records(out / "records.jsonl")].count("failed") == 2


def test_an_output_path_that_is_a_file_is_refused(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    out = tmp_path / "out"
    out.write_text("not a folder")
    code, output = audit(suite, "--policy", policy_file, "--responses", responses, "--out", out)
    assert code == 2 and "the output path is a file" in output
    assert out.read_text() == "not a folder"


def test_openai_source_provider_error_is_a_failed_case(
    server: ScriptedLLMServer, policy_file: Path, tmp_path: Path
) -> None:
    suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(5))
    server.answer(
        answer(0),
        answer(1),
        Answer(status=400, content="bad request"),
        answer(3),
        answer(4),
    )
    out = tmp_path / "out"
    code, output = audit(
        suite,
        "--policy",
        policy_file,
        "--model",
        "openai:test-model",
        "--base-url",
        server.base_url,
        "--out",
        out,
    )
    assert code == 0, output
    records = {r.id: r for r in read_records(out / "records.jsonl")}
    assert [records[f"c{i}"].reliable for i in range(5)] == [True, True, False, True, True]
    failed = records["c2"]
    assert failed.outcome == "failed" and failed.error is not None
    assert failed.error.type == "openai.BadRequestError" and not failed.error.retryable
    assert records["c0"].output == {"answer": "answer 0"}
    assert server.requests[0]["model"] == "test-model"
    assert "doc 0" in server.requests[0]["messages"][0]["content"]


def test_openai_source_with_worker_threads(
    server: ScriptedLLMServer, policy_file: Path, tmp_path: Path
) -> None:
    suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(12))
    server.answer(*[Answer(content=answer(0), delay_s=0.02) for _ in range(12)])
    out = tmp_path / "out"
    code, output = audit(
        suite,
        "--policy",
        policy_file,
        "--model",
        "openai:test-model",
        "--base-url",
        server.base_url,
        "--out",
        out,
        "--workers",
        "4",
    )
    assert code == 0, output
    assert sorted(ids(out)) == sorted(f"c{i}" for i in range(12))
    assert json.loads((out / "report.json").read_text())["reliable"] == 12


@pytest.mark.slow
def test_kill_9_mid_audit_then_resume(policy_file: Path, tmp_path: Path) -> None:
    """A real process killed with SIGKILL mid-audit; --resume completes every case exactly once."""
    server = ScriptedLLMServer().start()
    try:
        n = 60
        suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(n))
        server.answer(*[Answer(content=answer(i), delay_s=0.05) for i in range(n * 2)])
        out = tmp_path / "out"
        cmd = [
            sys.executable,
            "-m",
            "guardkit",
            "audit",
            str(suite),
            "--policy",
            str(policy_file),
            "--model",
            "openai:test-model",
            "--base-url",
            server.base_url,
            "--out",
            str(out),
        ]
        env = {**os.environ, "OPENAI_API_KEY": "x"}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        records = out / "records.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(ids(out) if records.exists() else []) < 10:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = ids(out)
        assert 10 <= len(partial) < n
        done = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        final = ids(out)
        assert sorted(final) == sorted(f"c{i}" for i in range(n))
        assert final[: len(partial)] == partial
    finally:
        server.stop()


def test_resume_refuses_an_index_rebuilt_at_the_same_path(tmp_path: Path) -> None:
    from audit_support import completion

    from guardkit.facts import FactIndex

    facts = write_jsonl(tmp_path / "facts.jsonl", [{"id": "a", "text": "Refunds take ten days."}])
    FactIndex.build([facts]).save(tmp_path / "index")
    policy = tmp_path / "policy.yaml"
    policy.write_text('id: p\nversion: "1"\nchecks:\n  facts: {min_support_rate: 0.0}\n')
    suite = write_jsonl(
        tmp_path / "suite.jsonl", [{"id": "c", "input": "How long do refunds take?"}]
    )
    responses = write_jsonl(
        tmp_path / "responses.jsonl", [{"id": "c", "response": completion("Ten days.")}]
    )
    out = tmp_path / "out"
    args = (suite, "--policy", policy, "--responses", responses, "--index", tmp_path / "index")
    assert audit(*args, "--out", out)[0] == 0
    assert audit(*args, "--out", out, "--resume")[0] == 0  # the same index: nothing to redo
    more = write_jsonl(tmp_path / "more.jsonl", [{"id": "b", "text": "Delivery is free."}])
    assert runner.invoke(app, ["index", "add", str(tmp_path / "index"), str(more)]).exit_code == 0
    code, output = audit(*args, "--out", out, "--resume")
    assert code == 2 and "cannot resume: the fact index or verifier model differs" in output


def test_the_ray_engine_without_ray_is_a_typed_error_before_any_folder(
    policy_file: Path,
    suite_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    suite, responses = suite_files
    out = tmp_path / "out"
    code, output = audit(
        suite, "--policy", policy_file, "--responses", responses, "--out", out, "--engine", "ray"
    )
    assert code == 2 and "guardkit[ray]" in output and "Traceback" not in output
    assert not out.exists()
