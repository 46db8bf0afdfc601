"""A hash chain of records: editing, deleting, reordering or inserting any record is detectable.

Each record carries the sha256 of the previous record and the sha256 of its own canonical JSON
(sorted keys, no spaces, UTF-8) computed over every other field. ``verify`` replays the chain and
names the first record that breaks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GENESIS", "ChainRecord", "VerifyResult", "canonical_json", "seal", "verify_records"]

GENESIS = "0" * 64
"""The ``prev_sha256`` of the first record."""


def canonical_json(data: Any) -> str:
    """The one serialisation that hashes are computed over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ChainRecord(BaseModel):
    """One link: what happened (``kind``, ``data``), when, and the hashes that bind it in place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(ge=1)
    ts: datetime
    kind: str
    data: dict[str, Any]
    prev_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    def body(self) -> dict[str, Any]:
        """Every field but the record's own hash, as hashed."""
        return self.model_dump(mode="json", exclude={"sha256"})

    def computed_sha256(self) -> str:
        """The hash this record should carry."""
        return hashlib.sha256(canonical_json(self.body()).encode()).hexdigest()


def seal(seq: int, ts: datetime, kind: str, data: dict[str, Any], prev_sha256: str) -> ChainRecord:
    """Make the next record of a chain."""
    draft = ChainRecord(
        seq=seq, ts=ts, kind=kind, data=data, prev_sha256=prev_sha256, sha256=GENESIS
    )
    return draft.model_copy(update={"sha256": draft.computed_sha256()})


class VerifyResult(BaseModel):
    """Whether a chain is intact; if not, the first bad record and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    records: int = Field(ge=0)
    head_sha256: str | None = None
    first_bad: int | None = None
    """1-based position of the first bad record in storage order (a line or a row)."""
    reason: str | None = None
    checkpoints: int = Field(0, ge=0)


def verify_records(records: Iterable[ChainRecord | str]) -> VerifyResult:
    """Replay a chain in storage order; a ``str`` item is a record that could not be parsed."""
    prev, expected_seq, last_ts, count, checkpoints = GENESIS, 1, None, 0, 0
    for position, record in enumerate(records, start=1):
        problem = None
        if isinstance(record, str):
            problem = f"unreadable record: {record}"
        elif record.computed_sha256() != record.sha256:
            problem = "contents do not match the record's sha256 (edited)"
        elif record.prev_sha256 != prev:
            problem = (
                f"prev_sha256 does not match record {position - 1} "
                "(a record was deleted, inserted or reordered)"
            )
        elif record.seq != expected_seq:
            problem = f"sequence number {record.seq}, expected {expected_seq}"
        elif last_ts is not None and record.ts < last_ts:
            problem = f"timestamp {record.ts.isoformat()} is earlier than the record before it"
        if problem is not None:
            return VerifyResult(ok=False, records=count, first_bad=position, reason=problem)
        assert not isinstance(record, str)
        prev, expected_seq, last_ts = record.sha256, expected_seq + 1, record.ts
        count += 1
        checkpoints += record.kind == "checkpoint"
    return VerifyResult(
        ok=True, records=count, head_sha256=prev if count else None, checkpoints=checkpoints
    )
