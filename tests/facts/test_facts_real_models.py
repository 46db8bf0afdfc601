"""The facts check with the shipped parts only: the bundled embedder and the shipped verifier."""

from __future__ import annotations

from pathlib import Path

import pytest

import guardkit
from guardkit import Outcome, Policy
from guardkit.facts.verify import default_verifier
from guardkit.verifier import load_verifier

RIGHT = "Items can be returned within 30 days of delivery."


@pytest.mark.slow
def test_policy_built_check_uses_the_shipped_verifier(saved_index: Path) -> None:
    assert default_verifier() is load_verifier()
    policy = Policy.model_validate(
        {
            "id": "p",
            "version": "1",
            "checks": {"facts": {"index": str(saved_index), "min_support_rate": 0.5}},
            "actions": {"facts": "flag"},
        }
    )

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return f"Hello! {RIGHT} Express shipping costs 15 dollars and arrives the next day."

    result = ask()
    (check,) = result.report.checks
    claims = check.details["claims"]
    assert [c["claim"]["text"] for c in claims] == [
        RIGHT,
        "Express shipping costs 15 dollars and arrives the next day.",
    ]
    assert claims[0]["verdict"] == "supported"
    assert "returns#0" in [c["fact_id"] for c in claims[0]["citations"]]
    assert all(0.0 <= c["confidence"] <= 1.0 for c in claims)
    assert result.outcome in (Outcome.RELIABLE, Outcome.FLAGGED)
