"""A shallower verifier taught by a deeper one (knowledge distillation).

    python -m guardkit.verifier.training.distill --out DIR [--teacher DIR] [--layers 0,3,5]

Half the encoder layers is half the multiply-adds per pair, so about twice the pairs checked per
second. The student starts as the teacher with only ``layers`` kept (its head included) and
trains on the recipe's pairs (or a user's, ``--pairs``) against both the labels and the
teacher's logits on the very same cut pairs: the teacher's view of "how sure" carries more than
a hard label, and it covers the partial labels (``UNSUPPORTED``) the labels leave open. The
student is then exported, calibrated and described like any verifier, its manifest naming the
teacher (with the sha256 of its graph) and the layers kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from guardkit._files import check_renamable, sha256_file, staged_folder
from guardkit._signals import exit_on_terminate
from guardkit.errors import ConfigError, GuardkitError, ModelError
from guardkit.verifier import DEFAULT_MODEL, model_folder
from guardkit.verifier.manifest import Distillation, Manifest, read_manifest
from guardkit.verifier.runtime import OnnxVerifier
from guardkit.verifier.training.examples import Example
from guardkit.verifier.training.loop import TrainConfig, encode_batch, fast_bf16, train
from guardkit.verifier.training.mix import Mix, build_mix, read_user_pairs, repeat_option
from guardkit.verifier.training.model import keep_layers, load_trainable
from guardkit.verifier.training.pipeline import (
    command_line,
    finish,
    training_info,
    untrained_warning,
)
from guardkit.verifier.types import LABELS

__all__ = ["DEFAULT_LAYERS", "distill_verifier", "teacher_logits"]

log = logging.getLogger("guardkit.verifier.training")

DEFAULT_LAYERS = (0, 3, 5)
"""As for the embedder's student (``guardkit.facts.training.distill``): the first layer, one
from the middle and the last, whose output the head was trained to read."""


def teacher_logits(
    teacher: OnnxVerifier, examples: Sequence[Example], max_length: int
) -> list[Example]:
    """``examples`` with the teacher's raw logits on each pair as the student will see it (the
    evidence cut to ``max_length`` tokens as in training, each pair run alone: int8 activations
    are scaled per run). Repeated pairs are run once."""
    tokenizer = Tokenizer.from_file(str(teacher.folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    unique = list(dict.fromkeys((e.evidence, e.claim) for e in examples))
    logits: dict[tuple[str, str], tuple[float, float, float]] = {}
    start, chunk = time.monotonic(), 512
    for at in range(0, len(unique), chunk):
        pairs = unique[at : at + chunk]
        feeds = [
            {k: v.numpy() for k, v in encode_batch(tokenizer, [pair], max_length).items()}
            for pair in pairs
        ]
        for pair, row in zip(pairs, teacher.encoded_logits(feeds), strict=True):
            logits[pair] = (float(row[0]), float(row[1]), float(row[2]))
        done = at + len(pairs)
        rate = done / (time.monotonic() - start)
        log.info("teacher logits %d/%d %.0f pairs/s", done, len(unique), rate)
    return [dataclasses.replace(e, teacher=logits[e.evidence, e.claim]) for e in examples]


def _check_out(out: Path, teacher: Path) -> None:
    if out.resolve() == teacher.resolve():
        raise ConfigError("the student cannot be written over its teacher", loc=("out",))
    check_renamable(out)  # before the work: staged_folder would refuse it only at the end
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out} is not an empty folder; the student needs a new one", loc=("out",)
        )


def _check_config(cfg: TrainConfig, layers: Sequence[int], teacher: OnnxVerifier) -> None:
    """What would only fail after the teacher's labelling and the training, refused first."""
    positive = {
        name: math.isfinite(value) and value > 0.0
        for name, value in (
            ("distill_temperature", cfg.distill_temperature),
            ("budget_minutes", cfg.budget_minutes),
            ("lr", cfg.lr),
            ("head_lr", cfg.head_lr),
        )
    }
    checks: list[tuple[bool, str, str]] = [
        (0.0 < cfg.distill_weight <= 1.0, "distill_weight", "is a share in (0, 1]"),
        *((ok, name, "must be a number above 0") for name, ok in positive.items()),
        (cfg.threads >= 1, "threads", "must be at least 1"),
        (cfg.batch_size >= 1, "batch_size", "must be at least 1"),
        (cfg.epochs >= 1, "epochs", "must be at least 1"),
        (
            cfg.freeze_layers < len(layers),
            "freeze_layers",
            f"must leave some of the student's {len(layers)} layers to train",
        ),
        (
            cfg.max_length <= teacher.manifest.max_length,
            "max_length",
            f"cannot exceed the teacher's {teacher.manifest.max_length} tokens",
        ),
    ]
    for ok, field, rule in checks:
        if not ok:
            raise ConfigError(f"{field} {rule}, got {getattr(cfg, field)}", loc=(field,))
    m = teacher.manifest
    if m.labels != list(LABELS) or m.pair_order != "evidence_claim":
        raise ConfigError(
            f"the teacher's outputs must be {list(LABELS)} on (evidence, claim) pairs; this "
            f"one gives {m.labels} on {m.pair_order}",
            file=str(teacher.folder / "manifest.json"),
        )


