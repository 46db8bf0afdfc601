"""Per-claim risk against per-claim plus whole-response risk, on calibration rows only.

The calibration step picks a response's aggregation; this shows what each choice gives per
HaluEval task on rows it may use (``i % 5 == 1``), never on test rows.

    python benchmarks/verifier_aggregation.py --data ../shared/data [--model DIR ...]
        [--task summarization] [--rows 250] [--seed 99] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier
from guardkit.verifier.metrics import auroc
from guardkit.verifier.scoring import AGGREGATIONS, raw_risks
from guardkit.verifier.training.halueval import TASKS, response_pairs, rows


def measure(model: Path, data: Path, task: str, n_rows: int, seed: int) -> dict[str, float]:
    picked = [r for _, r in rows(data / "halueval", task, "calibration")]
    random.Random(seed).shuffle(picked)
    responses = [x for row in picked[:n_rows] for x in response_pairs(task, row)]
    y = np.asarray([bad for _, _, bad in responses])
    verifier = OnnxVerifier(model)
    raws, _ = raw_risks(
        verifier, [(c, r) for c, r, _ in responses], verifier.manifest.calibration.temperature
    )
    return {"responses": float(len(y))} | {how: auroc(y, raws[how]) for how in AGGREGATIONS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", type=Path, action="append", default=None)
    ap.add_argument("--task", choices=TASKS, default="summarization")
    ap.add_argument("--rows", type=int, default=250)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    results = {}
    for model in args.model or [DEFAULT_MODEL]:
        r = measure(model, args.data, args.task, args.rows, args.seed)
        results[str(model)] = r
        aucs = ", ".join(f"{how} {r[how]:.4f}" for how in AGGREGATIONS)
        print(f"{model.name} {args.task}, {int(r['responses'])} responses: AUROC {aucs}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
