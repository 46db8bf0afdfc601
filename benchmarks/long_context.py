"""``guardkit score`` when the evidence sits among other passages, run through the command line.

A RAG context holds several retrieved passages, of which one may bear on the claim. This takes
FEVER-Symmetric v0.2 test claims (held out from training; ``nli/SOURCES.md``) with their evidence
sentence, and pads each context with 0, 2, 5, 10 or 20 evidence passages of *other* claims, the
claim's own put at a random place among them (seeded). The same claims appear at every padding
level, so the AUROC per level shows what the extra passages cost alone. Gold: REFUTES and NOT
ENOUGH INFO are hallucinations, SUPPORTS is not.

    .venv/bin/python benchmarks/long_context.py --data ../shared/data --work /tmp/longctx \
        [--claims 400] [--pads 0 2 5 10 20] [--documents] [--model DIR] [--json FILE]

``--documents`` passes the passages as a list of documents instead of one string.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from halueval_cli import _auroc  # the same AUROC as the HaluEval command-line benchmark

_SET = Path("nli/fever_symmetric/symmetric_v0.2/fever_symmetric_test.jsonl")


def _claims(data: Path, n: int, seed: int) -> list[dict]:
    rows = [json.loads(line) for line in (data / _SET).open(encoding="utf-8") if line.strip()]
    random.Random(seed).shuffle(rows)
    return rows[:n]


def _lines(rows: list[dict], pads: list[int], seed: int, as_list: bool) -> list[dict]:
    rng = random.Random(seed)
    passages = sorted({r["evidence"] for r in rows})
    out = []
    for i, row in enumerate(rows):
        others = [p for p in passages if p != row["evidence"]]
        drawn = rng.sample(others, max(pads))
        for pad in pads:
            context = drawn[:pad]
            context.insert(rng.randint(0, pad), row["evidence"])
            out.append(
                {
                    "id": f"{i}-{pad}",
                    "context": context if as_list else " ".join(context),
                    "response": row["claim"],
                    "pad": pad,
                    "label": row["gold_label"] != "SUPPORTS",
                }
            )
    return out


def run(args: argparse.Namespace) -> dict:
    args.work.mkdir(parents=True, exist_ok=True)
    rows = _claims(args.data, args.claims, args.seed)
    lines = _lines(rows, sorted(set(args.pads)), args.seed, args.documents)
    src, out = args.work / "pairs.jsonl", args.work / "scored.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    cmd = [sys.executable, "-m", "guardkit", "score", "--pairs", str(src), "--out", str(out)]
    if args.model:
        cmd += ["--model", str(args.model)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    scored = [json.loads(x) for x in out.read_text().splitlines()]
    results: dict = {"responses": len(scored), "seconds": round(seconds, 1), "by_padding": {}}
    for pad in sorted(set(args.pads)):
        part = [x for x in scored if x["pad"] == pad]
        y = np.array([int(x["label"]) for x in part])
        flag = np.array([int(x["hallucinated"]) for x in part])
        risk = np.array([x["risk"] for x in part])
        results["by_padding"][pad] = {
            "responses": len(part),
            "auroc": round(_auroc(y, risk), 4),
            "balanced_accuracy": round(
                float((flag[y == 1] == 1).mean() + (flag[y == 0] == 0).mean()) / 2, 4
            ),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding nli/")
    parser.add_argument("--work", type=Path, required=True, help="where the JSONL files go")
    parser.add_argument("--claims", type=int, default=400)
    parser.add_argument("--pads", type=int, nargs="+", default=[0, 2, 5, 10, 20])
    parser.add_argument("--seed", type=int, default=45)
    parser.add_argument("--documents", action="store_true", help="context as a list")
    parser.add_argument("--model", type=Path, help="a verifier folder (default: shipped)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = run(args)
    print(f"{results['responses']} responses scored in {results['seconds']} s")
    print("| passages beside the evidence | AUROC | balanced accuracy |\n|---|---|---|")
    for pad, r in results["by_padding"].items():
        print(f"| {pad} | {r['auroc']:.3f} | {r['balanced_accuracy']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
