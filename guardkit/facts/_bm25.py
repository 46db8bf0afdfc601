"""BM25 over the facts' words, scored in numpy from postings kept in memory.

SQLite FTS5 (``_lexical``) stores and tokenizes the words, but its ``bm25()`` ranking scores every
fact that shares a word with the query, one row at a time: 72 ms a query at 100k facts and 544 ms
at 1M (``benchmarks/facts.py``). The same scores are sums over postings, which numpy adds up in
bulk: ``WordIndex`` holds, per term, the vector ids of the facts holding it and how often (a CSR
array by term), and ranks with FTS5's own formula (k1 = 1.2, b = 0.75, the same idf floor), on
FTS5's own tokens: the postings are read from the index's FTS5 table at the first word search,
and the words of new facts and of queries are cut by a scratch FTS5 table with the same
tokenizer. So rankings are FTS5's, up to the order of exact ties (smaller vector id first here).

A save also writes the postings (``words-<n>.bin``: raw arrays under a JSON header, no pickle,
pinned by the manifest), so a loaded index searches words at once; a folder without the file
has them read from its FTS5 table at the first word search (1.4 s at 100k facts, 15 s at 1M).
Deleted facts leave dead postings behind, skipped, and dropped once they are a quarter of all.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from guardkit.errors import FactIndexError
from guardkit.facts._lexical import TOKENIZER, query_words

__all__ = ["WordIndex"]

_K1 = 1.2
_B = 0.75
_IDF_FLOOR = 1e-6
"""FTS5 gives a word in more than half the facts this idf instead of a negative one."""
_IMPACTS_HELD = 4_000_000
"""Most postings whose impacts are kept (about 48 MB); past it the kept ones are dropped."""
_IMPACTS_FROM = 256
"""Words in fewer facts are scored afresh each time: cheap, and a vocabulary of rare words
would otherwise fill memory entry by entry."""
_CHUNK = 1 << 22
"""Word instances read from SQLite at a time."""
_MAGIC = b"GKWORDS1"
_DTYPES: dict[str, np.dtype[Any]] = {
    "terms": np.dtype("u1"),
    "indptr": np.dtype("<i8"),
    "vids": np.dtype("<i4"),
    "tfs": np.dtype("<f4"),
    "alive": np.dtype("?"),
    "lengths": np.dtype("<f8"),
}
"""The arrays of a saved postings file, in file order, and their types."""


class _Tokenizer:
    """FTS5's tokenizer as a function: text goes into a scratch table and its terms come out."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._conn.executescript(
            # contentless, so that 'delete-all' empties it: deleted rows of an ordinary FTS5
            # table stay in its index until a merge, and every later read pays for them
            f"CREATE VIRTUAL TABLE words USING fts5(text, content='', tokenize='{TOKENIZER}');"
            "CREATE VIRTUAL TABLE words_instances USING fts5vocab(words, instance);"
            "CREATE VIRTUAL TABLE words_terms USING fts5vocab(words, row);"
        )
        self.word_terms = functools.lru_cache(maxsize=1 << 16)(self._word_terms)

    def _word_terms(self, word: str) -> tuple[str, ...]:
        terms, _, _ = self.postings([0], [word])
        return tuple(terms)

    def postings(
        self, ids: Sequence[int], texts: Sequence[str]
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``texts`` (keyed by ``ids``) as ``read_postings`` reads an FTS5 table."""
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT INTO words (rowid, text) VALUES (?, ?)", zip(ids, texts, strict=True)
            )
            try:
                return read_postings(self._conn, "words_terms", "words_instances")
            finally:
                self._conn.execute("INSERT INTO words (words) VALUES ('delete-all')")


def read_postings(
    conn: sqlite3.Connection, terms_table: str, instances_table: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(terms, occurrences per term, document id of each occurrence), in FTS5's term order.

    FTS5 lists instances by term, then document. Only the documents are read, as one string
    per range of terms (``group_concat`` in SQLite, parsed by numpy): a 1M-fact index holds
    some 30M instances, and a Python tuple for each would take ~25 s where this takes ~5.
    """
    rows = conn.execute(f"SELECT term, cnt FROM {terms_table}").fetchall()
    terms = [str(t) for t, _ in rows]
    counts = np.asarray([int(c) for _, c in rows], dtype=np.int64)
    ends = np.cumsum(counts)
    parts, lo = [], 0
    while lo < len(terms):
        hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] - counts[lo] + _CHUNK, "right")))
        (text,) = conn.execute(
            f"SELECT group_concat(doc) FROM {instances_table} WHERE term >= ? AND term <= ?",
            (terms[lo], terms[hi - 1]),
        ).fetchone()
        parts.append(np.fromstring(text or "", dtype=np.int64, sep=","))
        lo = hi
    docs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    # Each term's documents ascend: a step back anywhere but at a term's start would mean the
    # two tables disagree on the order of terms.
    steps_back = np.flatnonzero(np.diff(docs) < 0) + 1
    if len(docs) != int(counts.sum()) or not np.isin(steps_back, ends[:-1]).all():
        raise FactIndexError(
            f"the word index's vocabulary tables ({instances_table}) disagree",
            hint="the facts database may be damaged; rebuild the index",
        )
    return terms, counts, docs


