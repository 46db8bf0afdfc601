"""``python -m guardkit.verifier.training --out DIR --budget-minutes 60``: the shipped recipe."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from guardkit._signals import exit_on_terminate
from guardkit.verifier.training.loop import TrainConfig, fast_bf16
from guardkit.verifier.training.mix import repeat_option
from guardkit.verifier.training.pipeline import run


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run the pipeline."""
    exit_on_terminate()
    p = argparse.ArgumentParser(prog="python -m guardkit.verifier.training")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--pairs", type=Path, default=None, help="user pairs instead of the recipe")
    p.add_argument("--base", type=Path, default=None)
    p.add_argument("--budget-minutes", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--scale", type=float, default=1.0, help="shrink every cap (smoke runs)")
    p.add_argument("--calib-rows", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--freeze-layers", type=int, default=2, help="lowest encoder layers kept as is")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument(
        "--fp32", action="store_true", help="no bf16 autocast even where it is fast (AVX-512)"
    )
    p.add_argument("--epochs", type=int, default=2, help="passes over the mix the budget may use")
    p.add_argument(
        "--repeat",
        action="append",
        default=[],
        type=repeat_option,
        metavar="SOURCE=N",
        help="show one source's pairs N times (e.g. halueval_dialogue=2); repeatable",
    )
    p.add_argument("--lr", type=float, default=4e-5, help="peak learning rate of the encoder")
    p.add_argument(
        "--head-lr",
        type=float,
        default=1e-3,
        help="peak learning rate of the classifier head (lower it when the base is a verifier)",
    )
    p.add_argument("--name", default=None, help="model name in the manifest (default: DIR name)")
    a = p.parse_args(argv)
    repeat = dict(a.repeat)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import transformers

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    cfg = TrainConfig(
        budget_minutes=a.budget_minutes,
        seed=a.seed,
        batch_size=a.batch_size,
        threads=a.threads,
        max_length=a.max_length,
        freeze_layers=a.freeze_layers,
        epochs=a.epochs,
        bf16=fast_bf16() and not a.fp32,
        lr=a.lr,
        head_lr=a.head_lr,
    )
    run(
        a.out,
        data=a.data,
        pairs=a.pairs,
        base=a.base,
        cfg=cfg,
        scale=a.scale,
        calib_rows=a.calib_rows,
        repeat=repeat,
        name=a.name,
    )


if __name__ == "__main__":
    main()
