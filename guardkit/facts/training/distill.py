"""A shallower embedder taught to give a deeper one's vectors (knowledge distillation).

Half the encoder layers is half the multiply-adds per fact, so twice the facts embedded per
second. The student starts as the bundled all-MiniLM-L6-v2 with only ``layers`` kept and learns,
text by text, to point where the teacher embedder points (loss: one minus their cosine). No
labels are needed: any text of the kind the index will hold teaches it. A share of the texts is
held apart and the student's agreement with the teacher on them goes into the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guardkit._files import sha256_file, write_atomic
from guardkit._signals import exit_on_terminate
from guardkit.errors import ConfigError, GuardkitError
from guardkit.facts._embed import DEFAULT_MODEL_ID
from guardkit.facts._embed_export import export_embedder, source_folder
from guardkit.facts._embed_onnx import (
    EmbedderDistillation,
    EmbedderManifest,
    OnnxEmbedder,
    read_embedder_manifest,
    write_embedder_manifest,
)
from guardkit.facts.training._steps import Steps

__all__ = ["DISTILLATION_RECORD", "DistillConfig", "distill_embedder", "texts_sha256"]

log = logging.getLogger("guardkit.facts.training.distill")  # also when run with -m

DISTILLATION_RECORD = "guardkit-distillation.json"
"""Written beside a saved student's weights, so a fine-tune of it names where it came from."""


