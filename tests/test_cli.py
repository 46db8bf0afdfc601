from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from guardkit import __version__
from guardkit.cli import app

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"guardkit {__version__}"


def test_shipped_policies_check() -> None:
    files = sorted(str(p) for p in (ROOT / "policies").glob("*.yaml"))
    result = runner.invoke(app, ["policy", "check", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == len(files)


def test_bad_policy_exits_2_with_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('id: p\nversion: "1"\ntimeout_s: soon\n')
    good = ROOT / "policies" / "clinical-qa.yaml"
    result = runner.invoke(app, ["policy", "check", str(good), str(bad)])
    assert result.exit_code == 2
    assert f"error: {bad}:3: field timeout_s Input should be a valid number" in result.output
    assert "1 of 2 policy files invalid" in result.output


def test_help_on_every_command() -> None:
    for args in (["--help"], ["policy", "--help"], ["policy", "check", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "guardkit", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and __version__ in result.stdout
