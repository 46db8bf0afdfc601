"""Copies of one sentence in many sources: embedded once, shown once in search results."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from conftest import HashingEmbedder

from guardkit.facts import Document, FactIndex

SHARED = "Refunds are paid within 14 days of the return."


def _copies(n: int) -> list[Document]:
    """``n`` pages that all end with the same sentence, each with one sentence of its own."""
    return [
        Document(f"p{i}", f"Page {i} covers topic {i}. {SHARED}", f"page-{i}") for i in range(n)
    ]


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += texts
        return super().encode(texts)


def test_each_distinct_text_is_embedded_once() -> None:
    embedder = CountingEmbedder()
    index = FactIndex(embedder=embedder)
    assert index.add_documents(_copies(5)) == 10  # every copy is still a fact of its page
    assert len(embedder.seen) == 6 and embedder.seen.count(SHARED) == 1
    assert len(index) == 10


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_copies_take_one_place_in_results(hashing: HashingEmbedder, mode: str) -> None:
    index = FactIndex(embedder=hashing, search_mode=mode)  # type: ignore[arg-type]
    index.add_documents(_copies(5))
    hits = index.search("Which topic page says when refunds are paid?", k=10)
    texts = [h.text for h in hits]  # 10 facts, 6 distinct texts
    assert texts.count(SHARED) == 1 and len(set(texts)) == len(texts) == 6


def test_dense_search_looks_deeper_when_copies_fill_the_first_look(
    hashing: HashingEmbedder,
) -> None:
    index = FactIndex(embedder=hashing, search_mode="dense")
    many = [Document(f"c{i}", SHARED, f"copy-{i}") for i in range(30)]
    index.add_documents([*many, Document("other", "Shipping to Norway takes a week.", "ship")])
    hits = index.search(SHARED, k=2)  # 30 copies rank first; the first look fetches 4
    assert [h.text for h in hits] == [SHARED, "Shipping to Norway takes a week."]


def test_fewer_distinct_texts_than_k_returns_them_all(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing, search_mode="dense")
    index.add_documents([Document(f"c{i}", SHARED, f"copy-{i}") for i in range(6)])
    assert [h.text for h in index.search(SHARED, k=5)] == [SHARED]


def test_a_deleted_copy_leaves_the_others_findable(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_copies(3))
    index.delete(["p0"])
    (hit,) = [h for h in index.search(SHARED, k=3) if h.text == SHARED]
    assert hit.doc_id in {"p1", "p2"}


def test_an_empty_index_finds_nothing_in_any_mode(hashing: HashingEmbedder) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        index = FactIndex(embedder=hashing, search_mode=mode)  # type: ignore[arg-type]
        assert index.search("anything at all", k=3) == []
    assert FactIndex(embedder=hashing)._store.text_keys([-1, 0, 5]) == [0, 0, 0]