def distill_verifier(
    out: Path,
    *,
    teacher: Path = DEFAULT_MODEL,
    layers: Sequence[int] = DEFAULT_LAYERS,
    data: Path | None = None,
    pairs: Path | None = None,
    cfg: TrainConfig | None = None,
    calib_rows: int = 150,
    repeat: dict[str, int] | None = None,
    name: str | None = None,
) -> Manifest:
    """Distil the verifier ``teacher`` into a student of its ``layers`` in model folder ``out``.

    Training pairs come from ``pairs`` (a user's JSONL) or the recipe over ``data``. The student
    is built in a staging folder beside ``out`` and renamed to it when finished, so ``out``
    never holds a half-made model.
    """
    cfg = cfg or TrainConfig(distill_weight=0.7, freeze_layers=0)
    teacher = model_folder(teacher)  # a shipped one may be named by its folder name
    _check_out(out, teacher)
    if (pairs is None) == (data is None):
        raise ConfigError("give either data (the recipe) or pairs (your own)", loc=("data",))
    if pairs is not None and repeat:
        raise ConfigError("repeat applies to the recipe's sources, not to pairs", loc=("repeat",))
    verifier = OnnxVerifier(teacher, intra_op_threads=max(1, cfg.threads))  # checks the files
    _check_config(cfg, layers, verifier)
    model, tokenizer_file = load_trainable(teacher)
    try:
        keep_layers(model, layers)
    except ValueError as exc:
        raise ConfigError(str(exc), loc=("layers",)) from None
    if pairs is not None:
        mix: Mix = read_user_pairs(pairs, cfg.seed)
    else:
        assert data is not None
        mix = build_mix(data, cfg.seed, calib_rows=calib_rows, repeat=repeat)
    started = time.monotonic()
    examples = teacher_logits(verifier, mix.train, cfg.max_length)
    labelling = time.monotonic() - started
    log.info("training pairs %d: %s", len(examples), mix.counts())
    with staged_folder(out) as staging:  # only a finished student ever stands at ``out``
        result = train(model, tokenizer_file, examples, staging, cfg)
        log.info("trained: %s", result)
        info = training_info(
            mix,
            cfg,
            result,
            f"{verifier.manifest.name} layers {', '.join(map(str, layers))} "
            "(int8 ONNX weights dequantized)",
            command_line("guardkit.verifier.training.distill"),
            Distillation(
                teacher=verifier.manifest.name,
                teacher_sha256=sha256_file(teacher / "model.onnx"),
                layers=list(layers),
                weight=cfg.distill_weight,
                temperature=cfg.distill_temperature,
                teacher_seconds=round(labelling, 1),
            ),
        )
        try:
            finish(staging, mix, cfg, info, result, name or out.name)
        except ModelError as exc:  # about the staging folder, which goes: name the student's
            raise ModelError(exc.message, file=str(out), hint=exc.hint) from None
        problem = untrained_warning(staging)
        if problem is not None:  # every loader would refuse it: no student is better
            raise ModelError(problem, file=str(out))
    return read_manifest(out)


def _layers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"layers are comma-separated numbers, got {text!r}"
        ) from None


def main(argv: list[str] | None = None) -> None:
    """Command line entry."""
    exit_on_terminate()
    p = argparse.ArgumentParser(prog="python -m guardkit.verifier.training.distill")
    p.add_argument("--out", type=Path, required=True, help="a new folder for the student")
    p.add_argument("--teacher", type=Path, default=DEFAULT_MODEL, help="default: the shipped one")
    p.add_argument("--layers", type=_layers, default=DEFAULT_LAYERS, help="e.g. 0,3,5")
    p.add_argument("--data", type=Path, default=None, help="the recipe's data (shared/data)")
    p.add_argument("--pairs", type=Path, default=None, help="your pairs instead of the recipe")
    p.add_argument("--epochs", type=int, default=1, help="passes over the pairs the budget may use")
    p.add_argument(
        "--budget-minutes",
        type=float,
        default=40.0,
        help="training time (the teacher's labelling comes first: ~400 pairs/s on 2 cores)",
    )
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--calib-rows", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--head-lr", type=float, default=1e-4)
    p.add_argument("--weight", type=float, default=0.7, help="share of the teacher's loss")
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--repeat", action="append", default=[], type=repeat_option, metavar="SOURCE=N")
    p.add_argument("--name", default=None, help="model name in the manifest (default: DIR name)")
    a = p.parse_args(argv)
    repeat = dict(a.repeat)
    if (a.pairs is None) == (a.data is None):
        p.error("give --data DIR (the recipe's data sets) or --pairs FILE.jsonl (your own)")
    if a.pairs is not None and repeat:
        p.error("--repeat applies to the recipe's sources, not to --pairs")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = TrainConfig(
        budget_minutes=a.budget_minutes,
        seed=a.seed,
        batch_size=a.batch_size,
        threads=a.threads,
        freeze_layers=0,
        epochs=a.epochs,
        bf16=fast_bf16(),
        lr=a.lr,
        head_lr=a.head_lr,
        distill_weight=a.weight,
        distill_temperature=a.temperature,
    )
    try:
        distill_verifier(
            a.out,
            teacher=a.teacher,
            layers=a.layers,
            data=a.data,
            pairs=a.pairs,
            cfg=cfg,
            calib_rows=a.calib_rows,
            repeat=repeat,
            name=a.name,
        )
    except (GuardkitError, OSError) as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")


if __name__ == "__main__":
    main()
