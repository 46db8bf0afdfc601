"""The audit folder: ``audit.json`` (what is being audited) and ``records.jsonl`` (the results).

Records are appended as cases finish and made durable in batches (write, flush, fsync). A crash
can only tear the last line, and a torn line is cut off when the audit resumes, so every record
in the file is whole, none is lost for good (an unflushed case simply runs again) and none is
written twice (cases already recorded are skipped). An audit resumes only against the same
suite, policy, source, fact index and verifier folders, compared by sha256 (a policy names an
index or a model by its path, which a rebuild leaves unchanged).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ConfigDict, ValidationError

from guardkit._version import __version__
from guardkit.audit.record import Record
from guardkit.errors import ConfigError

__all__ = [
    "RECORDS",
    "STATE",
    "AuditState",
    "AuditStateError",
    "RecordWriter",
    "prepare",
    "read_records",
]

STATE = "audit.json"
RECORDS = "records.jsonl"


class AuditStateError(ConfigError):
    """The output folder holds another audit, or cannot be resumed as asked."""

    code = "audit_state"


class AuditState(BaseModel):
    """What an audit folder is auditing; ``--resume`` must match it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str
    suite_sha256: str
    policy_id: str
    policy_sha256: str
    source: str
    source_sha256: str | None = None
    references_sha256: str | None = None
    """The manifests of the fact index and verifier folders the policy names."""
    started_at: datetime
    guardkit_version: str = __version__


_MUST_MATCH = {
    "suite_sha256": "suite",
    "policy_sha256": "policy (its file, its risk lock and any --index)",
    "source": "source",
    "source_sha256": "recorded responses file",
    "references_sha256": "fact index or verifier model",
}


def _refuse(old: AuditState, new: AuditState) -> None:
    for field, what in _MUST_MATCH.items():
        before, now = getattr(old, field), getattr(new, field)
        if field == "references_sha256" and before is None:
            continue  # started by a guardkit that did not record them
        if before != now:
            raise AuditStateError(
                f"cannot resume: the {what} differs from the one this audit started with "
                f"({str(before)[:16]} then, {str(now)[:16]} now)",
                loc=(field,),
                hint="resume with the original files, or audit into a new --out folder",
            )


def prepare(out: Path, state: AuditState, *, resume: bool) -> set[str]:
    """Create or reopen the folder; the ids already recorded (empty for a new audit)."""
    state_file, records = out / STATE, out / RECORDS
    if out.exists() and not out.is_dir():
        raise AuditStateError("the output path is a file, not a folder", file=str(out))
    if state_file.exists():
        if not resume:
            raise AuditStateError(
                "the output folder already holds an audit",
                file=str(out),
                hint="pass --resume to continue it, or choose an empty --out folder",
            )
        try:
            old = AuditState.model_validate_json(state_file.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise AuditStateError(
                f"unreadable audit state: {exc.errors()[0]['msg']}", file=str(state_file)
            ) from exc
        _refuse(old, state)
        return {r.id for r in read_records(records, repair=True)}
    if records.exists() and records.stat().st_size:
        raise AuditStateError("records.jsonl exists without audit.json", file=str(records))
    out.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(state_file)
    return set()


def _cut_torn_tail(path: Path) -> None:
    """Truncate the file after its last newline (a write interrupted mid-line)."""
    with path.open("rb+") as handle:
        data = handle.read()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())


def read_records(path: Path, *, repair: bool = False) -> list[Record]:
    """Every whole record; a torn last line is ignored (and cut off when ``repair``)."""
    if not path.exists():
        return []
    if repair:
        _cut_torn_tail(path)
    raw = path.read_bytes()
    lines = raw[: raw.rfind(b"\n") + 1].split(b"\n")[:-1]  # bytes: no splitting at U+2028
    records: list[Record] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        try:
            record = Record.model_validate_json(line)  # invalid UTF-8 is a validation error
        except ValidationError as exc:
            raise AuditStateError(
                f"corrupt record: {exc.errors()[0]['msg']}", file=str(path), line=number
            ) from exc
        if record.id in seen:
            raise AuditStateError(
                f"duplicate record for case {record.id!r}", file=str(path), line=number
            )
        seen.add(record.id)
        records.append(record)
    return records


class RecordWriter:
    """Appends records, durable every ``batch`` records or ``interval_s`` seconds, and on close."""

    def __init__(self, path: Path, *, batch: int = 32, interval_s: float = 1.0) -> None:
        self._handle = path.open("a", encoding="utf-8")
        self._pending: list[str] = []
        self._batch = batch
        self._interval = interval_s
        self._last = time.monotonic()

    def write(self, record: Record) -> None:
        """Queue one record; flush when the batch is full or the interval has passed."""
        self._pending.append(record.model_dump_json() + "\n")
        if len(self._pending) >= self._batch or time.monotonic() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        """Write the queued records and fsync them."""
        if self._pending:
            self._handle.write("".join(self._pending))
            self._pending.clear()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._last = time.monotonic()

    def close(self) -> None:
        """Flush and close."""
        if not self._handle.closed:
            self.flush()
            self._handle.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
