"""``guardkit generate`` fails with exit 2 and one typed line before loading any model."""

from __future__ import annotations

from typer.testing import CliRunner

from guardkit.cli import app


def run(*args: str):
    return CliRunner().invoke(app, ["generate", *args])


def test_bad_schema_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": ', encoding="utf-8")
    result = run("--schema", str(bad), "--prompt", "x")
    assert result.exit_code == 2
    assert "[schema_invalid]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_json_schema(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "nope"}', encoding="utf-8")
    result = run("--schema", str(bad), "--prompt", "x")
    assert result.exit_code == 2
    assert "[schema_invalid]" in result.stderr


def test_unknown_model(tmp_path):
    good = tmp_path / "s.json"
    good.write_text('{"type": "integer"}', encoding="utf-8")
    result = run("--schema", str(good), "--prompt", "x", "--model", "gpt-9")
    assert result.exit_code == 2
    assert "unknown model 'gpt-9'; known: local [unknown_name]" in result.stderr
