"""The facts themselves, in SQLite: text, ids, source and span per vector id, and their words.

The database lives in memory. A loaded index reads its ``facts-<generation>.sqlite`` file once,
as bytes (hashed against the manifest, then ``deserialize``d): it holds no file open, so a
concurrent save that retires the file cannot break it, and the bytes checked are the bytes used.
Beside the ``facts`` table sits the FTS5 index of their words (``_lexical``), kept in step by
triggers; a database saved before it existed gets it on load. BM25 runs on postings in memory
(``_bm25``): loaded from the index's saved postings file, or else read from the FTS5 table at
the first word search, then kept in step with every insert and delete. Also in memory, each
vector id's text key (a hash of its whitespace-normalised text, 0 once deleted) lets a search
show copies of one sentence once without reading any text back.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from guardkit.errors import FactIndexError
from guardkit.facts._bm25 import WordIndex
from guardkit.facts._ingest import FactRow
from guardkit.facts._lexical import ensure_lexical

__all__ = ["FactStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    vid INTEGER PRIMARY KEY AUTOINCREMENT,
    fact_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_doc ON facts(doc_id);
"""
_COLUMNS = "vid, fact_id, doc_id, source, start, end, text, metadata"
_NAMES = tuple(_COLUMNS.split(", "))
_IDS = "(SELECT value FROM json_each(?))"
"""Ids as one JSON parameter: a batch of searches can exceed SQLite's limit of 32,766 ``?``s."""


