"""Writing reports into the chain, through structlog.

``ChainWriter`` is a structlog processor: put it in any structlog pipeline and every event that
passes through is sealed into the chain. ``RecordSink`` is the ready-made report sink built on it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import structlog

from guardkit.records.store import RecordStore, open_store
from guardkit.reports.model import GuardReport

__all__ = ["ChainWriter", "RecordSink"]


class ChainWriter:
    """A structlog processor that appends each event to a record store, then passes it on."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        data = {k: v for k, v in event_dict.items() if k != "event"}
        record = self.store.append(str(event_dict.get("event", method_name)), data)
        event_dict["record_seq"] = record.seq
        event_dict["record_sha256"] = record.sha256
        return event_dict


class RecordSink:
    """A report sink that seals every ``GuardReport`` into a hash-chained log."""

    def __init__(self, store: RecordStore | str | Path) -> None:
        self.store = open_store(store) if isinstance(store, str | Path) else store
        self._logger = structlog.wrap_logger(
            structlog.ReturnLogger(),
            processors=[ChainWriter(self.store), structlog.processors.JSONRenderer()],
        )

    def write(self, report: GuardReport) -> None:
        self._logger.info("guard_report", **report.model_dump(mode="json"))
