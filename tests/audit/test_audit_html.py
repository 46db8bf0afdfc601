"""``report.html`` rendered by headless Chromium shows the key numbers and fetches nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardkit.cli import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render(page: Path, profile: Path) -> str:
    """The DOM after Chromium has loaded the page from disk, with networking shut off."""
    cmd = [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=True)
    return done.stdout


def tile(dom: str, key: str) -> str:
    match = re.search(rf'data-key="{key}"><span class="v">([^<]*)</span>', dom)
    assert match, f"no tile {key}"
    return match.group(1)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian 'chromium' is not installed")
def test_report_html_shows_key_numbers_in_chromium(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    suite, responses = suite_files
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(suite),
            "--policy",
            str(policy_file),
            "--responses",
            str(responses),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert not re.search(r"(src|href)=\"?https?:", page)  # self-contained
    assert "default-src 'none'" in page
    dom = render(out / "report.html", tmp_path / "profile")
    report = json.loads((out / "report.json").read_text())
    assert tile(dom, "cases") == "40"
    assert tile(dom, "reliable") == str(report["reliable"]) == "37"
    assert tile(dom, "rcr") == "92.5 %"
    low, high = report["rcr_ci"]
    assert tile(dom, "rcr_ci") == f"[{low * 100:.1f} %, {high * 100:.1f} %]"
    assert tile(dom, "cost_per_reliable") == f"{report['cost_per_reliable']:.6g} USD"
    assert dom.count("<svg") >= 5
    assert re.findall(r'<tr data-case="([^"]+)"', dom) == ["c10", "c21", "c32"]  # not reliable


def test_unpriced_cases_and_expected_answers_are_shown(
    policy_file: Path, suite_files: tuple[Path, Path], tmp_path: Path
) -> None:
    from guardkit.audit import AuditReport
    from guardkit.audit.html import render_html

    suite, responses = suite_files
    out = tmp_path / "out"
    args = ["audit", str(suite), "--policy", str(policy_file), "--responses", str(responses)]
    assert CliRunner().invoke(app, [*args, "--out", str(out)]).exit_code == 0
    report = AuditReport.model_validate_json((out / "report.json").read_text())
    plain = render_html(report)
    assert "lower bound" not in plain and "expected answer" not in plain
    shown = render_html(report.model_copy(update={"unpriced_cases": 3, "expected_match_rate": 0.5}))
    assert "lower bound: 3 of 40 cases unpriced" in shown
    assert 'data-key="expected_match_rate"><span class="v">50.0 %' in shown
    checked = report.model_copy(update={"expected_match_rate": 1.0, "expected_checked": 4})
    assert "expected answer (of 4 answered cases that name one)" in render_html(checked)
    assert 'data-key="cost_total"><span class="v">not priced' not in plain
    unpriced = report.model_copy(update={"unpriced_cases": report.cases, "cost_total": 0.0})
    assert 'data-key="cost_total"><span class="v">not priced' in render_html(unpriced)