class FactStore:
    """Facts keyed by the integer id their vector has in the FAISS index."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._keys = np.zeros(0, dtype=np.int64)
        self._source_of = np.zeros(0, dtype=np.int32)
        """Per vector id, 1 + the number of its fact's source in ``_source_names`` (0: none)."""
        self._source_names: list[str] = []
        self._source_numbers: dict[str, int] = {}
        self._remember(conn.execute("SELECT vid, text, source FROM facts"))
        self._source_indexed = False
        self._words: WordIndex | None = None
        """Set by ``load_words`` from a saved file, or read from the FTS5 table at the first word
        search (~1 s per 100k facts): opening an index without the file never pays for it."""

    def _remember(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Keep each fact's text key and source in memory: searches ask for them per hit."""
        facts = [(int(vid), text_key(text), self._source_number(src)) for vid, text, src in rows]
        if not facts:
            return
        top = max(vid for vid, _, _ in facts)
        if top >= len(self._keys):
            size = max(top + 1, 2 * len(self._keys))
            keys, sources = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int32)
            keys[: len(self._keys)], sources[: len(self._source_of)] = self._keys, self._source_of
            self._keys, self._source_of = keys, sources
        vids, text_keys, source_numbers = zip(*facts, strict=True)
        self._keys[list(vids)] = text_keys
        self._source_of[list(vids)] = source_numbers

    def _source_number(self, source: str) -> int:
        number = self._source_numbers.get(source)
        if number is None:
            self._source_names.append(source)
            number = self._source_numbers[source] = len(self._source_names)
        return number

    @classmethod
    def memory(cls) -> FactStore:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.executescript(_SCHEMA)
        ensure_lexical(conn)
        return cls(conn)

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> FactStore:
        """A store from a saved database file's bytes (``path`` names it in errors)."""
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            conn.deserialize(data)
            conn.execute(
                "SELECT vid, fact_id, doc_id, source, start, end, text, metadata FROM facts LIMIT 1"
            )
            ensure_lexical(conn)
            return cls(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise FactIndexError(f"facts database unreadable: {exc}", file=str(path)) from None

    def insert(self, rows: Sequence[FactRow]) -> list[int]:
        """Store ``rows``; returns their new vector ids (never reused after a delete)."""
        conn = self._conn
        ids = []
        with conn:
            for r in rows:
                cur = conn.execute(
                    "INSERT INTO facts (fact_id, doc_id, source, start, end, text, metadata) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (r.fact_id, r.doc_id, r.source, r.start, r.end, r.text, _dumps(r.metadata)),
                )
                ids.append(int(cur.lastrowid or 0))
        self._remember((vid, r.text, r.source) for vid, r in zip(ids, rows, strict=True))
        if self._words is not None:
            self._words.add(ids, [r.text for r in rows])
        return ids

    def delete_docs(self, doc_ids: Iterable[str]) -> list[int]:
        """Remove every fact of these documents; returns the vector ids removed."""
        conn = self._conn
        removed: list[int] = []
        with conn:
            for doc_id in doc_ids:
                rows = conn.execute("SELECT vid FROM facts WHERE doc_id = ?", (doc_id,)).fetchall()
                removed += [int(r[0]) for r in rows]
                conn.execute("DELETE FROM facts WHERE doc_id = ?", (doc_id,))
        self._keys[removed] = 0
        self._source_of[removed] = 0
        if self._words is not None:
            self._words.remove(removed)
        return removed

    def doc_ids(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT DISTINCT doc_id FROM facts")}

    def has_doc(self, doc_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM facts WHERE doc_id = ? LIMIT 1", (doc_id,))
        return row.fetchone() is not None

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM facts").fetchone()[0])

    def doc_count(self) -> int:
        return int(self._conn.execute("SELECT count(DISTINCT doc_id) FROM facts").fetchone()[0])

    def fetch(self, vids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Rows for these vector ids (deleted ids are simply absent)."""
        cur = self._conn.execute(f"SELECT {_COLUMNS} FROM facts WHERE vid IN {_IDS}", (_ids(vids),))
        out = {}
        for row in cur:
            rec = dict(zip(_NAMES, row, strict=True))
            meta = rec["metadata"]
            rec["metadata"] = {} if meta == "{}" else json.loads(meta)  # most facts have none
            out[row[0]] = rec
        return out

    def sources(self, vids: Iterable[int]) -> dict[int, str]:
        """The source of each of ``vids`` still stored (HNSW keeps deleted ids as tombstones)."""
        ids = np.fromiter(vids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < len(self._source_of))]
        numbers = self._source_of[ids]
        live = numbers > 0
        names = self._source_names
        return {
            vid: names[n - 1]
            for vid, n in zip(ids[live].tolist(), numbers[live].tolist(), strict=True)
        }

    def source_numbers(self, vids: np.ndarray) -> tuple[list[str], np.ndarray]:
        """The source names, and per vector id 1 + the number of its fact's source in them (0:
        deleted, or not a fact's id)."""
        known = (vids >= 0) & (vids < len(self._source_of))
        numbers = np.where(known, self._source_of[np.where(known, vids, 0)], 0)
        return self._source_names, numbers.astype(np.int64)

    def vids_of(self, names: Iterable[str]) -> list[int]:
        """Vector ids of every fact whose document id or source is one of ``names``, in order."""
        if not self._source_indexed:  # built at the first such query: most indexes never ask
            with self._conn:
                self._conn.execute("CREATE INDEX IF NOT EXISTS facts_source ON facts(source)")
            self._source_indexed = True
        query = f"SELECT vid FROM facts WHERE source IN {_IDS} OR doc_id IN {_IDS} ORDER BY vid"
        wanted = json.dumps(sorted(set(names)))
        return [int(vid) for (vid,) in self._conn.execute(query, (wanted, wanted))]

    def has_any_source(self, sources: Iterable[str]) -> bool:
        query = f"SELECT 1 FROM facts WHERE source IN {_IDS} LIMIT 1"
        return self._conn.execute(query, (json.dumps(sorted(set(sources))),)).fetchone() is not None

    def text_keys(self, vids: Sequence[int]) -> list[int]:
        """Each vector id's text key: equal for copies of one text, 0 if deleted or unknown."""
        ids = np.asarray(vids, dtype=np.int64)
        if not len(self._keys):
            return [0] * len(ids)
        known = (ids >= 0) & (ids < len(self._keys))
        keys: list[int] = np.where(known, self._keys[np.where(known, ids, 0)], 0).tolist()
        return keys

    def lexical(self, text: str, n: int, among: Sequence[int] | None = None) -> list[int]:
        """Vector ids of the ``n`` facts whose words match ``text`` best (BM25), of ``among``
        only if given."""
        return self._word_index().search(text, n, among)

    def _word_index(self) -> WordIndex:
        if self._words is None:
            self._words = WordIndex.from_fts(self._conn, "facts_fts", self.live_vids())
        return self._words

    def write_words(self, path: Path) -> None:
        """Write the BM25 postings to ``path`` (read from FTS5 first if not yet in memory)."""
        self._word_index().write(path)

    def load_words(self, data: bytes, path: Path) -> None:
        """Use saved postings instead of reading them from FTS5 (``path`` names them in errors)."""
        words = WordIndex.from_bytes(data, path)
        if words.fact_count != self.count():
            raise FactIndexError(
                f"word postings hold {words.fact_count} facts, the facts file {self.count()}",
                file=str(path),
            )
        self._words = words

    def live_vids(self) -> list[int]:
        return [int(r[0]) for r in self._conn.execute("SELECT vid FROM facts ORDER BY vid")]

    def content_sha256(self) -> str:
        """Hash of every fact (id, source, span, text) in id order: same facts, same hash."""
        digest = hashlib.sha256()
        cur = self._conn.execute("SELECT fact_id, source, start, end, text FROM facts ORDER BY vid")
        for row in cur:
            digest.update(json.dumps(row, ensure_ascii=False).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def write(self, path: Path) -> None:
        """Write a complete copy to ``path`` (a temporary name; the caller renames it)."""
        target = sqlite3.connect(str(path))
        try:
            self._conn.backup(target)
        finally:
            target.close()

    def close(self) -> None:
        self._conn.close()


def text_key(text: str) -> int:
    """Copies of a text, up to whitespace, share the key (never 0; in-memory only: ``hash``
    differs between processes)."""
    return hash(" ".join(text.split())) | 1


def _ids(vids: Iterable[int]) -> str:
    return json.dumps([int(v) for v in vids])


def _dumps(meta: dict[str, Any]) -> str:
    try:
        return json.dumps(meta, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise FactIndexError(f"metadata is not JSON-serialisable: {exc}") from None