class DistillConfig(BaseModel):
    """Which layers the student keeps and how it is trained; the defaults made the shipped one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    layers: tuple[int, ...] = (0, 3, 5)
    """Indexes of the base encoder's layers the student keeps, in order. Keeping the last
    layer matters: on 4,000 texts (0, 3, 5) reached cosine 0.86 to the teacher, (0, 2, 4) 0.67."""
    epochs: int = Field(2, ge=1)
    lr: float = Field(6e-4, gt=0)
    batch_size: int = Field(64, ge=2)
    max_tokens: int = Field(128, ge=8)
    """Training texts are cut to this many tokens (fact sentences are far shorter)."""
    held_out: float = Field(0.02, ge=0, lt=0.5)
    """Share of the texts kept out of training to measure agreement with the teacher."""
    seed: int = 0
    threads: int = Field(2, ge=1)

    @field_validator("layers")
    @classmethod
    def _distinct_layers(cls, layers: tuple[int, ...]) -> tuple[int, ...]:
        if not layers or min(layers) < 0 or list(layers) != sorted(set(layers)):
            raise ValueError(f"{list(layers)}: give distinct layer indexes from 0, ascending")
        return layers


def texts_sha256(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\n")
    return digest.hexdigest()


def distill_embedder(
    texts: Sequence[str],
    teacher: Path,
    out: Path,
    *,
    config: DistillConfig | None = None,
    model_id: str | None = None,
    data: str = "",
    command: str = "",
    source_out: Path | None = None,
) -> EmbedderManifest:
    """Train a student of the bundled MiniLM on the ``teacher`` folder's vectors; write ``out``
    (and, with ``source_out``, the student's sentence-transformers folder, to train further)."""
    import torch
    from sentence_transformers import SentenceTransformer

    cfg = config or DistillConfig()
    unique = sorted(set(t for t in texts if t.strip()))
    if len(unique) < 2 * cfg.batch_size:
        raise ConfigError(
            f"{len(unique)} distinct text(s): distillation needs at least {2 * cfg.batch_size}"
        )
    _check_targets(teacher, out, source_out)
    teacher_manifest = read_embedder_manifest(teacher)  # a wrong folder fails before loading
    src = source_folder(None)
    depth = int(json.loads((src / "config.json").read_text())["num_hidden_layers"])
    if max(cfg.layers) >= depth:
        raise ConfigError(f"layers {list(cfg.layers)}: the base model has layers 0..{depth - 1}")
    student = SentenceTransformer(str(src), device="cpu")
    _keep_layers(student, cfg.layers)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    rng.shuffle(unique)
    n_held = int(len(unique) * cfg.held_out)
    held, train = unique[:n_held], unique[n_held:]
    started = time.perf_counter()
    log.info("teacher vectors for %d training texts", len(train))
    targets = OnnxEmbedder(teacher, threads=cfg.threads).encode(train)
    steps, loss = _fit(student, train, targets, cfg, rng)
    seconds = round(time.perf_counter() - started, 1)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            student.save(tmp)
            manifest = export_embedder(
                staging, source=Path(tmp), model_id=model_id or f"{out.name}+int8"
            )
        agreement = _agreement(staging, teacher, held) if held else None
        record = EmbedderDistillation(
            teacher_model=teacher_manifest.model_id,
            teacher_sha256=teacher_manifest.files["model.onnx"],
            base_model=DEFAULT_MODEL_ID,
            base_sha256=sha256_file(src / "model.safetensors"),
            layers=list(cfg.layers),
            data=data,
            texts=len(train),
            texts_sha256=texts_sha256(train),
            held_out=len(held),
            held_out_cosine_mean=None if agreement is None else agreement[0],
            held_out_cosine_p01=None if agreement is None else agreement[1],
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            seed=cfg.seed,
            steps=steps,
            final_loss=loss,
            seconds=seconds,
            command=command,
        )
        final = manifest.model_copy(
            update={
                "source_model": f"{DEFAULT_MODEL_ID}, {len(cfg.layers)} of its layers, "
                f"distilled from {teacher_manifest.model_id} by guardkit",
                "distillation": record,
                "made_by": "python -m guardkit.facts.training.distill",
            }
        )
        write_embedder_manifest(staging, final)
        if source_out is not None:  # a fine-tune of the student keeps this record
            source_out.mkdir(parents=True, exist_ok=True)
            student.save(str(source_out))
            write_atomic(source_out / DISTILLATION_RECORD, record.model_dump_json(indent=2) + "\n")
        staging.replace(out)  # only a finished student ever stands at ``out``
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _check_targets(teacher: Path, out: Path, source_out: Path | None) -> None:
    """Refuse, before any work, to write over the teacher, each other or anything there."""
    targets = {"--out": out, **({"--save-source": source_out} if source_out else {})}
    for option, path in targets.items():
        if path.resolve() == teacher.resolve():
            raise ConfigError(
                f"{option} is the teacher's folder: it would be overwritten", file=str(path)
            )
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ConfigError(
                f"{option} exists and is not an empty folder; nothing written", file=str(path)
            )
    if source_out is not None and source_out.resolve() == out.resolve():
        raise ConfigError("--save-source and --out must be two folders", file=str(out))


def _keep_layers(model: Any, layers: Sequence[int]) -> None:
    import torch

    encoder = model[0].auto_model.encoder
    depth = len(encoder.layer)
    if max(layers) >= depth:
        raise ConfigError(f"layers {list(layers)}: the base model has layers 0..{depth - 1}")
    encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in layers])
    model[0].auto_model.config.num_hidden_layers = len(layers)


