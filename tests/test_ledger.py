from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from guardkit.reports import GuardReport, Outcome, PolicyRef, ReliabilityLedger, wilson_interval


def report(
    outcome: Outcome, *, cost: float | None = 0.01, policy: str = "p", model: str | None = "m"
) -> GuardReport:
    now = datetime.now(UTC)
    return GuardReport(
        call_id="x",
        started_at=now,
        finished_at=now,
        model=model,
        policy=PolicyRef(id=policy, version="1", sha256="0" * 64),
        attempts=[],
        outcome=outcome,
        cost=cost,
    )


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (81, 100, 0.7222, 0.8749),
    ],
)
def test_wilson_interval_matches_published_values(
    successes: int, total: int, low: float, high: float
) -> None:
    lo, hi = wilson_interval(successes, total)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_empty_ledger() -> None:
    summary = ReliabilityLedger().summary()
    assert summary.calls == 0 and summary.rcr is None and summary.rcr_ci == (0.0, 1.0)
    assert summary.cost_per_reliable is None


def test_rcr_and_cost_per_reliable() -> None:
    ledger = ReliabilityLedger()
    for outcome in (
        [Outcome.RELIABLE] * 6 + [Outcome.REPAIRED] * 2 + [Outcome.FLAGGED, Outcome.FAILED]
    ):
        ledger.write(report(outcome, cost=0.02))
    ledger.write(report(Outcome.REFUSED, cost=None))
    summary = ledger.summary()
    assert summary.calls == 11 and summary.reliable == 8
    assert summary.rcr == pytest.approx(8 / 11)
    assert summary.rcr_ci == pytest.approx(wilson_interval(8, 11))
    assert summary.cost_total == pytest.approx(0.20) and summary.unpriced_calls == 1
    assert summary.cost_per_reliable == pytest.approx(0.20 / 8)
    assert summary.outcomes == {
        "reliable": 6,
        "repaired": 2,
        "flagged": 1,
        "failed": 1,
        "refused": 1,
    }


def test_per_policy_and_per_model() -> None:
    ledger = ReliabilityLedger()
    ledger.write(report(Outcome.RELIABLE, policy="a", model="m1"))
    ledger.write(report(Outcome.FAILED, policy="a", model="m2"))
    ledger.write(report(Outcome.RELIABLE, policy="b", model=None))
    assert {k: v.reliable for k, v in ledger.by_policy().items()} == {"a": 1, "b": 1}
    assert {k: v.calls for k, v in ledger.by_model().items()} == {"m1": 1, "m2": 1, "unknown": 1}


def test_threads_lose_nothing() -> None:
    ledger = ReliabilityLedger()

    def work() -> None:
        for i in range(500):
            ledger.write(report(Outcome.RELIABLE if i % 2 else Outcome.FAILED, cost=0.001))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    summary = ledger.summary()
    assert summary.calls == 4000 and summary.reliable == 2000
    assert summary.cost_total == pytest.approx(4.0)
