"""Retrieval training pairs: a query, the passage it should find, and passages it should not."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from guardkit._jsonl import json_objects
from guardkit.errors import ConfigError

__all__ = ["RetrievalPair", "mine_negatives", "pairs_sha256", "read_pairs"]


class RetrievalPair(BaseModel):
    """``query`` should retrieve ``positive`` before any of ``negatives``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    query: str = Field(min_length=1)
    positive: str = Field(min_length=1)
    negatives: tuple[str, ...] = ()


def read_pairs(path: Path) -> list[RetrievalPair]:
    """JSONL lines ``{"query", "positive", "negatives"?: [...]}``; errors name the line."""
    pairs = []
    for n, row in json_objects(path, required=("query", "positive")):
        negatives = row.get("negatives", [])
        if not isinstance(negatives, list) or not all(
            isinstance(t, str) and t.strip() for t in negatives
        ):
            raise ConfigError(
                "field 'negatives' must be a list of non-empty strings",
                file=str(path),
                line=n,
                loc=("negatives",),
            )
        unknown = sorted(set(row) - {"query", "positive", "negatives"})
        if unknown:
            raise ConfigError(
                f"unknown field {unknown[0]!r}", file=str(path), line=n, loc=(unknown[0],)
            )
        pairs.append(
            RetrievalPair(query=row["query"], positive=row["positive"], negatives=tuple(negatives))
        )
    if len(pairs) < 2:
        raise ConfigError(
            f"{len(pairs)} pair(s): in-batch training needs at least 2", file=str(path)
        )
    return pairs


def mine_negatives(
    pairs: Sequence[RetrievalPair],
    corpus: Sequence[str],
    encode: Callable[[Sequence[str]], np.ndarray],
    *,
    skip: int = 3,
    take: int = 10,
) -> list[RetrievalPair]:
    """Each query's nearest corpus passages that are not its positive, as hard negatives.

    The ``skip`` nearest are passed over: in real corpora they are often relevant passages
    nobody labelled, and training against them would teach the embedder to push evidence away.
    """
    texts = list(dict.fromkeys(corpus))
    passages = encode(texts)
    queries = encode([p.query for p in pairs])
    positives: dict[str, set[str]] = {}
    for p in pairs:
        positives.setdefault(p.query, set()).add(p.positive)
    depth = min(len(texts), skip + take + max(len(v) for v in positives.values()))
    nearest = np.argsort(-(queries @ passages.T), axis=1)[:, :depth]
    out = []
    for pair, row in zip(pairs, nearest, strict=True):
        found = [texts[j] for j in row if texts[j] not in positives[pair.query]]
        out.append(pair.model_copy(update={"negatives": tuple(found[skip : skip + take])}))
    return out


def pairs_sha256(pairs: Sequence[RetrievalPair]) -> str:
    """Same pairs in the same order, same hash: the manifest's record of the training data."""
    digest = hashlib.sha256()
    for p in pairs:
        digest.update(json.dumps(p.model_dump(mode="json"), sort_keys=True).encode() + b"\n")
    return digest.hexdigest()
