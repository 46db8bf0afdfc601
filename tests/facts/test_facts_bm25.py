"""BM25 in numpy (``_bm25``) ranks as SQLite FTS5's own ``bm25()`` does, through every change."""

from __future__ import annotations

import itertools
import random
import sqlite3
import threading

import pytest
from conftest import HashingEmbedder

from guardkit.errors import FactIndexError
from guardkit.facts import Document, FactIndex
from guardkit.facts._bm25 import WordIndex
from guardkit.facts._lexical import query_words

VOCABULARY = (
    "warranty laptop laptops screen screens cracked return returns returned returning refund "
    "shipping express depot 2041 RMA-2041 café cafe Ünïcode naïve battery batteries charger "
    "the of and to within days day 30 5 not never covers covered cover ships shipped"
).split()


def _sentence(rng: random.Random) -> str:
    # Zipf-like draws: common words repeat within a sentence (term frequencies above 1) and
    # many facts tie on short queries.
    words = [VOCABULARY[min(int(rng.paretovariate(1.2)) - 1, len(VOCABULARY) - 1)]]
    words += [rng.choice(VOCABULARY) for _ in range(rng.randint(0, 12))]
    return " ".join(words).capitalize() + "."


def _documents(rng: random.Random, n: int, prefix: str) -> list[Document]:
    return [
        Document(f"{prefix}{i}", " ".join(_sentence(rng) for _ in range(rng.randint(1, 3))), "s")
        for i in range(n)
    ]


QUERIES = [
    "cracked screen warranty",
    "Does the laptop warranty cover a cracked screen?",
    "RMA-2041",
    "returns returned returning",  # three words, one stem: the stem counts three times
    "cafe",  # matches café: diacritics are removed on both sides
    "NAIVE unicode",
    "to be or not to be",  # stop words only: searched as they are
    "the",
    "30 days",
    "zeppelin",  # in no fact
    "?!",
]


def _fts5_scores(index: FactIndex, text: str) -> dict[int, float]:
    """FTS5's ``bm25()`` for the query's words, each a quoted phrase, OR-ed."""
    words = query_words(text)
    if not words:
        return {}
    query = " OR ".join(f'"{w}"' for w in words)
    rows = index._store._conn.execute(
        "SELECT rowid, -rank FROM facts_fts WHERE facts_fts MATCH ?", (query,)
    )
    return {int(v): float(s) for v, s in rows}


def _assert_same_ranking(index: FactIndex) -> None:
    for text in QUERIES:
        reference = _fts5_scores(index, text)
        ranked = index._store.lexical(text, len(index) + 5)
        assert set(ranked) == set(reference), text
        scores = [reference[v] for v in ranked]
        assert all(a >= b - 1e-9 for a, b in itertools.pairwise(scores)), text
        top = index._store.lexical(text, 3)  # a cut through ties still takes the best
        assert [round(reference[v], 9) for v in top] == [round(s, 9) for s in scores[:3]], text


@pytest.mark.parametrize("held", [None, 40])  # 40: each word's impacts dropped and redone
def test_rankings_match_fts5_through_adds_deletes_and_reloads(
    hashing: HashingEmbedder, tmp_path, monkeypatch: pytest.MonkeyPatch, held: int | None
) -> None:
    monkeypatch.setattr("guardkit.facts._bm25._IMPACTS_FROM", 1)  # every word's impacts kept
    if held is not None:
        monkeypatch.setattr("guardkit.facts._bm25._IMPACTS_HELD", held)
    rng = random.Random(7)
    index = FactIndex(embedder=hashing)
    index.add_documents(_documents(rng, 60, "a"))
    _assert_same_ranking(index)
    index.add_documents(_documents(rng, 25, "b"))  # new words and new facts for old words
    _assert_same_ranking(index)
    index.delete([f"a{i}" for i in range(0, 60, 7)])  # dead postings, skipped
    _assert_same_ranking(index)
    index.delete([f"a{i}" for i in range(60) if i % 7] + ["b3"])  # most of them: compacted
    words = index._store._words
    assert words is not None and words._dead_postings == 0
    _assert_same_ranking(index)
    index.save(tmp_path / "idx")
    loaded = FactIndex.load(tmp_path / "idx", embedder=hashing)
    assert loaded._store._words is not None  # the saved postings, not read from FTS5 again
    _assert_same_ranking(loaded)
    loaded.add_documents(_documents(rng, 10, "c"))  # and they take adds after a load
    loaded.delete(["b1", "c2"])
    _assert_same_ranking(loaded)
    loaded.save(tmp_path / "idx")
    again = FactIndex.load(tmp_path / "idx", embedder=hashing)
    for text in QUERIES:
        assert again._store.lexical(text, 10) == loaded._store.lexical(text, 10)


