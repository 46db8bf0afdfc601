"""The contrastive stage: each query against its positive, the batch's other passages and its
hard negatives (multiple-negatives ranking loss), then export to an int8 embedder folder."""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardkit._files import sha256_file
from guardkit.errors import ConfigError
from guardkit.facts._embed import DEFAULT_MODEL_ID
from guardkit.facts._embed_export import export_embedder, source_folder
from guardkit.facts._embed_onnx import (
    EmbedderDistillation,
    EmbedderManifest,
    EmbedderTraining,
    write_embedder_manifest,
)
from guardkit.facts.training._steps import Steps
from guardkit.facts.training.pairs import RetrievalPair, pairs_sha256

__all__ = ["EmbedderTrainConfig", "train_embedder"]

log = logging.getLogger(__name__)


class EmbedderTrainConfig(BaseModel):
    """How long and how hard to train; the defaults made the shipped embedder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int = Field(1, ge=1)
    lr: float = Field(2e-5, gt=0)
    batch_size: int = Field(32, ge=2)
    scale: float = Field(20.0, gt=0)
    """Cosine similarities are multiplied by this before the softmax (temperature 1/20)."""
    seed: int = 0
    threads: int = Field(2, ge=1)


def train_embedder(
    pairs: Sequence[RetrievalPair],
    out: Path,
    *,
    base: Path | None = None,
    config: EmbedderTrainConfig | None = None,
    model_id: str | None = None,
    data: str = "",
    command: str = "",
) -> EmbedderManifest:
    """Fine-tune ``base`` (default: the bundled all-MiniLM-L6-v2) on ``pairs``; write ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer

    cfg = config or EmbedderTrainConfig()
    if len(pairs) < 2:
        raise ConfigError(f"{len(pairs)} pair(s): in-batch training needs at least 2")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    src = source_folder(base)
    model = SentenceTransformer(str(src), device="cpu")
    started = time.perf_counter()
    steps, loss = _fit(model, list(pairs), cfg, rng)
    base_id = DEFAULT_MODEL_ID if base is None else src.name
    training = EmbedderTraining(
        base_model=base_id,
        base_sha256=sha256_file(src / "model.safetensors"),
        data=data,
        pairs=len(pairs),
        pairs_sha256=pairs_sha256(pairs),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        scale=cfg.scale,
        seed=cfg.seed,
        steps=steps,
        final_loss=loss,
        seconds=round(time.perf_counter() - started, 1),
        command=command,
    )
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        manifest = export_embedder(out, source=Path(tmp), model_id=model_id or f"{out.name}+int8")
    final = manifest.model_copy(
        update={
            "source_model": f"{base_id}, fine-tuned by guardkit",
            "training": training,
            "distillation": _distillation_of(src),
            "made_by": "guardkit models train-embedder",
        }
    )
    write_embedder_manifest(out, final)
    return final


def _distillation_of(base: Path) -> EmbedderDistillation | None:
    """How ``base`` was distilled, when it is a student saved by ``distill --save-source``."""
    from guardkit.facts.training.distill import DISTILLATION_RECORD

    path = base / DISTILLATION_RECORD
    if not path.is_file():
        return None
    try:
        return EmbedderDistillation.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"]
        raise ConfigError(f"invalid distillation record: {msg}", file=str(path)) from None


def _fit(
    model: Any, pairs: list[RetrievalPair], cfg: EmbedderTrainConfig, rng: random.Random
) -> tuple[int, float]:
    import torch
    import torch.nn.functional as F

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts)
        return F.normalize(model(features)["sentence_embedding"], dim=-1)

    total = cfg.epochs * -(-len(pairs) // cfg.batch_size)
    steps = Steps(model, cfg.lr, total, warmup=max(1, total // 10))
    model.train()
    loss_value = float("nan")
    for _ in range(cfg.epochs):
        order = pairs[:]
        rng.shuffle(order)
        for lo in range(0, len(order), cfg.batch_size):
            batch = order[lo : lo + cfg.batch_size]
            passages = [p.positive for p in batch]
            passages += [rng.choice(p.negatives) for p in batch if p.negatives]
            logits = cfg.scale * embed([p.query for p in batch]) @ embed(passages).T
            for i, p in enumerate(batch):  # another copy of the query's own passage is no negative
                for j, text in enumerate(passages):
                    if j != i and text == p.positive:
                        logits[i, j] = -1e4
            loss_value = steps(F.cross_entropy(logits, torch.arange(len(batch))))
            if steps.taken % 10 == 0 or steps.taken == total:
                log.info("step %d/%d loss %.3f", steps.taken, total, loss_value)
    model.eval()
    return steps.taken, loss_value
