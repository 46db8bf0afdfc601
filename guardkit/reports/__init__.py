"""Reports, the ledger and the sinks reports are written to."""

from guardkit.reports.ledger import LedgerSummary, ReliabilityLedger, wilson_interval
from guardkit.reports.model import (
    ActionTaken,
    Attempt,
    ErrorInfo,
    GuardReport,
    Outcome,
    PolicyRef,
    Usage,
)
from guardkit.reports.sinks import GuardkitSinkWarning, LogSink, ReportSink, default_ledger, emit

__all__ = [
    "ActionTaken",
    "Attempt",
    "ErrorInfo",
    "GuardReport",
    "GuardkitSinkWarning",
    "LedgerSummary",
    "LogSink",
    "Outcome",
    "PolicyRef",
    "ReliabilityLedger",
    "ReportSink",
    "Usage",
    "default_ledger",
    "emit",
    "wilson_interval",
]
