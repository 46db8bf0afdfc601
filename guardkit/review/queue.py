"""Human oversight: flagged outputs wait in a SQLite queue for a named reviewer's decision.

Every decision is also sealed into the record chain (when the queue has one), so approvals and
rejections are as tamper-evident as the calls they judge. A callback hook lets an application
page someone when an item arrives; a failing callback warns and never breaks the call.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from guardkit.errors import ConfigError
from guardkit.records.store import RecordStore
from guardkit.reports.model import GuardReport, Outcome
from guardkit.reports.sinks import GuardkitSinkWarning

__all__ = ["ReviewItem", "ReviewQueue"]

Status = Literal["pending", "approved", "rejected"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL UNIQUE,
    policy_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reason TEXT,
    output TEXT,
    report TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    reviewer TEXT,
    note TEXT,
    decided_at TEXT
)
"""


class ReviewItem(BaseModel):
    """One flagged call and, once decided, who decided what and why."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(ge=1)
    call_id: str
    policy_id: str
    created_at: datetime
    reason: str | None
    output: str | None
    """The output as the policy allowed it to be recorded (``records.content``)."""
    status: Status
    reviewer: str | None = None
    note: str | None = None
    decided_at: datetime | None = None
    report: dict[str, Any] = Field(repr=False)


class ReviewQueue:
    """A review queue in one SQLite file; also a report sink that enqueues flagged calls."""

    def __init__(
        self,
        path: str | Path,
        *,
        log: RecordStore | None = None,
        on_flag: Callable[[ReviewItem], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.log = log
        self.on_flag = on_flag
        self._lock = threading.Lock()
        try:
            with self._connect() as db:
                db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"not a guardkit review queue: {exc}", file=str(self.path)) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed on success, rolled back on error, always closed."""
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def write(self, report: GuardReport) -> None:
        """Sink: enqueue the call if it was flagged."""
        if report.outcome is Outcome.FLAGGED:
            self.submit(report)

    def submit(self, report: GuardReport) -> ReviewItem:
        """Put a flagged call in the queue (once per call id)."""
        reason = next((a.detail for a in reversed(report.actions) if a.action == "flag"), None)
        output = report.content.output if report.content else None
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO reviews"
                " (call_id, policy_id, created_at, reason, output, report)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    report.call_id,
                    report.policy.id,
                    datetime.now(UTC).isoformat(),
                    reason,
                    output,
                    report.model_dump_json(),
                ),
            )
            row = db.execute(
                "SELECT * FROM reviews WHERE call_id = ?", (report.call_id,)
            ).fetchone()
        item = _item(row)
        if self.on_flag is not None:
            try:
                self.on_flag(item)
            except Exception as exc:  # an application's hook must not break the call
                warnings.warn(f"review hook failed: {exc}", GuardkitSinkWarning, stacklevel=2)
        return item

    def list(self, status: Status | None = None) -> list[ReviewItem]:
        """Items, oldest first, optionally of one status."""
        with self._connect() as db:
            if status is None:
                rows = db.execute("SELECT * FROM reviews ORDER BY id").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM reviews WHERE status = ? ORDER BY id", (status,)
                ).fetchall()
        return [_item(r) for r in rows]

    def get(self, item_id: int) -> ReviewItem:
        """One item; a ``ConfigError`` naming the queue if there is no such item."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM reviews WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise ConfigError(f"no review item {item_id}", file=str(self.path))
        return _item(row)

    def decide(self, item_id: int, *, approve: bool, reviewer: str, note: str = "") -> ReviewItem:
        """Approve or reject a pending item; decisions are final and recorded in the chain."""
        if not reviewer.strip():
            raise ConfigError("a decision needs the reviewer's name")
        status: Status = "approved" if approve else "rejected"
        now = datetime.now(UTC).isoformat()
        with self._lock, self._connect() as db:
            updated = db.execute(
                "UPDATE reviews SET status = ?, reviewer = ?, note = ?, decided_at = ?"
                " WHERE id = ? AND status = 'pending'",
                (status, reviewer, note, now, item_id),
            ).rowcount
        item = self.get(item_id)
        if not updated:
            raise ConfigError(f"review item {item_id} was already {item.status} by {item.reviewer}")
        if self.log is not None:
            self.log.append(
                "review_decision",
                {
                    "review_id": item.id,
                    "call_id": item.call_id,
                    "policy_id": item.policy_id,
                    "status": status,
                    "reviewer": reviewer,
                    "note": note,
                },
            )
        return item

    def wait(self, item_id: int, timeout_s: float, poll_s: float = 0.5) -> ReviewItem:
        """Block until the item is decided or the timeout passes; returns it either way."""
        deadline = time.monotonic() + timeout_s
        while True:
            item = self.get(item_id)
            if item.status != "pending" or time.monotonic() >= deadline:
                return item
            time.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))


def _item(row: sqlite3.Row) -> ReviewItem:
    return ReviewItem(
        id=row["id"],
        call_id=row["call_id"],
        policy_id=row["policy_id"],
        created_at=row["created_at"],
        reason=row["reason"],
        output=row["output"],
        status=row["status"],
        reviewer=row["reviewer"],
        note=row["note"],
        decided_at=row["decided_at"],
        report=json.loads(row["report"]),
    )
