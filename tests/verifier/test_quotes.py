"""Claims the evidence states word for word are supported without the model; nothing else is."""

from __future__ import annotations

import numpy as np
import pytest

from guardkit.verifier import OnnxVerifier
from guardkit.verifier._quotes import states_verbatim

# The model itself calls this sentence contradicted by itself (v5: 0.12 / 0.87).
RETURNS = (
    "Bikes that have been ridden more than 50 kilometres cannot be returned, "
    "but they can be exchanged within 30 days."
)
HELP = f"You can return an unused bike within 30 days. {RETURNS}\nShipping is free"


@pytest.mark.parametrize(
    "claim",
    [
        RETURNS,
        RETURNS.upper(),
        RETURNS.rstrip("."),
        RETURNS.replace(" ", "  ") + "!",
        "You can return an unused bike within 30 days.",
        "Shipping is free.",  # a line of its own, no closing full stop in the evidence
        "you can return an unused bike within 30 days",
    ],
)
def test_a_whole_sentence_of_the_evidence_is_stated(claim: str) -> None:
    assert states_verbatim(HELP, claim)


def test_curly_and_straight_quotes_are_the_same() -> None:
    assert states_verbatim("The sign says \u201cclosed\u201d.", 'The sign says "closed".')


@pytest.mark.parametrize(
    "claim",
    [
        "Bikes that have been ridden more than 50 kilometres cannot be returned.",  # a clause
        RETURNS.removeprefix("Bikes that have been "),
        "You can return an unused bike within 3 days.",
        "You can return an unused bike within 30 days and get a refund.",
        "return an unused bike within 30 days.",
        "30 days.",
        "...",
        "You can return an unused bike within 30 days. Shipping is free.",  # across a line break
    ],
)
def test_anything_less_than_a_whole_sentence_is_left_to_the_model(claim: str) -> None:
    assert not states_verbatim(HELP, claim)


def test_a_number_inside_a_decimal_is_not_a_sentence() -> None:
    assert not states_verbatim("A full charge takes 4.5 hours.", "5 hours.")


def test_a_later_occurrence_counts_when_the_first_is_inside_a_sentence() -> None:
    evidence = "Some say delivery is free. Delivery is free."
    assert states_verbatim(evidence, "Delivery is free.")
    assert not states_verbatim("Some say delivery is free.", "Delivery is free.")


def test_the_runtime_supports_a_quoted_claim_without_the_model(verifier: OnnxVerifier) -> None:
    model_alone = verifier.model_probs([(RETURNS, RETURNS)])[0]
    quoted, paraphrase = verifier.probs_array(
        [(HELP, RETURNS), (HELP, "Ridden bikes can be exchanged within 30 days.")]
    )
    np.testing.assert_allclose(quoted, [1.0, 0.0, 0.0])
    assert model_alone[0] < 1.0  # the rule, not the model, gave the certainty
    expected = verifier.model_probs([(HELP, "Ridden bikes can be exchanged within 30 days.")])
    np.testing.assert_allclose(paraphrase, expected[0])


def test_identity_verdict_still_asks_the_model(verifier: OnnxVerifier) -> None:
    assert verifier.identity_verdict() == "supported"


def test_empty_pairs_are_named_by_their_own_index(verifier: OnnxVerifier) -> None:
    from guardkit.errors import ConfigError

    with pytest.raises(ConfigError, match="pair 1: empty claim"):
        verifier.probs_array([(HELP, RETURNS), (HELP, " ")])
