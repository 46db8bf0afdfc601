"""An audit with the risk check and labelled cases: risk distribution, calibration, guarantee.

Uses the TEST-ONLY ``WordOverlapVerifier`` double in place of the trained verifier.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_support import completion, write_jsonl
from risk.risk_support import WordOverlapVerifier
from typer.testing import CliRunner

from guardkit.checks import risk as risk_check
from guardkit.cli import app

runner = CliRunner()
DOC = "Acme support is open Monday to Friday from nine to five and refunds take ten days."


def test_audit_reports_risk_calibration_and_guarantee(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(risk_check, "load_grounding_verifier", lambda folder: WordOverlapVerifier())
    good, bad = "refunds take ten days", "refunds are instant on weekends via crypto"
    cases, answers, labelled = [], [], []
    for i in range(60):
        text = bad if i % 3 == 0 else good
        cases.append(
            {
                "id": f"q{i}",
                "input": "How long do refunds take?",
                "context": DOC,
                "hallucinated": text == bad,
            }
        )
        answers.append({"id": f"q{i}", "response": completion(text)})
    for i in range(200):  # calibration data, scored the same way the check scores
        g = 0.05 if i % 3 else 0.8
        labelled.append({"risk_components": {"grounding": g}, "hallucinated": bool(i % 3 == 0)})
    suite = write_jsonl(tmp_path / "suite.jsonl", cases)
    responses = write_jsonl(tmp_path / "responses.jsonl", answers)
    write_jsonl(tmp_path / "labelled.jsonl", labelled)
    policy = tmp_path / "policy.yaml"
    policy.write_text('id: grounded\nversion: "1"\n')
    calibrated = runner.invoke(
        app,
        [
            "calibrate",
            "--labelled",
            str(tmp_path / "labelled.jsonl"),
            "--policy",
            str(policy),
            "--alpha",
            "0.1",
            "--no-fit",
        ],
    )
    assert calibrated.exit_code == 0, calibrated.output
    lock = tmp_path / "policy.lock.json"
    policy.write_text(
        'id: grounded\nversion: "1"\nchecks:\n'
        f'  risk: {{lock: "{lock}"}}\nactions:\n  risk: {{type: flag}}\n'
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "audit",
            str(suite),
            "--policy",
            str(policy),
            "--responses",
            str(responses),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["outcomes"]["reliable"] == 40 and report["outcomes"]["flagged"] == 20
    assert report["risk"]["scored"] == 60 and report["risk"]["accepted"] == 40
    assert report["check_failure_rates"]["risk"] == pytest.approx(20 / 60)
    cal = report["calibration"]
    assert cal["labelled"] == 60 and cal["auroc"] == 1.0
    assert cal["accepted"] == 40 and cal["accepted_hallucination_rate"] == 0.0
    assert report["guarantee"].startswith("With probability >= 90%")
    assert "hallucination rate among accepted outputs" in (out / "report.html").read_text()
