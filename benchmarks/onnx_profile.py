"""Where an ONNX encoder spends its time: one 128-token input, one thread, onnxruntime's profiler.

    .venv/bin/python benchmarks/onnx_profile.py [MODEL.onnx ...] [--runs 40]

Prints, per model file, inputs/s on one thread and the share of kernel time per operator type
(the operators that decide whether an export or fusion change helps). Defaults to the shipped
verifier.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guardkit.verifier import DEFAULT_MODEL  # noqa: E402


def profile(path: Path, runs: int, length: int = 128) -> tuple[float, dict[str, float]]:
    """(inputs/s on one thread, share of kernel time per operator type)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    opts.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "profile")
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {
        "input_ids": rng.integers(1000, 20000, (1, length)).astype(np.int64),
        "attention_mask": np.ones((1, length), np.int64),
        "token_type_ids": np.zeros((1, length), np.int64),
    }
    feed = {i.name: feed[i.name] for i in session.get_inputs()}
    for _ in range(5):
        session.run(None, feed)
    t0 = time.perf_counter()
    for _ in range(runs):
        session.run(None, feed)
    rate = runs / (time.perf_counter() - t0)
    events = json.loads(Path(session.end_profiling()).read_text())
    per_op: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"]
    total = sum(per_op.values())
    return rate, {op: us / total for op, us in per_op.most_common()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("models", nargs="*", type=Path, default=[DEFAULT_MODEL / "model.onnx"])
    p.add_argument("--runs", type=int, default=40)
    a = p.parse_args()
    for path in a.models:
        rate, shares = profile(path, a.runs)
        print(f"{path}: {rate:.1f} inputs/s at 128 tokens, one thread")
        for op, share in list(shares.items())[:10]:
            print(f"  {op:28s} {share * 100:5.1f} %")


if __name__ == "__main__":
    main()
