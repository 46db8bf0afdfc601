"""``guardkit score`` on HaluEval test rows, run as the issue's checker runs it: the command line.

For each task it writes one JSONL line per response (the faithful and the hallucinated one of
each test row, line ``i`` with ``i % 5 == 0``), runs ``guardkit score`` on it and computes
balanced accuracy (``hallucinated``) and AUROC (``risk``) from the output lines. Two layouts:

- ``fields``: ``context`` = the knowledge (QA, dialogue) or the document (summarisation), with
  HaluEval's own ``question`` / ``dialogue_history`` kept as fields of the line;
- ``bare``: the same lines without those fields (the knowledge alone), for comparison.

    .venv/bin/python benchmarks/halueval_cli.py --data ../shared/data --work /tmp/hcli \
        [--rows 300] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

_TASKS = {
    "qa": ("knowledge", "question", "right_answer", "hallucinated_answer"),
    "dialogue": ("knowledge", "dialogue_history", "right_response", "hallucinated_response"),
    "summarization": ("document", None, "right_summary", "hallucinated_summary"),
}


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def _lines(data: Path, task: str, rows: int, keep_fields: bool) -> list[dict]:
    context, replied_to, right, bad = _TASKS[task]
    out = []
    with (data / "halueval" / f"{task}.jsonl").open() as fh:
        test = (json.loads(line) for i, line in enumerate(fh) if i % 5 == 0)
        for n, row in enumerate(test):
            if n >= rows:
                break
            for response, label in ((row[right], False), (row[bad], True)):
                line = {"id": f"{task}-{n}-{int(label)}", "context": row[context]}
                if replied_to and keep_fields:
                    line[replied_to] = row[replied_to]
                out.append({**line, "response": response, "label": label})
    return out


def run(data: Path, work: Path, rows: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    for task in _TASKS:
        for layout in ("fields", "bare") if _TASKS[task][1] else ("fields",):
            src, out = work / f"{task}-{layout}.jsonl", work / f"{task}-{layout}.out.jsonl"
            lines = _lines(data, task, rows, layout == "fields")
            src.write_text("".join(json.dumps(x) + "\n" for x in lines))
            t0 = time.perf_counter()
            cmd = [sys.executable, "-m", "guardkit", "score", "--pairs", str(src)]
            subprocess.run([*cmd, "--out", str(out)], check=True, capture_output=True)
            secs = time.perf_counter() - t0
            scored = [json.loads(x) for x in out.read_text().splitlines()]
            y = np.array([int(x["label"]) for x in scored])
            flag = np.array([int(x["hallucinated"]) for x in scored])
            risk = np.array([x["risk"] for x in scored])
            results[f"{task}/{layout}"] = {
                "responses": len(scored),
                "balanced_accuracy": round(
                    float((flag[y == 1] == 1).mean() + (flag[y == 0] == 0).mean()) / 2, 4
                ),
                "accuracy": round(float((flag == y).mean()), 4),
                "auroc": round(_auroc(y, risk), 4),
                "seconds": round(secs, 1),
            }
            print(task, layout, results[f"{task}/{layout}"], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding halueval/")
    parser.add_argument("--work", type=Path, required=True, help="where the JSONL files go")
    parser.add_argument("--rows", type=int, default=300, help="test rows per task")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = run(args.data, args.work, args.rows)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
