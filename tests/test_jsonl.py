"""A JSON line that names one key twice is refused wherever guardkit reads JSONL input:
Python's ``json`` would keep the last value and drop the first without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardkit._jsonl import json_objects, loads
from guardkit.audit.suite import SuiteError, read_suite
from guardkit.errors import ConfigError, FactIndexError
from guardkit.facts._ingest import read_sources
from guardkit.risk.calibration import read_labelled

TWICE = '{"id": "a1", "text": "Credit within 2 days.", "text": "Credit within 9 days."}'


def _file(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_loads_refuses_a_key_named_twice_at_any_depth() -> None:
    assert loads('{"a": {"b": 1}, "c": [{"b": 2}, {"b": 3}]}') == {
        "a": {"b": 1},
        "c": [{"b": 2}, {"b": 3}],
    }
    with pytest.raises(ValueError, match="key 'b' appears twice"):
        loads('{"a": [{"b": 1, "b": 2}]}')


def test_every_jsonl_reader_names_the_file_line_and_key(tmp_path: Path) -> None:
    ok = '{"id": "a0", "text": "Refunds take 5 days."}'
    with pytest.raises(ConfigError, match="key 'text' appears twice") as info:
        list(json_objects(_file(tmp_path, "claims.jsonl", ok, TWICE)))
    assert info.value.line == 2
    with pytest.raises(FactIndexError, match="key 'text' appears twice") as index_info:
        read_sources([_file(tmp_path, "kb.jsonl", ok, TWICE)])
    assert index_info.value.line == 2
    suite = _file(
        tmp_path,
        "suite.jsonl",
        '{"id": "c0", "input": "a"}',
        '{"id": "c1", "input": "a", "input": "b"}',
    )
    with pytest.raises(SuiteError, match="key 'input' appears twice") as suite_info:
        read_suite(suite, fail_fast=True)
    assert suite_info.value.line == 2
    cases, problems = read_suite(suite)  # skipped and recorded, the good case kept
    assert [c.case.id for c in cases] == ["c0"] and "appears twice" in problems[0].message
    labelled = _file(tmp_path, "labelled.jsonl", '{"hallucinated": true, "hallucinated": false}')
    with pytest.raises(ConfigError, match="key 'hallucinated' appears twice"):
        read_labelled(labelled, None)


def test_a_suite_or_labelled_line_nested_too_deeply_is_a_typed_error(tmp_path: Path) -> None:
    deep = "[" * 100_000
    with pytest.raises(SuiteError, match="nested too deeply"):
        read_suite(_file(tmp_path, "suite.jsonl", deep), fail_fast=True)
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_labelled(_file(tmp_path, "labelled.jsonl", deep), None)
