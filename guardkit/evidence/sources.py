"""The inputs of an evidence pack, each with its provenance: where it was read and its sha256.

Nothing is filled in: an input that was not given, or cannot be read, is a ``Missing`` with the
reason, and every section that needs it says so.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from guardkit._files import sha256_file
from guardkit._jsonl import json_objects
from guardkit.errors import ConfigError
from guardkit.records.chain import ChainRecord, VerifyResult, verify_records
from guardkit.records.signing import load_public_key, verify_checkpoints
from guardkit.records.store import open_store

__all__ = ["Evidence", "Missing", "Source", "gather"]


@dataclass(frozen=True)
class Source:
    """One input file, read."""

    label: str
    path: Path
    sha256: str
    data: Any

    def cite(self, pointer: str = "") -> str:
        """A citation a reviewer can follow: file, JSON pointer, short hash."""
        return f"[{self.label}{'#' + pointer if pointer else ''} · sha256 {self.sha256[:12]}]"


@dataclass(frozen=True)
class Missing:
    """An input that is not there, and why."""

    label: str
    reason: str

    def cite(self, pointer: str = "") -> str:
        return f"[MISSING {self.label}: {self.reason}]"


def _json(label: str, path: Path) -> Source | Missing:
    if not path.is_file():
        return Missing(label, f"{path} does not exist")
    try:
        return Source(label, path, sha256_file(path), json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid JSON: {exc}", file=str(path)) from exc


def _jsonl(label: str, path: Path) -> Source | Missing:
    if not path.is_file():
        return Missing(label, f"{path} does not exist")
    # lines end at "\n" only: a record's text may hold U+2028, which str.splitlines splits at
    rows = [row for _, row in json_objects(path)]
    return Source(label, path, sha256_file(path), rows)


@dataclass(frozen=True)
class LogSummary:
    """A record log, verified, and what it holds."""

    result: VerifyResult
    signatures: str
    """What the checkpoints' signatures say: verified with the key given, or not checked."""
    checkpoint_problem: str | None
    """Why the checkpoints fail: one does not describe the chain before it, or (with a key) its
    signature does not hold; ``None`` when they hold."""
    unsigned_tail: int
    """Records after the last checkpoint: no signature covers them."""
    kinds: dict[str, int]
    first_ts: str | None
    last_ts: str | None
    decisions: dict[str, int]
    reviewers: list[str]


def _log(path: Path, key_path: Path | None) -> tuple[Source | Missing, LogSummary | None]:
    if not path.exists():
        return Missing("record log", f"{path} does not exist"), None
    store = open_store(path, create=False)
    items = list(store.records())
    result = verify_records(items)
    chain = [r for r in items if isinstance(r, ChainRecord)]
    # what the log says is taken only from the records before the first bad one
    records = chain[: result.first_bad - 1] if result.first_bad is not None else chain
    marks = [i for i, r in enumerate(records) if r.kind == "checkpoint"]
    key = load_public_key(key_path) if key_path is not None else None
    verified, problem = verify_checkpoints(records, key)
    if problem:
        signatures = problem.upper()
    elif key_path is None:
        signatures = f"{len(marks)} checkpoint records, signatures not checked (no --public-key)"
    else:
        signatures = f"{verified} verified with {key_path.name}"
    decisions = Counter(str(r.data.get("status")) for r in records if r.kind == "review_decision")
    summary = LogSummary(
        result=result,
        signatures=signatures,
        checkpoint_problem=problem or None,
        unsigned_tail=len(records) - (marks[-1] + 1) if marks else len(records),
        kinds=dict(sorted(Counter(r.kind for r in records).items())),
        first_ts=records[0].ts.isoformat() if records else None,
        last_ts=records[-1].ts.isoformat() if records else None,
        decisions=dict(sorted(decisions.items())),
        reviewers=sorted(
            {str(r.data.get("reviewer")) for r in records if r.kind == "review_decision"}
        ),
    )
    return Source("record log", path, sha256_file(path), None), summary


