"""Each source's facts averaged into one vector, so hybrid search can rank sources as a whole.

A claim often matches the document it draws on better as a whole than through any one of its
sentences (a citing sentence paraphrases an abstract). Hybrid search ranks sources by these
centroids and adds that ranking to each source's lift (``fuse``). Only sources of two facts or
more get a centroid: a one-fact source's centroid is its fact, which the dense ranking already
holds, and leaving them out keeps the memory to a fraction of the vectors'. Centroids are derived
from the stored vectors on load and after every change, never saved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["SourceCentroids"]

_CHUNK = 65_536
"""Vectors read back from FAISS at a time while summing, to bound memory on big indexes."""


class SourceCentroids:
    """Unit-length mean vectors of the sources with two facts or more."""

    def __init__(self, names: list[str], sums: np.ndarray) -> None:
        self.names = names
        self._names = set(names)
        self._sums = sums
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        self._unit = np.ascontiguousarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)

    @classmethod
    def empty(cls, dim: int) -> SourceCentroids:
        return cls([], np.zeros((0, dim), dtype=np.float32))

    @classmethod
    def build(
        cls,
        members: Sequence[tuple[str, int]],
        vectors: Callable[[Sequence[int]], np.ndarray],
        dim: int,
    ) -> SourceCentroids:
        """Centroids from ``(source, vector id)`` pairs sorted by source; ``vectors`` reads ids."""
        names = list(dict.fromkeys(source for source, _ in members))
        row = {name: i for i, name in enumerate(names)}
        sums = np.zeros((len(names), dim), dtype=np.float32)
        for lo in range(0, len(members), _CHUNK):
            chunk = members[lo : lo + _CHUNK]
            _add_sorted(
                sums,
                np.fromiter((row[s] for s, _ in chunk), dtype=np.int64, count=len(chunk)),
                vectors([vid for _, vid in chunk]),
            )
        return cls(names, sums)

    def extended(self, sources: Sequence[str], vectors: np.ndarray) -> SourceCentroids:
        """These centroids plus those of new sources (none already here) given fact by fact."""
        counts = Counter(sources)
        members = sorted((source, i) for i, source in enumerate(sources) if counts[source] > 1)
        if not members:
            return self
        new = SourceCentroids.build(members, lambda ids: vectors[list(ids)], self._sums.shape[1])
        return SourceCentroids([*self.names, *new.names], np.concatenate([self._sums, new._sums]))

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, source: object) -> bool:
        return source in self._names

    def nearest(self, queries: np.ndarray, n: int) -> list[list[tuple[str, float]]]:
        """Per query, the ``n`` sources whose centroids are nearest, with cosines, best first."""
        n = min(n, len(self.names))
        if n == 0:
            return [[] for _ in range(len(queries))]
        scores = np.asarray(queries, dtype=np.float32) @ self._unit.T
        top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
        out = []
        for q_scores, q_top in zip(scores, top, strict=True):
            best = q_top[np.argsort(-q_scores[q_top], kind="stable")]
            out.append([(self.names[i], float(q_scores[i])) for i in best.tolist()])
        return out


def _add_sorted(sums: np.ndarray, rows: np.ndarray, vectors: np.ndarray) -> None:
    """``sums[rows[i]] += vectors[i]`` for ``rows`` sorted ascending (one add per run of rows)."""
    if not len(rows):
        return
    starts = np.flatnonzero(np.diff(rows, prepend=-1))
    sums[rows[starts]] += np.add.reduceat(vectors, starts, axis=0)
