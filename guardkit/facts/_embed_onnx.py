"""all-MiniLM-L6-v2 on onnxruntime: the same weights as int8, ~3x faster than torch on 2 cores.

An embedder folder is ``model.onnx`` (mean pooling and L2 normalisation inside the graph) +
``tokenizer.json`` + ``manifest.json``, which pins both files by sha256 and records the source
weights and the measured cosine agreement with sentence-transformers. The folder's
``model_id`` and the sha256 of ``model.onnx`` are the identity a fact index records.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tokenizers import Tokenizer

from guardkit._files import write_atomic
from guardkit._onnx import OneByOne, check_pinned_files, cpu_session, default_threads
from guardkit._shipped import SHIPPED_MODELS
from guardkit.errors import ModelError

__all__ = [
    "DEFAULT_EMBEDDER",
    "PLAIN_EMBEDDER",
    "EmbedderDistillation",
    "EmbedderManifest",
    "EmbedderTraining",
    "EmbeddingParity",
    "OnnxEmbedder",
    "bundled_embedders",
    "read_embedder_manifest",
    "write_embedder_manifest",
]

DEFAULT_EMBEDDER = SHIPPED_MODELS / "embedder-minilm-l6-gk1"
"""all-MiniLM-L6-v2 fine-tuned for evidence retrieval (``python -m guardkit.facts.training``)."""
PLAIN_EMBEDDER = SHIPPED_MODELS / "embedder-minilm-l6-int8"
"""all-MiniLM-L6-v2 as released, int8: indexes built before the fine-tune name it."""
MANIFEST = "manifest.json"
_REQUIRED = ("model.onnx", "tokenizer.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddingParity(_Strict):
    """The exported graph against sentence-transformers on the same texts (cosine per text)."""

    compared: str
    n_texts: int = Field(ge=1)
    cosine_min: float
    cosine_mean: float


class EmbedderTraining(_Strict):
    """How a fine-tuned embedder was made (``guardkit models train-embedder``)."""

    base_model: str
    base_sha256: str
    data: str
    pairs: int = Field(ge=2)
    pairs_sha256: str
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=2)
    lr: float
    scale: float
    seed: int
    steps: int = Field(ge=1)
    final_loss: float
    seconds: float
    command: str = ""


class EmbedderDistillation(_Strict):
    """How a shallower student embedder was taught a teacher's vectors (``training.distill``)."""

    teacher_model: str
    teacher_sha256: str
    base_model: str
    base_sha256: str
    layers: list[int] = Field(min_length=1)
    data: str
    texts: int = Field(ge=2)
    texts_sha256: str
    held_out: int = Field(ge=0)
    held_out_cosine_mean: float | None
    held_out_cosine_p01: float | None
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=2)
    lr: float
    seed: int
    steps: int = Field(ge=1)
    final_loss: float
    seconds: float
    command: str = ""


class EmbedderManifest(_Strict):
    """What an embedder folder holds and where its weights came from."""

    kind: Literal["embedder"] = "embedder"
    format_version: Literal[1] = 1
    model_id: str = Field(min_length=1)
    source_model: str
    source_sha256: str
    dim: int = Field(ge=1)
    max_length: int = Field(ge=8)
    pooling: Literal["mean"] = "mean"
    quantized: bool
    files: dict[str, str]
    parity: list[EmbeddingParity] = Field(default_factory=list)
    made_by: str = ""
    training: EmbedderTraining | None = None
    distillation: EmbedderDistillation | None = None


def bundled_embedders() -> dict[str, Path]:
    """Model id -> folder of every embedder shipped in ``guardkit/models``."""
    found = {}
    for folder in sorted(DEFAULT_EMBEDDER.parent.glob("embedder-*")):
        if (folder / MANIFEST).is_file():
            found[read_embedder_manifest(folder).model_id] = folder
    return found


def read_embedder_manifest(folder: Path) -> EmbedderManifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelError("missing manifest.json", file=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None  # the model's validation below says what is wrong
    if isinstance(raw, dict) and raw.get("kind") != "embedder" and "labels" in raw:
        raise ModelError("a verifier folder, not an embedder folder", file=str(folder))
    try:
        return EmbedderManifest.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ModelError(
            f"invalid embedder manifest: {err['msg']}", file=str(path), loc=tuple(err["loc"])
        ) from None


def write_embedder_manifest(folder: Path, manifest: EmbedderManifest) -> None:
    write_atomic(folder / MANIFEST, manifest.model_dump_json(indent=2) + "\n")


class OnnxEmbedder:
    """An embedder folder, loaded lazily: hashes are checked and the session opened on first use.

    Texts longer than ``max_length`` tokens are truncated, as sentence-transformers does for
    these weights; fact texts are single sentences, far below the 256-token window. An int8
    model runs each text alone: dynamic quantization scales activations per batch, so a batched
    text's vector would depend on its neighbours, and the same sentence would embed differently
    in an index and in a query. Texts run alone are spread over ``threads`` one-thread runs.
    """

    def __init__(
        self, folder: str | Path = DEFAULT_EMBEDDER, *, threads: int | None = None
    ) -> None:
        self.folder = Path(folder)
        self.manifest = read_embedder_manifest(self.folder)
        self.model_id = self.manifest.model_id
        self.dim = self.manifest.dim
        self.threads = threads or default_threads()
        self.batch_size = 1 if self.manifest.quantized else 32
        self._alone = OneByOne(self.threads if self.batch_size == 1 else 1)
        self._runtime: tuple[Any, Tokenizer] | None = None
        self._checked = False
        self._lock = threading.Lock()

    @property
    def sha256(self) -> str:
        return self.manifest.files["model.onnx"]

    def check_files(self) -> None:
        """Every file the manifest pins is there with its sha256 (``ModelError`` if not)."""
        check_pinned_files(self.folder, self.manifest.files, _REQUIRED, MANIFEST)
        self._checked = True

    def _load(self) -> tuple[Any, Tokenizer]:
        with self._lock:
            if self._runtime is None:
                if not self._checked:
                    self.check_files()
                tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tokenizer.no_padding()
                tokenizer.enable_truncation(self.manifest.max_length)
                threads = 1 if self.batch_size == 1 else self.threads
                session = cpu_session(self.folder / "model.onnx", threads)
                self._runtime = (session, tokenizer)
            return self._runtime

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        session, tokenizer = self._runtime if self._runtime is not None else self._load()
        encodings = tokenizer.encode_batch(list(texts))

        def run(rows: Sequence[int]) -> np.ndarray:
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            vectors: np.ndarray = session.run(None, feed)[0]
            return vectors

        # Sorted by length, each batch is padded only to its own longest text.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable").tolist()
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for rows, vectors in zip(batches, self._alone.map(run, batches), strict=True):
            out[rows] = vectors
        return out
