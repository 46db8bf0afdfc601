"""``--index DIR``: the facts check runs on a real fact index and its verdicts feed the risk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_support import completion, write_jsonl
from typer.testing import CliRunner

from guardkit.audit import read_records
from guardkit.cli import app


@pytest.mark.slow
def test_index_feeds_the_facts_check_and_the_risk(tmp_path: Path) -> None:
    from guardkit.facts.index import FactIndex

    facts = write_jsonl(
        tmp_path / "facts.jsonl",
        [
            {"id": "hours", "text": "Acme support is open Monday to Friday, nine to five."},
            {"id": "refunds", "text": "Refunds are paid back within ten days."},
        ],
    )
    FactIndex.build([facts]).save(tmp_path / "index")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'id: facts-risk\nversion: "1"\nchecks:\n'
        "  facts: {min_support_rate: 0.0, max_contradictions: 100}\n"
        "  risk: {max_risk: 0.99, grounding: false}\n"
    )
    suite = write_jsonl(
        tmp_path / "suite.jsonl",
        [
            {"id": "a", "input": "When is support open?"},
            {"id": "b", "input": "How fast are refunds?"},
        ],
    )
    responses = write_jsonl(
        tmp_path / "responses.jsonl",
        [
            {"id": "a", "response": completion("Support is open Monday to Friday.")},
            {"id": "b", "response": completion("Refunds are paid back within ten days.")},
        ],
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(suite),
            "--policy",
            str(policy),
            "--responses",
            str(responses),
            "--index",
            str(tmp_path / "index"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    for record in read_records(out / "records.jsonl"):
        assert record.checks_run == ["facts", "risk"]
        assert record.risk_components is not None and record.risk_components.facts is not None
        assert record.risk == record.risk_components.facts
    assert json.loads((out / "report.json").read_text())["risk"]["scored"] == 2


def test_a_facts_check_with_nothing_to_check_against_is_named(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('id: p\nversion: "1"\nchecks:\n  facts: {min_support_rate: 0.5}\n')
    suite = write_jsonl(
        tmp_path / "suite.jsonl",
        [
            {"id": "bare", "input": "When is support open?"},
            {"id": "given", "input": "When?", "context": ["Support is open Monday to Friday."]},
        ],
    )
    responses = write_jsonl(
        tmp_path / "responses.jsonl",
        [
            {"id": "bare", "response": "Support is open Monday to Friday."},
            {"id": "given", "response": "Support is open Monday to Friday."},
        ],
    )
    args = ["audit", str(suite), "--policy", str(policy), "--responses", str(responses)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "warning: the facts check has no index and 1 of 2 cases give no context" in result.output
    assert "('bare')" in result.output and "'given'" not in result.output
