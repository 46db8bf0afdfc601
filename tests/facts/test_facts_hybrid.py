"""Hybrid search: BM25 (SQLite FTS5) fused with FAISS by reciprocal rank."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder, LexicalVerifier

from guardkit.errors import ConfigError, UnknownNameError
from guardkit.facts import (
    ClaimVerifier,
    Document,
    FactIndex,
    IndexParams,
    IndexType,
    SearchMode,
)
from guardkit.facts._lexical import fuse, query_words
from guardkit.facts._manifest import FORMAT_VERSION

MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "lexical")


class ConstantEmbedder:
    """Every text gets the same vector: dense ranking is blind, only words can tell facts apart."""

    model_id = "tests/constant"
    dim = 8
    sha256 = hashlib.sha256(b"tests/constant").hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def _docs(n: int, prefix: str = "d") -> list[Document]:
    return [
        Document(
            f"{prefix}{i}", f"Widget {prefix}{i} weighs {i} grams. It ships from depot {i}.", "cat"
        )
        for i in range(n)
    ]


def _needle_index() -> FactIndex:
    index = FactIndex(embedder=ConstantEmbedder())
    index.add_documents(_docs(20))  # 41 facts: every one is within the dense candidates
    index.add_documents([Document("rma", "Return code RMA-2041 covers cracked screens.", "faq")])
    return index


@pytest.mark.parametrize(
    "query",
    [
        'unbalanced "quote',
        '""',
        "NEAR(widget depot, 2)",
        "widget AND OR NOT depot",
        "text:widget",
        "^widget*",
        "-widget +depot",
        "((((",
        "'; DROP TABLE facts; --",
        "",
        "   \t\n",
        "\u2014\u2013\u2026 \u00bf\u00a1 \u00ab\u00bb",
        "a_b_c",
        "\x00 widget \x00",
        "ünïcödé cafe\u0301 ΑΒΓ 漢字",
        "widget " * 500,
        "the of and to",
    ],
)
def test_any_query_text_is_safe_in_every_mode(query: str, hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(3))
    for mode in MODES:
        hits = index.search(query, k=3, mode=mode)
        assert len(hits) <= 3 and all(-1.0 <= h.score <= 1.0 for h in hits)


def test_query_words_keep_words_and_drop_the_rest() -> None:
    assert query_words('Say "hi" OR NEAR(x, 2) -y*') == ["say", "hi", "near", "x", "2", "y"]
    assert query_words("The cost of the RMA-2041 repair") == ["cost", "rma", "2041", "repair"]
    assert query_words("to be or not to be") == ["to", "be", "or", "not"]  # all stop words
    assert query_words(" -- ( ) ") == []
    assert len(query_words(" ".join(f"w{i}" for i in range(100)))) == 64


def test_fuse_sums_reciprocal_ranks() -> None:
    assert fuse([[1, 2, 3], [3, 4]], 3, c=60) == [3, 1, 2]  # 2 and 4 tie: first seen first
    assert fuse([[5, 4, 3]], 2) == [5, 4]
    assert fuse([[], []], 5) == []


def test_fuse_lifts_facts_of_a_document_that_matches_as_a_whole() -> None:
    rankings = [["b1", "c1", "b2"], ["b1", "c1", "b2"]]
    groups = {"b1": "b", "b2": "b", "c1": "c"}
    assert fuse(rankings, 3, c=10) == ["b1", "c1", "b2"]
    assert fuse(rankings, 3, c=10, groups=groups) == ["b1", "b2", "c1"]
    assert fuse(rankings, 3, c=10, groups=groups, weight=0.0) == ["b1", "c1", "b2"]


def test_a_long_document_does_not_win_by_its_number_of_facts() -> None:
    long_doc = [f"long{i}" for i in range(50)]
    rankings = [[long_doc[0], "short", *long_doc[1:]], ["short"]]
    groups = {"short": "s", **{item: "l" for item in long_doc}}
    assert fuse(rankings, 2, c=20, groups=groups) == ["short", "long0"]


def test_words_find_what_a_blind_embedding_cannot() -> None:
    index = _needle_index()
    assert index.search_mode == "hybrid"
    assert index.search("what does RMA-2041 cover?", k=1)[0].doc_id == "rma"
    assert index.search("RMA-2041", k=1, mode="lexical")[0].doc_id == "rma"
    blind = index.search("zebra", k=3, mode="dense")
    assert index.search("RMA-2041", k=3, mode="dense") == blind
    assert index.search("zebra", k=3, mode="lexical") == []
    dense_all = index.search("zebra", k=len(index), mode="dense")  # FAISS breaks ties by k
    # No word matches: the dense ranking alone, lifted by document as hybrid search does.
    by_id = {h.fact_id: h for h in dense_all}
    lifted = fuse([list(by_id)], 3, groups={h.fact_id: h.source for h in dense_all})
    assert index.search("zebra", k=3) == [by_id[i] for i in lifted]


def test_scores_are_cosine_in_every_mode(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(5))
    query = "widget d3 weighs 3 grams"
    qv = hashing.encode([query])[0]
    for mode in MODES:
        for hit in index.search(query, k=4, mode=mode):
            assert hit.score == pytest.approx(float(qv @ hashing.encode([hit.text])[0]), abs=1e-5)
    ranked = index.search_many([query], 4, vectors=hashing.encode([query]))[0]
    assert ranked == index.search(query, k=4)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_delete_then_search_in_every_mode(
    kind: IndexType, tmp_path: Path, hashing: HashingEmbedder
) -> None:
    index = FactIndex(embedder=hashing, index_type=kind, params=IndexParams(hnsw_m=8))
    index.add_documents(_docs(6))
    index.delete(["d3"])
    for mode, found in (("hybrid", 10), ("dense", 10), ("lexical", 5)):
        assert all(h.doc_id != "d3" for h in index.search("widget d3 depot 3", k=20, mode=mode))
        assert len(index.search("widget", k=20, mode=mode)) == found
    index.save(tmp_path / "ix")
    loaded = FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert all(h.doc_id != "d3" for h in loaded.search("d3", k=20, mode="lexical"))
    loaded.add_documents([Document("d3", "Widget d3 is back in stock.", "cat")])
    assert loaded.search("d3 back in stock", k=1, mode="lexical")[0].doc_id == "d3"


def test_mode_is_saved_and_overridable(tmp_path: Path, hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing, search_mode="dense")
    index.add_documents(_docs(3))
    manifest = index.save(tmp_path / "ix")
    assert (manifest.search_mode, manifest.format_version) == ("dense", FORMAT_VERSION)
    loaded = FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert loaded.search_mode == "dense"
    assert loaded.search("depot 2", k=1, mode="lexical")[0].doc_id == "d2"


def test_unknown_mode_and_mismatched_vectors_are_refused(hashing: HashingEmbedder) -> None:
    with pytest.raises(UnknownNameError) as info:
        FactIndex(embedder=hashing, search_mode="bm25")  # type: ignore[arg-type]
    assert info.value.message == "unknown search mode 'bm25'; known: dense, hybrid, lexical"
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    with pytest.raises(UnknownNameError, match="unknown search mode 'sparse'"):
        index.search("widget", mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="2 texts but 1 vectors"):
        index.search_many(["a", "b"], vectors=hashing.encode(["a"]))


def _as_format_1(folder: Path) -> None:
    """Rewrite a saved folder as an index saved before hybrid search (no FTS5 table)."""
    mpath = folder / "manifest.json"
    raw = json.loads(mpath.read_text())
    facts = folder / raw["files"]["facts"]["name"]
    conn = sqlite3.connect(facts)
    conn.executescript(
        "DROP TRIGGER facts_fts_insert; DROP TRIGGER facts_fts_delete; "
        "DROP TABLE facts_fts; VACUUM;"
    )
    conn.close()
    data = facts.read_bytes()
    raw["files"]["facts"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    raw["format_version"] = 1
    del raw["search_mode"]
    mpath.write_text(json.dumps(raw))


def test_index_saved_before_hybrid_search_gets_its_words_on_load(tmp_path: Path) -> None:
    folder = tmp_path / "ix"
    _needle_index().save(folder)
    _as_format_1(folder)
    old = FactIndex.load(folder, embedder=ConstantEmbedder())
    assert old.search_mode == "hybrid" and old.manifest is not None
    assert old.manifest.format_version == 1
    assert old.search("RMA-2041", k=1)[0].doc_id == "rma"
    old.delete(["rma"])
    assert old.search("RMA-2041", k=1, mode="lexical") == []
    manifest = old.save(folder)
    assert (manifest.format_version, manifest.search_mode) == (FORMAT_VERSION, "hybrid")
    conn = sqlite3.connect(folder / manifest.files["facts"].name)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert {"facts_fts", "facts_fts_insert", "facts_fts_delete"} <= names


def test_claims_are_checked_against_hybrid_evidence() -> None:
    index = _needle_index()
    claim = "Return code RMA-2041 covers cracked screens."
    (verdict,) = ClaimVerifier(index, LexicalVerifier()).verify_text(claim)
    assert verdict.verdict == "supported" and verdict.citations[0].fact_id == "rma#0"
    index.search_mode = "dense"
    (verdict,) = ClaimVerifier(index, LexicalVerifier()).verify_text(claim)
    assert verdict.verdict == "unverifiable"


def test_more_ids_than_sqlite_parameters_fit_one_lookup(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_docs(2))
    ids = list(range(1, 40_000))  # a batch of searches can name this many candidates
    assert sorted(index._store.sources(ids)) == [1, 2, 3, 4]
    assert sorted(index._store.fetch(ids)) == [1, 2, 3, 4]
