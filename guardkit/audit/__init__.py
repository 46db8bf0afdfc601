"""Reliability audits: run a suite of cases through a guarded model, record every case, report.

``run_audit(AuditConfig(...))`` reads the suite, appends one record per case to
``OUT/records.jsonl`` (resumable), and writes ``OUT/report.json`` and ``OUT/report.html``.
Engines (``local``, ``ray``) and answer sources (``local``, ``openai``, ``responses``) are
registries by name.
"""

from guardkit.audit.engines import ENGINES
from guardkit.audit.record import Record
from guardkit.audit.report import AuditReport
from guardkit.audit.run import AuditConfig, ProgressHook, run_audit
from guardkit.audit.sources import (
    SOURCES,
    AuditWarning,
    NoReferencesWarning,
    SourceSpec,
    UnmatchedResponsesWarning,
)
from guardkit.audit.store import AuditStateError, read_records
from guardkit.audit.suite import Case, SuiteError, SuiteProblem, read_suite

__all__ = [
    "ENGINES",
    "SOURCES",
    "AuditConfig",
    "AuditReport",
    "AuditStateError",
    "AuditWarning",
    "Case",
    "NoReferencesWarning",
    "ProgressHook",
    "Record",
    "SourceSpec",
    "SuiteError",
    "SuiteProblem",
    "UnmatchedResponsesWarning",
    "read_records",
    "read_suite",
    "run_audit",
]