def _fit(
    model: Any, texts: list[str], targets: np.ndarray, cfg: DistillConfig, rng: random.Random
) -> tuple[int, float]:
    import torch
    import torch.nn.functional as F

    window = model.max_seq_length
    model.max_seq_length = cfg.max_tokens  # only while training: the export keeps the window
    total = cfg.epochs * -(-len(texts) // cfg.batch_size)
    steps = Steps(model, cfg.lr, total, warmup=max(1, total // 20))
    goal = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))
    model.train()
    running = float("nan")
    for _ in range(cfg.epochs):
        for rows in _batches(texts, cfg.batch_size, rng):
            features = model.preprocess([texts[i] for i in rows])
            vectors = F.normalize(model(features)["sentence_embedding"], dim=-1)
            value = steps((1.0 - (vectors * goal[rows]).sum(dim=-1)).mean())
            running = value if running != running else 0.98 * running + 0.02 * value
            if steps.taken % 50 == 0 or steps.taken == total:
                log.info("step %d/%d loss %.4f", steps.taken, total, running)
    model.eval()
    model.max_seq_length = window
    return steps.taken, running


def _batches(texts: list[str], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of texts of like length: little padding, so about twice the speed."""
    order = list(range(len(texts)))
    rng.shuffle(order)
    pool = 50 * size
    batches = []
    for lo in range(0, len(order), pool):
        chunk = sorted(order[lo : lo + pool], key=lambda i: len(texts[i]))
        batches += [chunk[b : b + size] for b in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def _agreement(student: Path, teacher: Path, texts: list[str]) -> tuple[float, float]:
    """Mean and 1st-percentile cosine between the exported student and the teacher."""
    cosines = (OnnxEmbedder(student).encode(texts) * OnnxEmbedder(teacher).encode(texts)).sum(1)
    return float(cosines.mean()), float(np.percentile(cosines, 1))


def main(argv: list[str] | None = None) -> None:
    """``python -m guardkit.facts.training.distill``: the shipped 3-layer embedder's recipe.

    Bad input ends with one line on stderr and exit code 2, before any training."""
    exit_on_terminate()
    try:
        _main(argv)
    except GuardkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _main(argv: list[str] | None) -> None:
    import argparse

    from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER
    from guardkit.facts.training.corpora import distillation_texts

    p = argparse.ArgumentParser(prog="python -m guardkit.facts.training.distill")
    p.add_argument("--out", type=Path, required=True, help="New embedder folder to write.")
    p.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="Data folder (see PROVENANCE)."
    )
    p.add_argument("--teacher", type=Path, default=DEFAULT_EMBEDDER, help="Embedder to imitate.")
    p.add_argument("--layers", default="0,3,5", help="Base layers kept, ascending.")
    p.add_argument("--per-source", type=int, default=15000, help="Texts per data source.")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--save-source", type=Path, help="Also write the student as a sentence-transformers folder."
    )
    a = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("guardkit").setLevel(logging.INFO)
    config = _config(a)
    _check_targets(a.teacher, a.out, a.save_source)  # before minutes of reading data
    read_embedder_manifest(a.teacher)
    if a.per_source < 1:
        raise ConfigError(f"--per-source must be at least 1, got {a.per_source}")
    texts, about = distillation_texts(a.data, a.per_source, a.seed)
    manifest = distill_embedder(
        texts,
        a.teacher,
        a.out,
        config=config,
        model_id=f"guardkit/{a.out.name}+int8",
        data=about,
        command=(
            f"python -m guardkit.facts.training.distill --data DATA --out {a.out.name} "
            f"--layers {a.layers} --per-source {a.per_source} --epochs {a.epochs} "
            f"--lr {a.lr} --batch-size {a.batch_size} --seed {a.seed}"
        ),
        source_out=a.save_source,
    )
    print(f"wrote {a.out} (model id {manifest.model_id})")


def _config(a: Any) -> DistillConfig:
    try:
        layers = tuple(int(i) for i in a.layers.split(","))
    except ValueError:
        raise ConfigError(f"--layers {a.layers!r}: give layer numbers, e.g. 0,3,5") from None
    depth = int(json.loads((source_folder(None) / "config.json").read_text())["num_hidden_layers"])
    if any(i >= depth for i in layers):
        raise ConfigError(f"--layers {a.layers}: the base model has layers 0..{depth - 1}")
    try:
        return DistillConfig(
            layers=layers,
            epochs=a.epochs,
            lr=a.lr,
            batch_size=a.batch_size,
            seed=a.seed,
            threads=a.threads,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        option = "--" + str(err["loc"][0]).replace("_", "-")
        raise ConfigError(f"{option}: {err['msg']}") from None


if __name__ == "__main__":
    main()
