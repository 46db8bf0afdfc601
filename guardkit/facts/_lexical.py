"""The lexical side of a fact index: the facts' words in SQLite FTS5, BM25, and rank fusion.

Sentence embeddings blur what words pin down: names, numbers, gene and drug symbols, rare terms.
On CitInt dev (``benchmarks/facts.py``) evidence recall@5 is 0.35 for the embeddings, 0.41 for
BM25 and 0.48 for the two fused by reciprocal rank. A single sentence rarely shares enough words
with a claim to stand out, but the document it belongs to often does: fusing also lifts each fact
by the fused score of its source (ranked by its best fact in each ranking), and raises dev
recall@5 to 0.61. The FTS5 table indexes ``facts.text`` in the facts database itself, so it is
saved, hashed and loaded with the facts, in the same file; triggers keep it in step with every
insert and delete. BM25 itself is scored by ``_bm25`` on the table's tokens.

A query is its words: punctuation and operators never reach a query grammar. English stop words
are left out: each word costs a pass over the facts holding it, and "the" or "of" hold nearly all
of them while adding almost nothing to BM25, which weighs a word by its rarity.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import Literal, TypeVar

__all__ = [
    "DOCUMENT_WEIGHT",
    "FUSION_DEPTH",
    "RRF_K",
    "TOKENIZER",
    "SearchMode",
    "ensure_lexical",
    "fuse",
    "query_words",
]

SearchMode = Literal["hybrid", "dense", "lexical"]

RRF_K = 20
"""The reciprocal rank fusion constant (Cormack et al., 2009 use 60); chosen on CitInt dev."""
FUSION_DEPTH = 100
"""Candidates taken from each ranking before fusing (at least ``k``)."""
DOCUMENT_WEIGHT = 5.0
"""How much a fact gains per unit of its source's fused score; chosen on CitInt dev (recall@5
0.55 / 0.59 / 0.61 / 0.63 at weights 1 / 3 / 5 / 10, against 0.48 without). Above 5 the order
is nearly "best document first", which leaves little room for a second relevant document."""

_T = TypeVar("_T", bound=Hashable)
_MAX_TERMS = 64
_WORD = re.compile(r"[^\W_]+")
_LUCENE_STOP = (
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with"
)
_STOP_WORDS = frozenset(_LUCENE_STOP.split())
"""Lucene's English stop set (``EnglishAnalyzer``), the usual one for BM25 baselines."""

TOKENIZER = "porter unicode61 remove_diacritics 2"
"""FTS5's tokenizer for the facts' words: Unicode words, lower case, no accents, Porter stems."""
_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS facts_fts USING fts5(
    text, content='facts', content_rowid='vid', tokenize='{TOKENIZER}'
);
CREATE TRIGGER IF NOT EXISTS facts_fts_insert AFTER INSERT ON facts BEGIN
    INSERT INTO facts_fts (rowid, text) VALUES (new.vid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS facts_fts_delete AFTER DELETE ON facts BEGIN
    INSERT INTO facts_fts (facts_fts, rowid, text) VALUES ('delete', old.vid, old.text);
END;
"""


def ensure_lexical(conn: sqlite3.Connection) -> bool:
    """Create the FTS5 table and its triggers if missing; True if the table had to be built.

    A database saved before hybrid search has no table: it is built here from the facts (no
    embedding needed; about a second per 100k facts) and written by the next save.
    """
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'facts_fts'").fetchone()
    with conn:
        conn.executescript(_SCHEMA)
        if found is None:
            conn.execute("INSERT INTO facts_fts (facts_fts) VALUES ('rebuild')")
    return found is None


def query_words(text: str) -> list[str]:
    """The words of ``text`` a search looks for: lower case, each once, stop words left out
    (unless there is nothing else: "to be or not to be"), at most 64."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))
    content = [w for w in words if w not in _STOP_WORDS] or words
    return content[:_MAX_TERMS]


def fuse(
    rankings: Sequence[Sequence[_T]],
    k: int,
    c: int = RRF_K,
    *,
    groups: Mapping[_T, Hashable] | None = None,
    weight: float = DOCUMENT_WEIGHT,
    source_ranking: Sequence[Hashable] = (),
) -> list[_T]:
    """Reciprocal rank fusion: the ``k`` items best by the sum of ``1 / (c + rank)``.

    Ranks, not scores, are fused: cosine similarities and BM25 scores live on unrelated scales.
    With ``groups`` (item -> its document), each item also gains ``weight`` times its
    document's own fused score (the document ranked by its best item in each ranking), so facts
    of the document that matches best come first. Best, not summed: a long document must not
    win by its number of facts. ``source_ranking`` ranks documents as a whole (by their
    centroids) and adds to the same document scores.
    One ranking fused without groups is that ranking; ties keep the order of first appearance.
    """
    scores: dict[_T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (c + rank)
    if groups is not None:
        documents: defaultdict[Hashable, float] = defaultdict(float)
        for ranking in rankings:
            seen: set[Hashable] = set()
            for rank, item in enumerate(ranking, start=1):
                if groups[item] not in seen:  # a document counts by its best fact only
                    seen.add(groups[item])
                    documents[groups[item]] += 1.0 / (c + rank)
        for rank, document in enumerate(source_ranking, start=1):
            documents[document] += 1.0 / (c + rank)
        scores = {item: s + weight * documents[groups[item]] for item, s in scores.items()}
    return sorted(scores, key=lambda item: -scores[item])[:k]
