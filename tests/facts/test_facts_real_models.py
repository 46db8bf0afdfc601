"""The facts check with the shipped parts only: the bundled embedder and the shipped verifier."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import guardkit
from guardkit import Outcome, Policy
from guardkit.facts.verify import default_verifier
from guardkit.verifier import DEFAULT_MODEL, load_verifier

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
    assert [c["claim"]["text"] for c in claims] == [  # the greeting states nothing
        RIGHT,
        "Express shipping costs 15 dollars",
        "Express shipping arrives the next day.",
    ]
    assert claims[0]["verdict"] == "supported"
    assert "returns#0" in [c["fact_id"] for c in claims[0]["citations"]]
    assert all(0.0 <= c["confidence"] <= 1.0 for c in claims)
    assert result.outcome in (Outcome.RELIABLE, Outcome.FLAGGED)


def test_a_policy_names_its_own_verifier_folder(tmp_path: Path) -> None:
    """A user's model (guardkit models export / train) replaces the shipped one for the check;
    a broken one stops the guard from being built, naming the file."""
    for name in ("mine", "broken"):
        shutil.copytree(DEFAULT_MODEL, tmp_path / "models" / name)
    (tmp_path / "models" / "broken" / "model.onnx").write_bytes(b"not a model")
    for name in ("mine", "broken"):
        (tmp_path / f"{name}.yaml").write_text(
            f'id: p\nversion: "1"\nchecks:\n  facts: {{verifier: models/{name}}}\n'
        )

    @guardkit.guard(guardkit.load_policy(tmp_path / "mine.yaml"), sinks=[])
    def ask() -> str:
        return RIGHT

    result = ask(guardkit_documents=[RIGHT])
    assert result.report.checks[0].details["claims"][0]["verdict"] == "supported"
    with pytest.raises(guardkit.GuardkitError) as err:
        guardkit.guard(guardkit.load_policy(tmp_path / "broken.yaml"), sinks=[])
    assert err.value.code == "model_invalid"
    assert err.value.file == str(tmp_path / "models" / "broken" / "model.onnx")
