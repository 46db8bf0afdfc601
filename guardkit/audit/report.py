"""``report.json``: the audit added up, from the records alone.

The headline is the reliable-completion rate with its Wilson 95 % interval and the cost per
reliable completion; around it, outcome counts, per-check failure rates, the attempts histogram,
the risk distribution, latency percentiles, tokens, and, when cases carry ``hallucinated`` labels,
how well the risk score separates and is calibrated, and what the accepted outputs' measured
hallucination rate is next to the lock's guarantee.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from guardkit.audit.record import Record
from guardkit.audit.suite import SuiteProblem
from guardkit.reports.ledger import wilson_interval
from guardkit.reports.model import Outcome, PolicyRef

__all__ = ["AuditReport", "Calibration", "Latency", "RiskSummary", "Tokens", "build_report"]

_BINS = 10


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Latency(_Frozen):
    """Per-case wall time of the guarded call, all attempts included, in milliseconds."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    histogram: list[int] = Field(default_factory=list)
    edges: list[float] = Field(default_factory=list)


class Tokens(_Frozen):
    """Tokens as the provider counted them, over every attempt."""

    input: int = Field(0, ge=0)
    output: int = Field(0, ge=0)
    total: int = Field(0, ge=0)
    per_case: float | None = None


class RiskSummary(_Frozen):
    """Risk scores of the cases the risk check judged; ``histogram`` has ten bins over [0, 1]."""

    scored: int = Field(0, ge=0)
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    histogram: list[int] = Field(default_factory=lambda: [0] * _BINS)
    threshold: float | None = None
    accepted: int = Field(0, ge=0)


class Calibration(_Frozen):
    """How the risk score fares against reviewers' ``hallucinated`` labels."""

    labelled: int = Field(ge=1)
    hallucination_rate: float = Field(ge=0, le=1)
    auroc: float | None = Field(None, ge=0, le=1)
    brier: float = Field(ge=0, le=1)
    ece: float = Field(ge=0, le=1)
    """Expected calibration error over ten equal-width bins."""
    reliability: list[tuple[float, float, int]] = Field(default_factory=list)
    """Per non-empty bin: mean predicted risk, observed hallucination rate, count."""
    accepted: int = Field(0, ge=0)
    accepted_hallucination_rate: float | None = None
    accepted_ci: tuple[float, float] | None = None
    """Wilson 95 % interval of the accepted outputs' hallucination rate."""


#: Most not-reliable cases the report lists (the records hold every case).
LISTED_CASES = 100
_REASON_CHARS = 400


class CaseNote(_Frozen):
    """A case that did not come back reliable, and the reason the guard gave last."""

    id: str
    line: int = Field(ge=1)
    outcome: str
    attempts: int = Field(ge=0)
    checks_failed: list[str]
    risk: float | None = None
    reason: str


def _reason(record: Record) -> str:
    """The provider error, else the last failing check's feedback (what a reask would quote)."""
    if record.error is not None:
        return f"{record.error.type}: {record.error.message}"[:_REASON_CHARS]
    for attempt in reversed((record.report or {}).get("attempts") or []):
        for check in attempt.get("checks") or []:
            feedback = check.get("feedback")
            if not check.get("passed", True) and feedback:
                return f"{check.get('check')}: {_findings(str(feedback))}"[:_REASON_CHARS]
    return ", ".join(record.checks_failed) or record.outcome.value


def _findings(feedback: str) -> str:
    """A reask's findings without its instructions: the headed bullet lines, else the text."""
    lines = [line.strip() for line in feedback.splitlines() if line.strip()]
    kept = [line for line in lines[1:] if line.startswith("- ") or line.endswith(":")]
    return " ".join(kept[:3]) if kept else " ".join(lines)


def _case_notes(records: Sequence[Record]) -> list[CaseNote]:
    return [
        CaseNote(
            id=r.id,
            line=r.line,
            outcome=r.outcome.value,
            attempts=r.attempts,
            checks_failed=list(r.checks_failed),
            risk=r.risk,
            reason=_reason(r),
        )
        for r in sorted(records, key=lambda r: r.line)
        if not r.reliable
    ][:LISTED_CASES]


class AuditReport(_Frozen):
    """The audit in numbers."""

    generated_at: datetime
    policy: PolicyRef
    source: str
    engine: str
    suite: str
    cases: int = Field(ge=0)
    reliable: int = Field(ge=0)
    rcr: float | None = Field(None, ge=0, le=1)
    rcr_ci: tuple[float, float]
    cost_total: float = Field(ge=0)
    unpriced_cases: int = Field(0, ge=0)
    cost_per_reliable: float | None = Field(None, ge=0)
    currency: str
    outcomes: dict[str, int]
    check_failure_rates: dict[str, float]
    attempts_histogram: dict[str, int]
    provider_errors: int = Field(0, ge=0)
    expected_match_rate: float | None = None
    expected_checked: int = Field(0, ge=0)
    """Cases whose answer was compared with their ``expected`` one (the rate's denominator:
    a case that ended without an answer has nothing to compare)."""
    risk: RiskSummary
    latency_ms: Latency
    tokens: Tokens
    calibration: Calibration | None = None
    guarantee: str | None = None
    skipped_lines: list[SuiteProblem] = Field(default_factory=list)
    not_reliable: list[CaseNote] = Field(default_factory=list)
    """The first ``LISTED_CASES`` cases (in suite order) that were not reliable, with why."""


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def _latency(records: Sequence[Record]) -> Latency:
    ms = np.array([r.latency_ms for r in records])
    if not ms.size:
        return Latency()
    counts, edges = np.histogram(ms, bins=_BINS)
    return Latency(
        p50=_pct(ms, 50),
        p95=_pct(ms, 95),
        p99=_pct(ms, 99),
        mean=float(ms.mean()),
        histogram=[int(c) for c in counts],
        edges=[float(e) for e in edges],
    )


