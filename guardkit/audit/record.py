"""One audit record per case: what happened, in a form the report adds up.

Records are what ``records.jsonl`` holds, one JSON line each. Everything but the timing and the
full guard report (call id, timestamps) is a deterministic function of the case, the policy and
the model's answers, so two engines can be compared record for record (``comparable``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from guardkit.audit.suite import Numbered
from guardkit.errors import GuardFailed
from guardkit.guard.pipeline import GuardResult
from guardkit.providers.errors import describe_error
from guardkit.reports.model import ErrorInfo, GuardReport, Outcome
from guardkit.risk.model import RiskComponents

__all__ = ["VOLATILE", "Record", "from_exception", "from_result"]

VOLATILE = frozenset({"latency_ms", "report"})
"""Fields that differ between two runs of the same case (timing, call ids, timestamps)."""


class Record(BaseModel):
    """The audit of one case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    line: int = Field(ge=1)
    outcome: Outcome
    reliable: bool
    attempts: int = Field(ge=0)
    checks_run: list[str] = Field(default_factory=list)
    checks_failed: list[str] = Field(default_factory=list)
    """Checks (and ``error``) that failed on any attempt."""
    error: ErrorInfo | None = None
    risk: float | None = Field(None, ge=0.0, le=1.0)
    risk_components: RiskComponents | None = None
    risk_threshold: float | None = None
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    cost: float | None = Field(None, ge=0.0)
    output: Any = None
    """The returned output when the policy keeps content as is (``records.content: store``);
    otherwise left out: the report holds the model's text hashed or redacted."""
    expected_match: bool | None = None
    hallucinated: bool | None = None
    latency_ms: float = Field(0.0, ge=0.0)
    report: dict[str, Any] | None = None

    def comparable(self) -> dict[str, Any]:
        """The record without its volatile fields."""
        return self.model_dump(mode="json", exclude=set(VOLATILE))


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _matches(output: Any, expected: Any) -> bool | None:
    """Whether a reliable answer gave what the case expects: a text contains the expected words
    (case and spacing aside: "30 days" in "You have 30 days to return it."), a structured
    answer has the expected fields with those values (others may be there too); else equal."""
    if expected is None:
        return None
    if isinstance(output, str) and isinstance(expected, str):
        wanted = " ".join(expected.casefold().split())
        words = re.escape(wanted).replace(r"\ ", r"\s+")
        # as words ("no" is not in "Nordlicht"), where the expected text starts or ends with one
        start = r"(?<![^\W_])" if wanted[:1].isalnum() else ""
        end = r"(?![^\W_])" if wanted[-1:].isalnum() else ""
        return re.search(f"{start}{words}{end}", output.casefold()) is not None
    if isinstance(output, dict) and isinstance(expected, dict):
        return all(k in output and _matches(output[k], v) for k, v in expected.items())
    if isinstance(expected, str) and isinstance(output, dict | list):  # words: in one string
        return any(_matches(text, expected) for text in _strings(output))
    return bool(output == expected)


def _risk(report: GuardReport) -> tuple[float | None, RiskComponents | None, float | None]:
    """The risk check's verdict on the returned output (or on the last attempt's candidate)."""
    last = report.attempts[-1].checks if report.attempts else []
    results = report.checks if report.checks else last
    found = next((r for r in results if r.check == "risk"), None)
    if found is None:
        return None, None, None
    details = found.details
    components = RiskComponents.model_validate(details["components"])
    threshold = details.get("threshold")
    return float(details["risk"]), components, None if threshold is None else float(threshold)


def _strings(value: Any) -> list[str]:
    """Every string of JSON data, in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _kept(value: Any, report: GuardReport) -> Any:
    return value if report.content is not None and report.content.mode == "store" else None


def _from_report(item: Numbered, report: GuardReport, output: Any, latency_ms: float) -> Record:
    run = sorted({c.check for a in report.attempts for c in a.checks})
    failed = sorted(
        {a.failure for a in report.attempts if a.failure is not None}
        | {a.failure for a in report.actions}  # a fix or filter repairs what failed
    )
    errors = [a.error for a in report.attempts if a.error is not None]
    risk, components, threshold = _risk(report)
    value = _jsonable(output)
    return Record(
        id=item.case.id,
        line=item.line,
        outcome=report.outcome,
        reliable=report.reliable,
        attempts=len(report.attempts),
        checks_run=run,
        checks_failed=failed,
        error=errors[-1] if errors else None,
        risk=risk,
        risk_components=components,
        risk_threshold=threshold,
        input_tokens=report.usage.input_tokens,
        output_tokens=report.usage.output_tokens,
        cost=report.cost,
        output=_kept(value, report),
        expected_match=_matches(value, item.case.expected) if report.reliable else None,
        hallucinated=item.case.hallucinated,
        latency_ms=latency_ms,
        report=report.model_dump(mode="json"),
    )


def from_result(item: Numbered, result: GuardResult[Any], latency_ms: float) -> Record:
    """The record of a case whose guarded call returned."""
    return _from_report(item, result.report, result.output, latency_ms)


def from_exception(item: Numbered, exc: Exception, latency_ms: float) -> Record:
    """The record of a case whose guarded call raised: a failed case, with its evidence."""
    if isinstance(exc, GuardFailed):
        return _from_report(item, exc.report, None, latency_ms)
    return Record(
        id=item.case.id,
        line=item.line,
        outcome=Outcome.FAILED,
        reliable=False,
        attempts=0,
        checks_failed=["error"],
        error=describe_error(exc),
        hallucinated=item.case.hallucinated,
        latency_ms=latency_ms,
    )
