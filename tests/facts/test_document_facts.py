"""The call's documents are cut and embedded once per text, and reused as they are."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import HashingEmbedder

from guardkit.facts._documents import DocumentFacts


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        self.texts += texts
        self.last = super().encode(texts)
        return self.last


def test_a_document_seen_before_is_neither_cut_nor_embedded_again() -> None:
    embedder = CountingEmbedder()
    cache = DocumentFacts(embedder)
    rows, vectors = cache.facts("document[1]", "Refunds take 14 days. Shipping is free.")
    again, same = cache.facts("document[1]", "Refunds take 14 days. Shipping is free.")
    assert [r.text for r in rows] == ["Refunds take 14 days.", "Shipping is free."]
    assert again is rows and same is vectors and len(embedder.texts) == 2
    assert [r.fact_id for r in rows] == ["document[1]#0", "document[1]#1"]
    with pytest.raises(ValueError):
        vectors[0, 0] = 1.0  # shared between calls, so read-only
    assert embedder.last.flags.writeable  # the embedder's own array is left alone
    # another position is another document name: its facts carry that name
    other, _ = cache.facts("document[2]", "Refunds take 14 days. Shipping is free.")
    assert other[0].doc_id == "document[2]" and len(embedder.texts) == 4


def test_least_recently_used_documents_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guardkit.facts._documents._KEEP_FACTS", 2)  # one fact per document
    embedder = CountingEmbedder()
    cache = DocumentFacts(embedder)
    for text in ("A is one.", "B is two.", "A is one.", "C is three.", "A is one.", "B is two."):
        cache.facts("document[1]", text)
    # A stays (used again before C came); B was dropped when C came, so it is embedded twice
    assert embedder.texts == ["A is one.", "B is two.", "C is three.", "B is two."]


def test_huge_documents_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guardkit.facts._documents._KEEP_DOCUMENT", 1)
    embedder = CountingEmbedder()
    cache = DocumentFacts(embedder)
    for _ in range(2):
        cache.facts("document[1]", "One fact. Two facts.")
    assert len(embedder.texts) == 4
