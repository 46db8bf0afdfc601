"""The FAISS side of a fact index: exact search when small, HNSW when large.

Vectors are unit length, so inner product is cosine similarity. Each vector carries the integer
id of its fact row (``IndexIDMap2``). Exact (``IndexFlatIP``) search costs O(n) per query: about
5 ms at 100k facts on one core, so above ``AUTO_THRESHOLD`` facts an HNSW graph is used, which
needs no training (facts can be added one at a time) and answers in well under a millisecond.
HNSW cannot remove vectors: deleted ids stay in the graph as tombstones, filtered from results
and dropped by a rebuild once they exceed ``_MAX_TOMBSTONES`` of the index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from guardkit.errors import FactIndexError, UnknownNameError

__all__ = ["AUTO_THRESHOLD", "IndexKind", "IndexParams", "VectorIndex", "search_effort"]

IndexKind = Literal["flat", "hnsw"]
AUTO_THRESHOLD = 50_000
_MAX_TOMBSTONES = 0.2


class IndexParams(BaseModel):
    """Which FAISS index and its settings; recorded in the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: IndexKind = "flat"
    hnsw_m: int = Field(32, ge=4, le=128)
    ef_construction: int = Field(80, ge=8, le=2048)
    ef_search: int | None = Field(None, ge=8, le=4096)
    """Query effort; ``None`` chooses it by the number of facts (``search_effort``)."""


_EFFORT_BY_SIZE = ((150_000, 128), (300_000, 256))
_EFFORT_LARGE = 512
"""HNSW query effort by index size, from ``benchmarks/hnsw_effort.py`` (RESULTS.md, 2026-12-08):
with CitInt claims as queries, recall@10 against exact search is 0.993 at 100k facts and 0.983
at 200k with 128, 0.982 at 300k with 256, 0.979 at 500k and 0.950 at 1M with 512; five queries
cost 0.6 ms at 100k with 128 and 2.0 ms with 512."""


def search_effort(params: IndexParams, n: int) -> int:
    """The HNSW ``efSearch`` for ``n`` vectors: the one the params name, or one by size."""
    if params.ef_search is not None:
        return params.ef_search
    return next((ef for limit, ef in _EFFORT_BY_SIZE if n <= limit), _EFFORT_LARGE)


def _flat(dim: int, params: IndexParams) -> Any:
    return faiss.IndexFlatIP(dim)


def _hnsw(dim: int, params: IndexParams) -> Any:
    index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = params.ef_construction
    return index


_FACTORIES: dict[str, Callable[[int, IndexParams], Any]] = {"flat": _flat, "hnsw": _hnsw}
_REMOVABLE: dict[str, bool] = {"flat": True, "hnsw": False}


def auto_kind(n: int) -> IndexKind:
    """The index kind chosen for ``n`` facts when the user does not choose."""
    return "flat" if n < AUTO_THRESHOLD else "hnsw"


class VectorIndex:
    """Unit vectors keyed by fact id, with search and (direct or tombstoned) removal."""

    def __init__(self, dim: int, params: IndexParams, index: Any | None = None) -> None:
        if params.kind not in _FACTORIES:
            raise UnknownNameError("index type", params.kind, _FACTORIES)
        self.dim = dim
        self.params = params
        self.index: Any = (
            index if index is not None else faiss.IndexIDMap2(_FACTORIES[params.kind](dim, params))
        )
        self.tombstones = 0

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray, ids: Sequence[int]) -> None:
        if len(ids):
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
            self._set_effort()

    def _set_effort(self) -> None:
        if self.params.kind == "hnsw":
            inner: Any = faiss.downcast_index(self.index.index)
            inner.hnsw.efSearch = search_effort(self.params, self.ntotal)

    def remove(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        if _REMOVABLE[self.params.kind]:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))
        else:
            self.tombstones += len(ids)

    def needs_compaction(self) -> bool:
        return self.tombstones > _MAX_TOMBSTONES * max(1, self.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of the ``k`` nearest per query (id -1 where there are fewer)."""
        if self.ntotal == 0:
            empty = np.full((len(queries), k), -1, dtype=np.int64)
            return np.zeros((len(queries), k), dtype=np.float32), empty
        fetch = min(self.ntotal, k + self.tombstones)
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), fetch)
        return scores, ids

    def stored(self) -> tuple[np.ndarray, np.ndarray]:
        """The id and the vector of everything FAISS holds (HNSW tombstones too), in storage
        order. The vectors are FAISS's own memory, not a copy: read them before any change."""
        inner: Any = faiss.downcast_index(self.index.index)
        flat: Any = faiss.downcast_index(inner.storage) if self.params.kind == "hnsw" else inner
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        if not len(ids):
            return ids, np.empty((0, self.dim), dtype=np.float32)
        raw = faiss.rev_swig_ptr(flat.get_xb(), len(ids) * self.dim)
        return ids, np.asarray(raw).reshape(len(ids), self.dim)

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            return np.empty((0, self.dim), dtype=np.float32)
        out: np.ndarray = self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        return out

    def rebuilt(self, live: Sequence[int], params: IndexParams) -> VectorIndex:
        """A fresh index of kind ``params.kind`` holding only the ``live`` vectors."""
        fresh = VectorIndex(self.dim, params)
        for lo in range(0, len(live), 65_536):
            chunk = live[lo : lo + 65_536]
            fresh.add(self.vectors(chunk), chunk)
        return fresh

    def write(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def from_bytes(
        cls, data: bytes, path: Path, dim: int, params: IndexParams, tombstones: int
    ) -> VectorIndex:
        """An index from a saved FAISS file's bytes (``path`` names it in errors)."""
        try:
            index: Any = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:
            raise FactIndexError(f"FAISS cannot read the index: {exc}", file=str(path)) from None
        if index.d != dim:
            raise FactIndexError(f"index has dimension {index.d}, expected {dim}", file=str(path))
        loaded = cls(dim, params, index)
        loaded.tombstones = tombstones
        loaded._set_effort()
        return loaded
