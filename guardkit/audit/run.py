"""Running an audit end to end: suite in, records appended, ``report.json`` and ``.html`` out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from guardkit._files import write_atomic
from guardkit.audit.engines import get_engine
from guardkit.audit.html import render_html
from guardkit.audit.record import Record
from guardkit.audit.report import AuditReport, build_report
from guardkit.audit.sources import (
    SourceSpec,
    check_source,
    load_audit_policy,
    warn_unreferenced,
)
from guardkit.audit.store import RECORDS, STATE, AuditState, RecordWriter, prepare, read_records
from guardkit.audit.suite import SuiteProblem, read_suite
from guardkit.checks.risk import RiskCheckConfig
from guardkit.policy.model import Policy
from guardkit.reports.model import PolicyRef
from guardkit.risk.calibration import file_sha256
from guardkit.risk.lock import RiskLock
from guardkit.verifier._negations import READING

__all__ = ["AuditConfig", "ProgressHook", "run_audit"]

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


class ProgressHook(Protocol):
    """Told after every finished case (and once at the start) how far the audit is."""

    def update(self, done: int, total: int, reliable: int) -> None:
        """``done`` of ``total`` cases recorded, ``reliable`` of them reliable completions."""
        ...


@dataclass(frozen=True)
class AuditConfig:
    """One audit: the suite, where answers come from, how to run, where results go."""

    suite: Path
    out: Path
    source: SourceSpec
    engine: str = "local"
    workers: int = 1
    resume: bool = False
    fail_fast: bool = False
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _lock(policy: Policy) -> RiskLock | None:
    config = policy.check_configs.get("risk")
    return config.locked if isinstance(config, RiskCheckConfig) else None


def _references(policy: Policy) -> str | None:
    """One hash of the manifests of every fact index and verifier folder the policy's checks
    name, and of how the verifier reads pairs (its models go with the guardkit version, its
    reading may change within one)."""
    found = [f"verifier.reading:{READING}"]
    for name, config in sorted(policy.check_configs.items()):
        for role in ("index", "verifier"):
            folder = getattr(config, role, None)
            if isinstance(folder, Path) and (folder / "manifest.json").is_file():
                found.append(f"{name}.{role}:{file_sha256(folder / 'manifest.json')}")
    return hashlib.sha256("\n".join(found).encode()).hexdigest()


def _state(config: AuditConfig, policy: Policy) -> AuditState:
    lock = _lock(policy)
    policy_hash = policy.sha256
    if lock is not None:  # a new lock changes decisions as much as a new policy does
        policy_hash = hashlib.sha256((policy_hash + lock.model_dump_json()).encode()).hexdigest()
    responses = config.source.responses
    return AuditState(
        suite=str(config.suite),
        suite_sha256=file_sha256(config.suite),
        policy_id=policy.id,
        policy_sha256=policy_hash,
        source=config.source.describe(),
        source_sha256=file_sha256(responses) if responses else None,
        references_sha256=_references(policy),
        started_at=config.started_at,
    )


def run_audit(config: AuditConfig, progress: ProgressHook | None = None) -> AuditReport:
    """Audit every case not yet recorded, then write both reports from all the records."""
    cases, problems = read_suite(config.suite, fail_fast=config.fail_fast)
    policy = load_audit_policy(config.source.policy, config.source.index)
    engine = get_engine(config.engine)
    check_source(config.source, [c.case.id for c in cases])
    warn_unreferenced(policy, [c.case for c in cases])
    created = not (config.out / STATE).exists()
    fresh_folder = not config.out.exists()
    done = prepare(config.out, _state(config, policy), resume=config.resume)
    records_path = config.out / RECORDS
    prior = read_records(records_path) if done else []
    pending = [c for c in cases if c.case.id not in done]
    counts = [len(prior), sum(r.reliable for r in prior)]
    total = len(prior) + len(pending)
    if progress is not None:
        progress.update(counts[0], total, counts[1])
    try:
        with RecordWriter(records_path) as writer:

            def on_record(record: Record) -> None:
                writer.write(record)
                counts[0] += 1
                counts[1] += record.reliable
                if progress is not None:
                    progress.update(counts[0], total, counts[1])

            engine(pending, config.source, config.workers, on_record)
    except BaseException:
        if created and counts[0] == 0:  # refused before a case ran: leave no audit behind
            _discard(config.out, fresh_folder)
        raise
    return write_reports(config, policy, problems=problems)


def _discard(out: Path, folder_too: bool) -> None:
    """Remove what ``prepare`` made for an audit that recorded nothing."""
    for name in (STATE, RECORDS):
        (out / name).unlink(missing_ok=True)
    if folder_too and not any(out.iterdir()):
        out.rmdir()


def write_reports(
    config: AuditConfig, policy: Policy, *, problems: Sequence[SuiteProblem]
) -> AuditReport:
    """Build ``report.json`` and ``report.html`` from the records file."""
    lock = _lock(policy)
    report = build_report(
        read_records(config.out / RECORDS),
        policy=PolicyRef(id=policy.id, version=policy.version, sha256=policy.sha256),
        currency=policy.currency,
        source=config.source.describe(),
        engine=config.engine,
        suite=str(config.suite),
        problems=problems,
        guarantee=lock.guarantee if lock is not None else None,
        generated_at=datetime.now(UTC),
    )
    write_atomic(config.out / REPORT_JSON, report.model_dump_json(indent=2) + "\n")
    write_atomic(config.out / REPORT_HTML, render_html(report))
    return report
