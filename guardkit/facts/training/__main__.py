"""``python -m guardkit.facts.training --data DIR --out FOLDER``: the shipped embedder's recipe."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from guardkit._signals import exit_on_terminate
from guardkit.facts._embed_onnx import PLAIN_EMBEDDER, OnnxEmbedder
from guardkit.facts.training.citint import citint_pairs
from guardkit.facts.training.loop import EmbedderTrainConfig, train_embedder
from guardkit.facts.training.pairs import mine_negatives


def main(argv: list[str] | None = None) -> None:
    """Pairs from CitInt train, negatives mined with the plain int8 MiniLM, one epoch."""
    exit_on_terminate()
    p = argparse.ArgumentParser(prog="python -m guardkit.facts.training")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--base",
        type=Path,
        help="sentence-transformers folder to fine-tune (default: the bundled MiniLM), "
        "e.g. a distilled student's (`distill --save-source`).",
    )
    a = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("guardkit").setLevel(logging.INFO)  # progress, not the quantizer's notes
    pairs, corpus = citint_pairs(a.data)
    pairs = mine_negatives(pairs, corpus, OnnxEmbedder(PLAIN_EMBEDDER).encode)
    config = EmbedderTrainConfig(
        epochs=a.epochs, lr=a.lr, batch_size=a.batch_size, seed=a.seed, threads=a.threads
    )
    manifest = train_embedder(
        pairs,
        a.out,
        base=a.base,
        config=config,
        model_id=f"guardkit/{a.out.name}+int8",
        data=(
            f"CitInt claims_train.jsonl: {len(pairs)} (claim, gold evidence sentence) pairs; "
            "10 hard negatives each, mined from corpus.jsonl with embedder-minilm-l6-int8 "
            "(nearest 3 non-gold passed over)"
        ),
        command=(
            f"python -m guardkit.facts.training --data DATA --out {a.out.name} "
            f"--epochs {a.epochs} --lr {a.lr} --batch-size {a.batch_size} --seed {a.seed}"
            + ("" if a.base is None else f" --base {a.base.name}")
        ),
    )
    print(f"wrote {a.out} (model id {manifest.model_id})")


if __name__ == "__main__":
    main()