def test_a_dense_index_saves_no_postings_and_reads_them_when_asked(
    hashing: HashingEmbedder, tmp_path
) -> None:
    index = FactIndex(embedder=hashing, search_mode="dense")
    index.add_documents(_documents(random.Random(5), 30, "d"))
    manifest = index.save(tmp_path / "dense")
    assert set(manifest.files) == {"index", "facts"}
    loaded = FactIndex.load(tmp_path / "dense", embedder=hashing)
    assert loaded._store._words is None
    _assert_same_ranking(loaded)  # read from the FTS5 table at the first word search


def test_an_empty_index_and_a_deleted_one_find_nothing(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    assert index._store._words is None  # read from FTS5 at the first word search, not before
    assert index._store.lexical("warranty", 5) == []
    index.add_documents([Document("d", "The laptop warranty lasts two years.", "s")])
    assert len(index._store.lexical("warranty", 5)) == 1
    index.delete(["d"])
    assert index._store.lexical("warranty", 5) == []
    index.add_documents([Document("e", "Warranty claims need a receipt.", "s")])
    assert len(index._store.lexical("warranties", 5)) == 1  # Porter stems on both sides


def test_a_fact_without_words_counts_as_a_fact(hashing: HashingEmbedder) -> None:
    """FTS5 counts every row in its idf and average length, word or not; so must we."""
    index = FactIndex(embedder=hashing)
    index.add_documents([Document("w", "Battery lasts ten hours.", "s")])
    index.add_documents([Document(f"n{i}", "— … —", "s") for i in range(3)])
    _assert_same_ranking(index)
    words = index._store._words
    assert words is not None and words._live == len(index)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_top_n_is_a_prefix_of_the_full_ranking(hashing: HashingEmbedder, n: int) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(_documents(random.Random(3), 40, "d"))
    for text in QUERIES:
        full = index._store.lexical(text, 1000)
        assert index._store.lexical(text, n) == full[:n]


def test_tokens_come_from_fts5s_own_tokenizer() -> None:
    words = WordIndex()
    words.add([1, 2], ["Café crème, naïvely!", "Running runners ran."])
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2');"
        "CREATE VIRTUAL TABLE v USING fts5vocab(t, row);"
    )
    conn.executemany(
        "INSERT INTO t (x) VALUES (?)", [("Café crème, naïvely!",), ("Running runners ran.",)]
    )
    assert set(words._term_ids) == {t for (t,) in conn.execute("SELECT term FROM v")}


def test_saved_postings_load_in_many_threads_at_once(tmp_path) -> None:
    """``np.load`` failed here (CPython 3.11's AST constructor is not thread-safe)."""
    words = WordIndex()
    words.add([1, 2, 3], ["Alpha beta.", "Beta gamma.", "Gamma delta."])
    path = tmp_path / "words.bin"
    words.write(path)
    data, errors = path.read_bytes(), []

    def load() -> None:
        for _ in range(200):
            try:
                assert WordIndex.from_bytes(data, path).search("beta", 5) == [1, 2]
            except Exception as exc:  # collected, asserted below
                errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda d: d[:-3], "values do not fit in the file"),
        (lambda d: d + b"\0", "1 bytes after the last array"),
        (lambda d: d[:8] + (5).to_bytes(8, "little") + b"{oops" + d[16:], "header is not JSON"),
        (lambda d: b"GKWORDS0" + d[8:], "not a guardkit word postings file"),
    ],
)
def test_damaged_postings_are_refused_with_the_file_named(tmp_path, cut, message) -> None:
    words = WordIndex()
    words.add([1], ["Alpha beta."])
    path = tmp_path / "words.bin"
    words.write(path)
    with pytest.raises(FactIndexError) as info:
        WordIndex.from_bytes(cut(path.read_bytes()), path)
    assert message in info.value.message
    assert info.value.file == str(path)