@dataclass(frozen=True)
class Evidence:
    """Everything a pack is built from."""

    report: Source | Missing
    records: Source | Missing
    log: Source | Missing
    log_summary: LogSummary | None
    index: Source | Missing
    verifier: Source | Missing
    policies: list[Source] = field(default_factory=list)
    locks: list[Source | Missing] = field(default_factory=list)

    def sources(self) -> list[Source | Missing]:
        """Every input, in a fixed order, for the pack's table of sources."""
        return [
            self.report,
            self.records,
            self.log,
            self.index,
            self.verifier,
            *self.policies,
            *self.locks,
        ]


def _verifier_manifest(policies: list[Source]) -> Source | Missing:
    """The manifest of the verifier the policies' checks name (relative to the policy file),
    else the shipped one's (``guardkit/models`` also holds embedders)."""
    from guardkit.verifier import DEFAULT_MODEL

    folder = DEFAULT_MODEL
    for policy in policies:
        data = yaml.safe_load(policy.data) if isinstance(policy.data, str) else None
        checks = (data or {}).get("checks") if isinstance(data, dict) else None
        named = [
            str(c["verifier"])
            for c in (checks or {}).values()
            if isinstance(c, dict) and isinstance(c.get("verifier"), str)
        ]
        if named:
            folder = policy.path.parent / named[0]
            break
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return Missing("verifier manifest", f"no manifest.json in {folder}")
    return _json(f"verifier manifest ({folder.name})", manifest)


def _same_run(report: Source, kind: str, path: Path, ident: tuple[object, object]) -> None:
    """A pack states a policy's controls, or a lock's guarantee, beside the audit's measured
    rates: one of another policy id or version was never measured by this audit."""
    audited = report.data.get("policy") if isinstance(report.data, dict) else None
    if not isinstance(audited, dict):
        return
    given = (str(ident[0]), str(ident[1]))
    ran = (str(audited.get("id")), str(audited.get("version")))
    if given != ran:
        raise ConfigError(
            f"the audit ran policy {ran[0]!r} version {ran[1]!r}; this {kind} is for "
            f"{given[0]!r} version {given[1]!r}: it was not measured by this audit",
            file=str(path),
        )


def _same_policy(report: Source, policy: Source) -> None:
    try:
        data = yaml.safe_load(policy.data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(policy.path)) from exc
    data = data if isinstance(data, dict) else {}
    _same_run(report, "policy file", policy.path, (data.get("id"), data.get("version")))


def gather(
    audit: Path,
    *,
    log: Path | None,
    index: Path | None,
    policies: list[Path],
    locks: list[Path],
    public_key: Path | None = None,
) -> Evidence:
    """Read every input once; a missing audit part is recorded, never invented."""
    if not audit.is_dir():
        raise ConfigError("the audit folder does not exist", file=str(audit))
    log_source, log_summary = (
        _log(log, public_key) if log else (Missing("record log", "no --log given"), None)
    )
    report = _json("audit report.json", audit / "report.json")
    policy_sources = [
        Source(f"policy {p.name}", p, sha256_file(p), p.read_text(encoding="utf-8"))
        for p in policies
    ]
    lock_sources = [_json(f"risk lock {p.name}", p) for p in locks]
    if isinstance(report, Source):
        for source in policy_sources:
            _same_policy(report, source)
        for lock in lock_sources:
            if isinstance(lock, Source) and isinstance(lock.data, dict):
                ident = (lock.data.get("policy_id"), lock.data.get("policy_version"))
                _same_run(report, "risk lock", lock.path, ident)
    return Evidence(
        report=report,
        records=_jsonl("audit records.jsonl", audit / "records.jsonl"),
        log=log_source,
        log_summary=log_summary,
        index=_json("fact index manifest.json", index / "manifest.json")
        if index
        else Missing("fact index manifest", "no --index given"),
        verifier=_verifier_manifest(policy_sources),
        policies=policy_sources,
        locks=lock_sources,
    )
