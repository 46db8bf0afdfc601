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


def test_an_output_decoded_without_constraints_says_why(tmp_path, monkeypatch):
    from guardkit.cli import generate as generate_cli
    from guardkit.decoding._base import DecodingInfo
    from guardkit.generation import GenerationFailed
    from guardkit.reports.model import Usage

    info = DecodingInfo(
        engine="unconstrained",
        compile_ms=1.0,
        fallbacks=["llguidance: Pointer '/$defs/missing' does not exist"],
    )

    class Unconstrained:
        def generate(self, prompt, source, max_new_tokens):
            raise GenerationFailed(
                "output is not JSON", text="def f(): ...", usage=Usage(), info=info, attempts=1
            )

    monkeypatch.setitem(generate_cli._MODELS, "local", Unconstrained)
    monkeypatch.setattr(generate_cli, "_quiet_transformers", lambda: None)
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "integer"}', encoding="utf-8")
    result = run("--schema", str(schema), "--prompt", "x")
    assert result.exit_code == 2 and "error: output is not JSON" in result.stderr
    assert "note: decoded without constraints: llguidance: Pointer" in result.stderr
