"""Int8 per tensor vs per channel for a verifier checkpoint: agreement with fp32, accuracy, speed.

    .venv/bin/python benchmarks/quantization.py --checkpoint DIR/checkpoint --data ../shared/data

Exports the torch checkpoint to fp32 ONNX (as ``guardkit models export`` does), quantises it both
ways, and scores 1,200 held-out NLI pairs (600 e-SNLI, 300 CAD-SNLI, 300 DocNLI; never trained
on) with each session: argmax agreement and largest probability difference against fp32,
supported AUROC, accuracy of ``p_supported > 0.5``; then pairs/s on one 32 x 128-token batch,
backends interleaved, at ``--threads``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guardkit._onnx_export import fuse_encoder  # noqa: E402
from guardkit.verifier.export import (  # noqa: E402
    _encode,
    _encoder_config,
    _torch_export,
    load_torch_classifier,
)
from guardkit.verifier.metrics import auroc  # noqa: E402
from guardkit.verifier.training.examples import SUPPORTED  # noqa: E402
from guardkit.verifier.training.nli_sets import NLI_READERS  # noqa: E402

SETS = (("esnli", 600), ("cad_snli", 300), ("docnli_aux", 300))


def session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def probs(sess: ort.InferenceSession, tok: Tokenizer, pairs: list[tuple[str, str]]) -> np.ndarray:
    out = []
    for lo in range(0, len(pairs), 32):
        feed = {k: v[:, :128] for k, v in _encode(tok, pairs[lo : lo + 32]).items()}
        out.append(sess.run(None, feed)[0])
    z = np.concatenate(out).astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    result: np.ndarray = z / z.sum(axis=1, keepdims=True)
    return result


def pairs_per_s(sess: ort.InferenceSession, seconds: float = 4.0) -> float:
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, (32, 128)).astype(np.int64)
    types = np.concatenate([np.zeros((32, 64)), np.ones((32, 64))], axis=1).astype(np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
    sess.run(None, feed)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        sess.run(None, feed)
        n += 32
    return n / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    model, _, tok_file, _ = load_torch_classifier(a.checkpoint)
    tok = Tokenizer.from_file(str(tok_file))
    tok.no_padding()
    tok.no_truncation()
    pairs, labels = [], []
    for name, n in SETS:
        _, held = NLI_READERS[name](a.data / "nli")
        for e in random.Random(5).sample(held, n):
            pairs.append((e.evidence, e.claim))
            labels.append(int(e.label == SUPPORTED))
    y = np.asarray(labels)
    with tempfile.TemporaryDirectory() as tmp:
        raw, fp32 = Path(tmp) / "raw.onnx", Path(tmp) / "fp32.onnx"
        _torch_export(model, raw)
        fuse_encoder(raw, fp32, _encoder_config(model))
        files = {"fp32": fp32}
        for name, per_channel in (("int8 per tensor", False), ("int8 per channel", True)):
            files[name] = Path(tmp) / f"{per_channel}.onnx"
            quantize_dynamic(
                str(fp32),
                str(files[name]),
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        sessions = {name: session(path, a.threads) for name, path in files.items()}
        ref = probs(sessions["fp32"], tok, pairs)
        print(f"{len(pairs)} held-out NLI pairs; {a.threads} thread(s)")
        print(
            "| backend | argmax agreement | max abs diff | supported AUROC | accuracy | pairs/s |"
        )
        print("|---|---|---|---|---|---|")
        speed = {name: [pairs_per_s(s) for _ in range(2)] for name, s in sessions.items()}
        for name, sess in sessions.items():
            got = probs(sess, tok, pairs)
            print(
                f"| {name} | {(got.argmax(1) == ref.argmax(1)).mean():.3f} "
                f"| {np.abs(got - ref).max():.3f} | {auroc(y, got[:, 0]):.3f} "
                f"| {((got[:, 0] > 0.5) == y).mean():.3f} | {np.mean(speed[name]):.1f} |"
            )


if __name__ == "__main__":
    main()
