"""Running totals of reliable completions and their cost, per policy and per model."""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from guardkit.reports.model import GuardReport

__all__ = ["LedgerSummary", "ReliabilityLedger", "wilson_interval"]


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default); (0, 1) when empty."""
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


class LedgerSummary(BaseModel):
    """Reliable-completion rate with its 95 % Wilson interval, and cost per reliable completion."""

    model_config = ConfigDict(frozen=True)

    calls: int = Field(ge=0)
    reliable: int = Field(ge=0)
    rcr: float | None = Field(ge=0, le=1)
    rcr_ci: tuple[float, float]
    cost_total: float = Field(ge=0)
    unpriced_calls: int = Field(0, ge=0)
    """Calls whose model has no price in the policy; their cost is not in ``cost_total``."""
    cost_per_reliable: float | None = Field(ge=0)
    outcomes: dict[str, int]


@dataclass
class _Tally:
    calls: int = 0
    reliable: int = 0
    cost: float = 0.0
    unpriced: int = 0

    def __post_init__(self) -> None:
        self.outcomes: dict[str, int] = defaultdict(int)

    def add(self, report: GuardReport) -> None:
        self.calls += 1
        self.reliable += report.reliable
        self.outcomes[report.outcome.value] += 1
        if report.cost is None:
            self.unpriced += 1
        else:
            self.cost += report.cost

    def summary(self) -> LedgerSummary:
        return LedgerSummary(
            calls=self.calls,
            reliable=self.reliable,
            rcr=self.reliable / self.calls if self.calls else None,
            rcr_ci=wilson_interval(self.reliable, self.calls),
            cost_total=self.cost,
            unpriced_calls=self.unpriced,
            cost_per_reliable=self.cost / self.reliable if self.reliable else None,
            outcomes=dict(self.outcomes),
        )


class ReliabilityLedger:
    """Adds up guard reports; safe to share across threads and asyncio tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all = _Tally()
        self._by_policy: dict[str, _Tally] = defaultdict(_Tally)
        self._by_model: dict[str, _Tally] = defaultdict(_Tally)

    def write(self, report: GuardReport) -> None:
        """Record one call (the ledger is a report sink)."""
        with self._lock:
            self._all.add(report)
            self._by_policy[report.policy.id].add(report)
            self._by_model[report.model or "unknown"].add(report)

    def summary(self) -> LedgerSummary:
        """Totals over every call recorded."""
        with self._lock:
            return self._all.summary()

    def by_policy(self) -> dict[str, LedgerSummary]:
        """Totals per policy id."""
        with self._lock:
            return {k: t.summary() for k, t in sorted(self._by_policy.items())}

    def by_model(self) -> dict[str, LedgerSummary]:
        """Totals per model id (``unknown`` where the call did not say)."""
        with self._lock:
            return {k: t.summary() for k, t in sorted(self._by_model.items())}
