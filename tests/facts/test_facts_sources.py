"""Sources ranked as a whole: centroids kept right through adds, deletes and loads."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from conftest import HashingEmbedder

from guardkit.facts import FactIndex
from guardkit.facts._ingest import Document
from guardkit.facts._lexical import fuse
from guardkit.facts._sources import SourceCentroids


def _expected(index: FactIndex) -> dict[str, np.ndarray]:
    """Each shared source's unit mean vector, computed the plain way."""
    vids = index._store.live_vids()
    rows = index._store.fetch(vids)
    by_source: defaultdict[str, list[int]] = defaultdict(list)
    for vid in vids:
        by_source[rows[vid]["source"]].append(vid)
    out = {}
    for source, ids in by_source.items():
        if len(ids) > 1:
            mean = index._vectors.vectors(ids).mean(axis=0)
            out[source] = mean / np.linalg.norm(mean)
    return out


def _assert_centroids(index: FactIndex) -> None:
    expected = _expected(index)
    centroids = index._centroids
    assert sorted(centroids.names) == sorted(expected)
    for i, name in enumerate(centroids.names):
        np.testing.assert_allclose(centroids._unit[i], expected[name], atol=1e-5)


def _doc(doc_id: str, text: str, source: str) -> Document:
    return Document(doc_id, text, source, {}, f"test:{doc_id}")


def test_summed_gives_each_shared_source_its_mean_by_name() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(8, 4)).astype(np.float32)
    names = ["c", "a", "b", "alone"]
    numbers = np.array([2, 1, 2, 3, 0, 1, 3, 4])  # vector 4 has no source (deleted)
    built = SourceCentroids.summed(names, numbers, vectors)
    assert built.names == ["a", "b", "c"] and "alone" not in built  # one vector: no centroid
    for i, rows in enumerate(([0, 2], [3, 6], [1, 5])):
        mean = vectors[rows].mean(axis=0)
        np.testing.assert_allclose(built._unit[i], mean / np.linalg.norm(mean), atol=1e-6)
    assert SourceCentroids.summed(names, np.zeros(8, dtype=np.int64), vectors).names == []


def test_extended_keeps_only_new_sources_of_two_facts_or_more() -> None:
    vectors = np.eye(4, dtype=np.float32)
    start = SourceCentroids.empty(4)
    grown = start.extended(["x", "y", "x", "z"], vectors)
    assert grown.names == ["x"] and "x" in grown and "y" not in grown
    np.testing.assert_allclose(grown._unit[0], [2**-0.5, 0, 2**-0.5, 0], atol=1e-6)
    assert start.extended(["only"], vectors[:1]) is start
    assert SourceCentroids.empty(4).nearest(vectors[:2], 5) == [[], []]


def test_centroids_follow_adds_deletes_and_loads(tmp_path: Path, hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(
        [
            _doc("r1", "Returns take 30 days. Refunds take 5 days.", "help/returns"),
            _doc("s1", "Shipping takes 3 days.", "help/shipping"),
        ]
    )
    _assert_centroids(index)
    assert index._centroids.names == ["help/returns"]
    # A new document of a known source: that source's centroid now has three facts.
    index.add_documents([_doc("r2", "Refunds go to the card used.", "help/returns")])
    _assert_centroids(index)
    # A new document of a new source (the fast path) and one growing a single-fact source.
    index.add_documents(
        [
            _doc("w1", "Laptops have a warranty. It lasts two years.", "help/warranty"),
            _doc("s2", "Express shipping costs 15 dollars.", "help/shipping"),
        ]
    )
    _assert_centroids(index)
    assert sorted(index._centroids.names) == ["help/returns", "help/shipping", "help/warranty"]
    index.delete(["r1", "w1"])
    _assert_centroids(index)
    assert sorted(index._centroids.names) == ["help/shipping"]
    index.save(tmp_path / "idx")
    _assert_centroids(FactIndex.load(tmp_path / "idx", embedder=hashing))


def test_sources_rank_as_a_whole_and_one_fact_sources_by_their_fact(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    docs = [
        # Each sentence holds two of the query's four words; the source as a whole holds all.
        {"id": "a", "text": "alpha beta one two. gamma delta three four.", "source": "A"},
        # Its first sentence holds three of them; the source as a whole matches less.
        {"id": "b", "text": "alpha beta gamma five six seven. eight nine ten.", "source": "B"},
        # One fact, the query itself: its "centroid" is that fact.
        {"id": "c", "text": "alpha beta gamma delta.", "source": "C"},
        {"id": "d", "text": "twelve thirteen. fourteen fifteen.", "source": "D"},
    ]
    path = tmp_path / "kb.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    index = FactIndex.build([path], embedder=hashing)
    query = hashing.encode(["alpha beta gamma delta"])
    dense = [[int(v) for v in index._vectors.search(query, 10)[1][0] if v >= 0]]
    sources = index._store.sources(dense[0])
    assert index._rank_sources(dense, query, sources, 10)[0][:3] == ["C", "A", "B"]


def test_a_source_ranked_first_as_a_whole_lifts_its_facts() -> None:
    rankings = [["b1", "a1", "a2"], ["a1", "b1", "a2"]]  # a tie: the first seen goes first
    groups = {"a1": "a", "a2": "a", "b1": "b"}
    assert fuse(rankings, 3, c=10, groups=groups) == ["b1", "a1", "a2"]
    assert fuse(rankings, 3, c=10, groups=groups, source_ranking=["a", "b"]) == ["a1", "a2", "b1"]
