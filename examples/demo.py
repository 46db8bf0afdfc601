"""The main job on the embedded defaults: build a fact index, audit a support bot, report.

Offline, on CPU: the help centre of a fictional e-bike shop becomes a fact index (bundled
all-MiniLM-L6-v2 embeddings, FAISS); each question of the suite is answered by the embedded
SmolLM2-135M-Instruct model through the guard, whose facts and risk checks use guardkit's own
verifier; the audit writes records.jsonl, report.json and a self-contained report.html.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from guardkit.cli import app

HERE = Path(__file__).resolve().parent / "support-bot"
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/demo").resolve()


def run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    print(result.output, end="")
    if result.exit_code != 0:
        raise SystemExit(result.exit_code)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    index, audit = OUT / "index", OUT / "audit"
    run("index", "build", str(HERE / "facts.md"), "--out", str(index))
    run(
        "audit",
        str(HERE / "suite.jsonl"),
        "--policy",
        str(HERE / "policy.yaml"),
        "--index",
        str(index),
        "--model",
        "local",
        "--max-tokens",
        "96",
        "--out",
        str(audit),
    )
    report = json.loads((audit / "report.json").read_text())
    low, high = report["rcr_ci"]
    print(
        f"\n{report['reliable']}/{report['cases']} reliable completions "
        f"(rate {report['rcr']:.2f}, 95% CI {low:.2f}-{high:.2f}); outcomes {report['outcomes']}"
    )
    for case in report["not_reliable"]:
        print(f"  {case['id']:<18} {case['outcome']:<8} {case['reason'][:160]}")
    print(f"report: {audit / 'report.html'}\nrecords: {audit / 'records.jsonl'}")


if __name__ == "__main__":
    main()
