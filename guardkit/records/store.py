"""Where the chain is kept: SQLite (the default) or JSONL, both append-only and process-safe.

Appends take an exclusive lock (SQLite ``BEGIN IMMEDIATE``; ``flock`` on the JSONL file), read the
head, seal the next record and write it in one step, so concurrent writers never fork the chain.
Timestamps never go backwards: a record's time is at least its predecessor's.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from guardkit.errors import ConfigError, UnknownNameError
from guardkit.records.chain import GENESIS, ChainRecord, canonical_json, seal

__all__ = ["SUFFIXES", "JsonlStore", "RecordStore", "SqliteStore", "open_store"]


class RecordStore(Protocol):
    """The contract of a chain store."""

    path: Path

    def append(self, kind: str, data: dict[str, Any]) -> ChainRecord:
        """Seal and write the next record."""
        ...

    def records(self) -> Iterator[ChainRecord | str]:
        """Every record in storage order; an unparsable one is yielded as a description."""
        ...


def _parse(text: str, where: str) -> ChainRecord | str:
    try:
        return ChainRecord.model_validate_json(text)
    except ValidationError as exc:
        return f"{where}: {exc.errors(include_url=False)[0]['msg']}"


def _next(last: ChainRecord | None, kind: str, data: dict[str, Any]) -> ChainRecord:
    now = datetime.now(UTC)
    if last is None:
        return seal(1, now, kind, data, GENESIS)
    return seal(last.seq + 1, max(now, last.ts), kind, data, last.sha256)


class SqliteStore:
    """The chain in one SQLite table of canonical JSON records."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        db = self._connect()
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS records"
                " (position INTEGER PRIMARY KEY, record TEXT NOT NULL)"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(records)")}
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"not a guardkit record log: {exc}", file=str(self.path)) from None
        finally:
            db.close()
        if not {"position", "record"} <= columns:
            raise ConfigError(
                f"not a guardkit record log: its records table has columns {sorted(columns)}",
                file=str(self.path),
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def append(self, kind: str, data: dict[str, Any]) -> ChainRecord:
        with self._lock:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT record FROM records ORDER BY position DESC LIMIT 1"
                ).fetchone()
                last = ChainRecord.model_validate_json(row[0]) if row else None
                record = _next(last, kind, data)
                db.execute(
                    "INSERT INTO records (record) VALUES (?)",
                    (canonical_json(record.model_dump(mode="json")),),
                )
                db.execute("COMMIT")
                return record
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()

    def records(self) -> Iterator[ChainRecord | str]:
        db = self._connect()
        try:
            for position, text in db.execute(
                "SELECT position, record FROM records ORDER BY position"
            ):
                yield _parse(text, f"row {position}")
        finally:
            db.close()


class JsonlStore:
    """The chain as one canonical JSON record per line."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.touch(exist_ok=True)

    def append(self, kind: str, data: dict[str, Any]) -> ChainRecord:
        with self._lock, self.path.open("a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                last_line = _last_line(fh)
                last = ChainRecord.model_validate_json(last_line) if last_line else None
                record = _next(last, kind, data)
                fh.seek(0, os.SEEK_END)
                fh.write((canonical_json(record.model_dump(mode="json")) + "\n").encode())
                fh.flush()
                os.fsync(fh.fileno())
                return record
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def check_tail(self) -> None:
        """Refuse to extend a chain whose last line is not a whole record: every report after
        it would fail to seal and be dropped, one warning for all."""
        with self.path.open("rb") as fh:
            last = _last_line(fh)
        found = _parse(last.decode("utf-8", "replace"), "its last line") if last else None
        if isinstance(found, str):
            raise ConfigError(
                f"the record log cannot be extended: {found}",
                file=str(self.path),
                hint="a write cut short or an edit: `guardkit log verify` shows where",
            )

    def records(self) -> Iterator[ChainRecord | str]:
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield _parse(line, f"line {number}")


def _last_line(fh: Any) -> bytes | None:
    """The last non-empty line of a file, read backwards from the end."""
    end = fh.seek(0, os.SEEK_END)
    chunk, data = 4096, b""
    position = end
    while position > 0:
        step = min(chunk, position)
        position -= step
        fh.seek(position)
        data = fh.read(step) + data
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or position == 0:
            last: bytes = lines[-1]
            return last or None
    return None


_STORES: dict[str, Callable[[Path], RecordStore]] = {
    ".jsonl": JsonlStore,
    ".db": SqliteStore,
    ".sqlite": SqliteStore,
    ".sqlite3": SqliteStore,
}


SUFFIXES = tuple(_STORES)
"""The file suffixes a record log may have."""


def open_store(path: str | Path, *, create: bool = True) -> RecordStore:
    """Open a chain by file suffix: ``.jsonl`` for JSONL, ``.db``/``.sqlite`` for SQLite."""
    path = Path(path)
    factory = _STORES.get(path.suffix)
    if factory is None:
        raise UnknownNameError(
            "record store suffix", path.suffix or "(none)", _STORES, file=str(path)
        )
    if not create and not path.exists():
        raise ConfigError("no such record log", file=str(path))
    store = factory(path)
    if create and isinstance(store, JsonlStore):  # opened to append: its tail must hold
        store.check_tail()
    return store
