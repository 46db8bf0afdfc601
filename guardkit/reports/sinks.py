"""Where reports go after a call: the log, the ledger, anything with ``write(report)``.

A sink that fails warns; it never breaks the guarded call it is recording.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import structlog

from guardkit.reports.ledger import ReliabilityLedger
from guardkit.reports.model import GuardReport

__all__ = ["GuardkitSinkWarning", "LogSink", "ReportSink", "default_ledger", "emit"]


class GuardkitSinkWarning(RuntimeWarning):
    """A report sink failed; the call itself went on."""


@runtime_checkable
class ReportSink(Protocol):
    """The contract of every sink: one method."""

    def write(self, report: GuardReport) -> None:
        """Record one report."""
        ...


class LogSink:
    """Emits each report as one structlog JSON event on the ``guardkit.reports`` logger.

    The JSON goes through stdlib logging at INFO, so it is silent until an application
    configures a handler for ``guardkit.reports`` (a library never prints by default).
    """

    def __init__(self, logger_name: str = "guardkit.reports") -> None:
        self._logger = structlog.wrap_logger(
            logging.getLogger(logger_name),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.JSONRenderer(sort_keys=True),
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
        )

    def write(self, report: GuardReport) -> None:
        self._logger.info("guard_report", **report.model_dump(mode="json"))


_DEFAULT_LEDGER = ReliabilityLedger()
_DEFAULT_LOG = LogSink()


def default_ledger() -> ReliabilityLedger:
    """The process-wide ledger that guards write to unless given another."""
    return _DEFAULT_LEDGER


def default_sinks() -> list[ReportSink]:
    """The log and the process-wide ledger."""
    return [_DEFAULT_LOG, _DEFAULT_LEDGER]


def emit(report: GuardReport, sinks: Iterable[ReportSink]) -> None:
    """Hand a report to every sink; a failing sink warns and the rest still run."""
    for sink in sinks:
        try:
            sink.write(report)
        except Exception as exc:  # a sink must never break the guarded call
            warnings.warn(
                f"report sink {type(sink).__name__} failed: {type(exc).__name__}: {exc}",
                GuardkitSinkWarning,
                stacklevel=3,
            )
