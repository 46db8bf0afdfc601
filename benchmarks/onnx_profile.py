"""Where an ONNX encoder spends its time: one 128-token input, one thread, onnxruntime's profiler.

    .venv/bin/python benchmarks/onnx_profile.py [MODEL.onnx ...] [--runs 40] [--length 128]
        [--disable SkipLayerNormFusion ...]

Prints, per model file, inputs/s on one thread and, per operator type, its share of kernel time,
its node count and the time per node (the operators that decide whether an export or fusion
change helps). ``--disable`` turns off onnxruntime graph optimizers by name, as the runtime does
for ``SkipLayerNormFusion``. Defaults to the shipped verifier.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guardkit.verifier import DEFAULT_MODEL  # noqa: E402


def profile(
    path: Path, runs: int, length: int = 128, disabled: Sequence[str] = ()
) -> tuple[float, dict[str, tuple[float, int, float]]]:
    """(inputs/s on one thread, per operator type: share of kernel time, nodes, us per node)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    opts.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "profile")
    session = ort.InferenceSession(
        str(path), opts, providers=["CPUExecutionProvider"], disabled_optimizers=list(disabled)
    )
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
    nodes: dict[str, set[str]] = collections.defaultdict(set)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"]
            nodes[e["args"]["op_name"]].add(e["name"])
    total = sum(per_op.values())
    calls = runs + 5
    return rate, {
        op: (us / total, len(nodes[op]), us / calls / len(nodes[op]))
        for op, us in per_op.most_common()
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("models", nargs="*", type=Path, default=[DEFAULT_MODEL / "model.onnx"])
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--disable", action="append", default=[], help="onnxruntime optimizer name")
    a = p.parse_args()
    for path in a.models:
        rate, shares = profile(path, a.runs, a.length, a.disable)
        off = f", {', '.join(a.disable)} off" if a.disable else ""
        print(f"{path}: {rate:.1f} inputs/s at {a.length} tokens, one thread{off}")
        for op, (share, count, us) in list(shares.items())[:12]:
            print(f"  {op:28s} {share * 100:5.1f} %  {count:3d} nodes  {us:7.1f} us per node")


if __name__ == "__main__":
    main()