def _read_arrays(data: bytes, path: Path) -> dict[str, np.ndarray]:
    """The arrays of a postings file: magic, header length, JSON header, raw little-endian data."""

    def bad(why: str) -> FactIndexError:
        return FactIndexError(f"word postings unreadable: {why}", file=str(path))

    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 8:
        raise bad("not a guardkit word postings file")
    start = len(_MAGIC) + 8
    size = int.from_bytes(data[len(_MAGIC) : start], "little")
    try:
        counts = json.loads(data[start : start + size])
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"header is not JSON ({exc})") from None
    if not isinstance(counts, dict) or set(counts) != set(_DTYPES):
        raise bad(f"header must list exactly {', '.join(_DTYPES)}")
    out, at = {}, start + size
    for name, dtype in _DTYPES.items():
        n = counts[name]
        if not isinstance(n, int) or n < 0 or at + n * dtype.itemsize > len(data):
            raise bad(f"{name}: {n!r} values do not fit in the file")
        out[name] = np.frombuffer(data, dtype=dtype, count=n, offset=at)
        at += n * dtype.itemsize
    if at != len(data):
        raise bad(f"{len(data) - at} bytes after the last array")
    return out


class WordIndex:
    """Per-term postings of the facts' words, and BM25 top-n over them."""

    def __init__(self) -> None:
        self._tokenizer = _Tokenizer()
        self._term_ids: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._vids = np.zeros(0, dtype=np.int32)
        self._tfs = np.zeros(0, dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._lengths = np.zeros(0, dtype=np.float64)
        """Tokens per vector id (what BM25 calls the document length)."""
        self._live = 0
        self._tokens = 0.0
        self._dead_postings = 0
        self._impacts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        """Per term: ``_impact``'s answer, until the postings change."""
        self._impacts_held = 0

    @classmethod
    def from_fts(cls, conn: sqlite3.Connection, fts_table: str, vids: Sequence[int]) -> WordIndex:
        """The postings of the facts ``vids``, all already in ``fts_table``."""
        index = cls()
        conn.executescript(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{fts_table}_terms "
            f"USING fts5vocab(main, {fts_table}, row);"
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{fts_table}_instances "
            f"USING fts5vocab(main, {fts_table}, instance);"
        )
        found = read_postings(conn, f"temp.{fts_table}_terms", f"temp.{fts_table}_instances")
        index._merge(vids, *found)
        return index

    def write(self, path: Path) -> None:
        """Save the postings, dead ones dropped: a JSON header, then each array's raw bytes.

        Not ``np.save``: reading its header runs ``ast.literal_eval``, and CPython 3.11's AST
        constructor fails (``SystemError: AST constructor recursion depth mismatch``) when two
        threads build ASTs at once, as readers loading a folder together do.
        """
        if self._dead_postings:
            self._compact()
        terms = "\0".join(self._term_ids).encode()  # FTS5 tokens never hold a NUL
        arrays: dict[str, np.ndarray] = {
            "terms": np.frombuffer(terms, dtype=np.uint8),
            "indptr": self._indptr,
            "vids": self._vids,
            "tfs": self._tfs,
            "alive": self._alive,
            "lengths": self._lengths,
        }
        header = json.dumps({name: len(a) for name, a in arrays.items()}).encode()
        with path.open("wb") as fh:
            fh.write(_MAGIC + len(header).to_bytes(8, "little") + header)
            for name, a in arrays.items():
                fh.write(np.ascontiguousarray(a, dtype=_DTYPES[name]).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> WordIndex:
        """Postings saved by ``write`` (``path`` names the file in errors)."""
        arrays = _read_arrays(data, path)
        index = cls()
        text = arrays["terms"].tobytes().decode(errors="replace")
        terms = text.split("\0") if text else []
        index._term_ids = {t: i for i, t in enumerate(terms)}
        index._indptr = arrays["indptr"].copy()
        index._vids = arrays["vids"].copy()
        index._tfs = arrays["tfs"].copy()
        index._alive = arrays["alive"].copy()
        index._lengths = arrays["lengths"].copy()
        problem = index._inconsistency()
        if problem:
            raise FactIndexError(f"word postings inconsistent: {problem}", file=str(path))
        index._live = int(index._alive.sum())
        index._tokens = float(index._lengths.sum())
        return index

    def _inconsistency(self) -> str | None:
        ptr, n = self._indptr, len(self._vids)
        if len(ptr) != len(self._term_ids) + 1 or ptr[0] != 0 or ptr[-1] != n:
            return "term offsets do not match the terms and postings"
        if len(self._tfs) != n or len(self._lengths) != len(self._alive):
            return "arrays of different lengths"
        if (np.diff(ptr) < 0).any() or (
            n and not 0 <= self._vids.min() <= self._vids.max() < len(self._alive)
        ):
            return "offsets or fact ids out of range"
        return None

    @property
    def fact_count(self) -> int:
        return self._live

    def add(self, vids: Sequence[int], texts: Sequence[str]) -> None:
        """Postings of new facts."""
        if vids:
            self._merge(vids, *self._tokenizer.postings(vids, texts))

    def remove(self, vids: Sequence[int]) -> None:
        """Forget these facts: their postings stay until dead ones are a quarter of all."""
        ids = np.unique(np.asarray([v for v in vids if 0 <= v < len(self._alive)], np.int64))
        ids = ids[self._alive[ids]]
        if not len(ids):
            return
        self._forget_impacts()
        self._live -= len(ids)
        self._tokens -= float(self._lengths[ids].sum())
        self._alive[ids] = False
        self._lengths[ids] = 0.0
        self._dead_postings += int(np.isin(self._vids, ids).sum())
        if self._dead_postings * 4 > len(self._vids):
            self._compact()

    def search(self, text: str, n: int, among: Sequence[int] | None = None) -> list[int]:
        """Vector ids of the ``n`` facts with the highest BM25 score for ``text``, best first;
        of the facts ``among`` only, if given (statistics stay the whole index's)."""
        terms = [
            self._term_ids[t]
            for w in query_words(text)
            for t in self._tokenizer.word_terms(w)
            if t in self._term_ids
        ]
        if not terms or not self._live:
            return []
        scores = np.zeros(len(self._alive), dtype=np.float64)
        for t in terms:  # a word twice in the query counts twice, as FTS5's phrases do
            vids, impact = self._impact(t)
            scores[vids] += impact
        if among is not None:
            keep = np.zeros(len(scores), dtype=bool)
            keep[np.asarray(among, dtype=np.int64)] = True
            scores[~keep] = 0.0
        found = np.flatnonzero(scores > 0.0)  # 7x faster than nonzero on floats
        if len(found) > n:  # the n best, and every fact tied with the last of them
            cut = -np.partition(-scores[found], n - 1)[n - 1]
            found = found[scores[found] >= cut]
        order = np.lexsort((found, -scores[found]))[:n]
        return [int(v) for v in found[order]]

    def _impact(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """The live facts holding ``term`` and what it adds to each one's score. Kept for common
        words until the index changes: their long postings, scored again for every query, were
        most of a search's time (RESULTS.md, 2026-12-08). Not thread-safe on its own: the fact
        index's lock keeps searches and changes apart."""
        found = self._impacts.get(term)
        if found is not None:
            return found
        lo, hi = self._indptr[term], self._indptr[term + 1]
        vids, tfs = self._vids[lo:hi], self._tfs[lo:hi]
        if self._dead_postings:
            alive = self._alive[vids]
            vids, tfs = vids[alive], tfs[alive]
        idf = max(float(np.log((self._live - len(vids) + 0.5) / (len(vids) + 0.5))), _IDF_FLOOR)
        norm = _K1 * (1 - _B + _B * self._lengths[vids] / (self._tokens / self._live))
        found = (vids, idf * tfs * (_K1 + 1) / (tfs + norm))
        if len(vids) >= _IMPACTS_FROM:
            if self._impacts_held + len(vids) > _IMPACTS_HELD:
                self._forget_impacts()
            self._impacts[term] = found
            self._impacts_held += len(vids)
        return found

    def _forget_impacts(self) -> None:
        self._impacts = {}
        self._impacts_held = 0

    def _merge(
        self, vids: Sequence[int], terms: list[str], counts: np.ndarray, docs: np.ndarray
    ) -> None:
        """Add facts ``vids`` and their words' occurrences (``docs`` grouped by term)."""
        self._forget_impacts()
        ids = np.asarray(vids, dtype=np.int64)
        top = int(max(ids.max(initial=-1), docs.max(initial=-1))) + 1
        if top > len(self._alive):
            grow = max(top, 2 * len(self._alive)) - len(self._alive)
            self._alive = np.concatenate([self._alive, np.zeros(grow, dtype=bool)])
            self._lengths = np.concatenate([self._lengths, np.zeros(grow)])
        self._alive[ids] = True
        self._live = int(self._alive.sum())
        self._lengths += np.bincount(docs, minlength=len(self._lengths))
        self._tokens += float(len(docs))
        local = np.repeat(np.arange(len(terms)), counts)  # by term, then document
        first = np.ones(len(docs), dtype=bool)
        first[1:] = (local[1:] != local[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(first)
        tfs = np.diff(np.append(starts, len(docs))).astype(np.float32)
        to_global = np.asarray(
            [self._term_ids.setdefault(t, len(self._term_ids)) for t in terms], dtype=np.int64
        )
        self._insert(to_global[local[starts]], docs[starts].astype(np.int32), tfs)

    def _insert(self, term_ids: np.ndarray, vids: np.ndarray, tfs: np.ndarray) -> None:
        """Merge postings into the CSR arrays, each term's new ones after its old ones."""
        n_terms = len(self._term_ids)
        old = np.zeros(n_terms, dtype=np.int64)
        old[: len(self._indptr) - 1] = np.diff(self._indptr)
        new = np.bincount(term_ids, minlength=n_terms)
        indptr = np.concatenate([[0], np.cumsum(old + new)]).astype(np.int64)
        out_vids = np.empty(int(indptr[-1]), dtype=np.int32)
        out_tfs = np.empty(int(indptr[-1]), dtype=np.float32)
        owner = np.repeat(np.arange(n_terms), old)
        at = np.arange(len(self._vids)) - self._indptr[owner] + indptr[owner]
        out_vids[at], out_tfs[at] = self._vids, self._tfs
        order = np.argsort(term_ids, kind="stable")
        owner = term_ids[order]
        rank = np.arange(len(order)) - (np.cumsum(new) - new)[owner]
        at = indptr[owner] + old[owner] + rank
        out_vids[at], out_tfs[at] = vids[order], tfs[order]
        self._indptr, self._vids, self._tfs = indptr, out_vids, out_tfs

    def _compact(self) -> None:
        self._forget_impacts()
        keep = self._alive[self._vids]
        kept = np.concatenate([[0], np.cumsum(keep)])
        self._indptr = kept[self._indptr].astype(np.int64)
        self._vids, self._tfs = self._vids[keep], self._tfs[keep]
        self._dead_postings = 0
