"""``guardkit audit --model local``: the embedded SmolLM2 answers under the policy's schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_support import suite_rows, write_jsonl
from typer.testing import CliRunner

from guardkit.cli import app


@pytest.mark.slow
def test_local_model_audit_writes_records_and_reports(policy_file: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(2))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["audit", str(suite), "--policy", str(policy_file), "--model", "local", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["cases"] == 2
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert all(r["report"]["model"] == "smollm2-135m-instruct" for r in records)
    assert all(r["input_tokens"] > 0 and r["output_tokens"] > 0 for r in records)
    assert sum(report["outcomes"].values()) == 2
    for record in records:  # what the guard accepted is valid for the schema
        if record["reliable"]:
            assert isinstance(record["output"]["answer"], str)
