"""From a real audit run: build the pack, verify it, tamper with log and pack, find decisions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from guardkit.cli import app

runner = CliRunner()
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "dose_mg": {"type": "number", "maximum": 100}},
    "required": ["answer", "dose_mg"],
    "additionalProperties": False,
}


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_pack_from_a_real_audit(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        json.dumps(
            {
                "id": "dosing",
                "version": "1",
                "output": {"json_schema": "schema.json"},
                "actions": {"schema": {"type": "flag", "reason": "needs a pharmacist"}},
                "records": {"content": "store", "log": "calls.jsonl"},
                "review": {"queue": "reviews.db"},
            }
        )
    )
    answers = [
        '{"answer": "Take 50 mg.\u2028With food.", "dose_mg": 50}',  # a line separator inside
        '{"answer": "Take 500 mg.", "dose_mg": 500}',
        '{"answer": "Take 20 mg.", "dose_mg": 20}',
        "not json",
    ]
    suite = tmp_path / "suite.jsonl"
    responses = tmp_path / "responses.jsonl"
    suite.write_text(
        "".join(json.dumps({"id": f"c{i}", "input": "dose?"}) + "\n" for i in range(4))
    )
    responses.write_text(
        "".join(
            json.dumps({"id": f"c{i}", "response": a}, ensure_ascii=False) + "\n"
            for i, a in enumerate(answers)
        ),
        encoding="utf-8",
    )
    audit = tmp_path / "audit"
    invoke(
        "audit",
        str(suite),
        "--policy",
        str(policy),
        "--responses",
        str(responses),
        "--out",
        str(audit),
    )
    report = json.loads((audit / "report.json").read_text())
    assert report["cases"] == 4 and report["outcomes"]["flagged"] == 2

    invoke(
        "review",
        "approve",
        "1",
        "--reviewer",
        "A. Pharm",
        "--note",
        "ok for adults",
        "--policy",
        str(policy),
    )
    invoke("review", "reject", "2", "--reviewer", "A. Pharm", "--policy", str(policy))
    log = tmp_path / "calls.jsonl"
    kinds = [json.loads(line)["kind"] for line in log.read_text().split("\n") if line]
    assert kinds.count("guard_report") == 4 and kinds.count("review_decision") == 2
    assert "ok" in invoke("log", "verify", str(log))

    pack = tmp_path / "pack"
    invoke(
        "evidence",
        "--audit",
        str(audit),
        "--log",
        str(log),
        "--policy",
        str(policy),
        "--out",
        str(pack),
    )
    assert "every file matches" in invoke("evidence", "verify", str(pack))
    art11 = (pack / "art11-technical-documentation.md").read_text()
    assert "| cases audited | 4 | [audit report.json#cases" in art11
    art14 = (pack / "art14-human-oversight.md").read_text()
    assert "approved: 1, rejected: 1" in art14 and "A. Pharm" in art14

    # one flipped byte in a log record and in a pack file: both detected
    data = bytearray(log.read_bytes())
    data[40] ^= 0x01
    log.write_bytes(bytes(data))
    assert runner.invoke(app, ["log", "verify", str(log)]).exit_code == 1
    page = pack / "art15-accuracy-robustness.html"
    page.write_bytes(page.read_bytes().replace(b"Article", b"Articlf", 1))
    result = runner.invoke(app, ["evidence", "verify", str(pack)])
    assert result.exit_code == 1 and "art15-accuracy-robustness.html" in result.output
