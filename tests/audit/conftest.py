"""Audit fixtures: a policy file, and a suite with its recorded responses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_support import POLICY, SCHEMA, response_rows, suite_rows, write_jsonl


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    (tmp_path / "answer.schema.json").write_text(json.dumps(SCHEMA))
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def suite_files(tmp_path: Path) -> tuple[Path, Path]:
    suite = write_jsonl(tmp_path / "suite.jsonl", suite_rows(40))
    responses = write_jsonl(tmp_path / "responses.jsonl", response_rows(40))
    return suite, responses
