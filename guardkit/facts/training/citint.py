"""The shipped recipe's pairs: CitInt train claims and the corpus sentences they cite as evidence.

Only ``claims_train.jsonl`` is read for pairs (dev and test stay for tuning and reporting, see
``../shared/data/PROVENANCE.md``); ``corpus.jsonl`` is the pool hard negatives are mined from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from guardkit.errors import ConfigError
from guardkit.facts.training.pairs import RetrievalPair

__all__ = ["citint_pairs", "strip_citation_markers"]

_CITATION_MARKER = re.compile(r"\s*\[?<\|[a-z_]+\|>\]?")


def strip_citation_markers(claim: str) -> str:
    """A claim without CitInt's ``<|cit|>``-style markers, whitespace collapsed."""
    return " ".join(_CITATION_MARKER.sub("", claim).split())


def citint_pairs(data: Path) -> tuple[list[RetrievalPair], list[str]]:
    """(claim, gold evidence sentence) pairs of the train split, and every corpus sentence."""
    folder = data / "citint"
    for name in ("corpus.jsonl", "claims_train.jsonl"):
        if not (folder / name).is_file():
            raise ConfigError(f"missing {name}", file=str(folder / name))
    abstracts: dict[str, list[str]] = {}
    with (folder / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            abstracts[str(doc["doc_id"])] = [" ".join(t.split()) for t in doc["abstract"]]
    pairs = []
    with (folder / "claims_train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            claim = strip_citation_markers(row["claim"])
            gold = {
                abstracts[doc][i]
                for doc, groups in row["evidence"].items()
                for group in groups
                for i in group["sentences"]
            }
            pairs += [RetrievalPair(query=claim, positive=text) for text in sorted(gold)]
    corpus = [sentence for sentences in abstracts.values() for sentence in sentences]
    return pairs, corpus