def _risk(records: Sequence[Record]) -> RiskSummary:
    scored = [r for r in records if r.risk is not None]
    risks = np.array([r.risk for r in scored], dtype=float)
    if not risks.size:
        return RiskSummary()
    counts, _ = np.histogram(risks, bins=_BINS, range=(0.0, 1.0))
    thresholds = {r.risk_threshold for r in scored}
    return RiskSummary(
        scored=len(scored),
        mean=float(risks.mean()),
        p50=_pct(risks, 50),
        p90=_pct(risks, 90),
        histogram=[int(c) for c in counts],
        threshold=thresholds.pop() if len(thresholds) == 1 else None,
        accepted=sum(
            1
            for r in scored
            if r.risk_threshold is not None and r.risk is not None and r.risk <= r.risk_threshold
        ),
    )


def _auroc(risk: np.ndarray, label: np.ndarray) -> float | None:
    """Probability a hallucinated output scores above a faithful one (ties count half)."""
    pos, neg = risk[label == 1], risk[label == 0]
    if not pos.size or not neg.size:
        return None
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (pos.size * neg.size))


def _calibration(records: Sequence[Record]) -> Calibration | None:
    rows = [r for r in records if r.hallucinated is not None and r.risk is not None]
    if not rows:
        return None
    risk = np.array([r.risk for r in rows], dtype=float)
    label = np.array([r.hallucinated for r in rows], dtype=float)
    bins = np.minimum((risk * _BINS).astype(int), _BINS - 1)
    reliability, ece = [], 0.0
    for b in range(_BINS):
        mask = bins == b
        if mask.any():
            reliability.append(
                (float(risk[mask].mean()), float(label[mask].mean()), int(mask.sum()))
            )
            ece += mask.sum() / len(rows) * abs(risk[mask].mean() - label[mask].mean())
    accepted = [
        r
        for r in rows
        if r.risk_threshold is not None and r.risk is not None and r.risk <= r.risk_threshold
    ]
    bad = sum(bool(r.hallucinated) for r in accepted)
    return Calibration(
        labelled=len(rows),
        hallucination_rate=float(label.mean()),
        auroc=_auroc(risk, label),
        brier=float(np.mean((risk - label) ** 2)),
        ece=float(ece),
        reliability=reliability,
        accepted=len(accepted),
        accepted_hallucination_rate=bad / len(accepted) if accepted else None,
        accepted_ci=wilson_interval(bad, len(accepted)) if accepted else None,
    )


def _failure_rates(records: Sequence[Record]) -> dict[str, float]:
    ran: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for r in records:
        ran.update(set(r.checks_run) | {"error"})
        failed.update(r.checks_failed)
    return {name: failed[name] / ran[name] for name in sorted(ran)}


def build_report(
    records: Sequence[Record],
    *,
    policy: PolicyRef,
    currency: str,
    source: str,
    engine: str,
    suite: str,
    problems: Sequence[SuiteProblem],
    guarantee: str | None,
    generated_at: datetime,
) -> AuditReport:
    """Add the records up."""
    n = len(records)
    reliable = sum(r.reliable for r in records)
    costs = [r.cost for r in records if r.cost is not None]
    cost = float(sum(costs))
    tokens_in, tokens_out = (
        sum(r.input_tokens for r in records),
        sum(r.output_tokens for r in records),
    )
    matches = [r.expected_match for r in records if r.expected_match is not None]
    outcomes = Counter(r.outcome.value for r in records)
    return AuditReport(
        generated_at=generated_at,
        policy=policy,
        source=source,
        engine=engine,
        suite=suite,
        cases=n,
        reliable=reliable,
        rcr=reliable / n if n else None,
        rcr_ci=wilson_interval(reliable, n),
        cost_total=cost,
        unpriced_cases=n - len(costs),
        currency=currency,
        cost_per_reliable=cost / reliable if reliable and costs else None,
        outcomes={o.value: outcomes.get(o.value, 0) for o in Outcome},
        check_failure_rates=_failure_rates(records),
        attempts_histogram={
            str(k): v for k, v in sorted(Counter(r.attempts for r in records).items())
        },
        provider_errors=sum(r.error is not None for r in records),
        expected_match_rate=sum(matches) / len(matches) if matches else None,
        expected_checked=len(matches),
        risk=_risk(records),
        latency_ms=_latency(records),
        tokens=Tokens(
            input=tokens_in,
            output=tokens_out,
            total=tokens_in + tokens_out,
            per_case=(tokens_in + tokens_out) / n if n else None,
        ),
        calibration=_calibration(records),
        guarantee=guarantee,
        skipped_lines=list(problems),
        not_reliable=_case_notes(records),
    )
