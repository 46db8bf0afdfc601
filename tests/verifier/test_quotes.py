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
HELP = f"You can return an unused bike within 30 days. {RETURNS}\n\nShipping is free"


@pytest.mark.parametrize(
    "claim",
    [
        RETURNS,
        RETURNS.upper(),
        RETURNS.rstrip("."),
        RETURNS.replace(" ", "  ") + "!",
        "You can return an unused bike within 30 days.",
        "Shipping is free.",  # a paragraph of its own, no closing full stop in the evidence
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
        "You can return an unused bike within 30 days. Shipping is free.",  # across paragraphs
    ],
)
def test_anything_less_than_a_whole_sentence_is_left_to_the_model(claim: str) -> None:
    assert not states_verbatim(HELP, claim)


def test_a_number_inside_a_decimal_is_not_a_sentence() -> None:
    assert not states_verbatim("A full charge takes 4.5 hours.", "5 hours.")


@pytest.mark.parametrize(
    ("evidence", "claim"),
    [
        # hard-wrapped text: a single line break is a space, the sentence goes on
        ("Delivery is free\nfor orders over 50 euros.", "Delivery is free."),
        (
            "You can return the bike within 30 days\r\nonly if unridden.",
            "You can return the bike within 30 days.",
        ),
        ("If you order over 50 euros,\ndelivery is free.", "Delivery is free."),
        # a full stop that does not end the sentence
        ("The price is 4.5 euros.", "The price is 4"),
        ("This app requires iOS 16.4 or later.", "This app requires iOS 16."),
        (
            "Delivery is free in the U.S. only for orders over 50 dollars.",
            "Delivery is free in the U.S.",
        ),
        ("Contact Dr. Smith for refunds.", "Contact Dr."),
        ("We open from 9 a.m. to 5 p.m. on Fridays.", "We open from 9 a.m. to 5 p.m."),
        ("We open from 9 a.m. to 5 p.m. We close on Sundays.", "We open from 9 a.m. to 5 p.m."),
        ("Visit example.com/free for details.", "Visit example"),
        # a question or a trailing ellipsis is not an assertion of the bare sentence
        ("Delivery is free? Not anymore.", "Delivery is free."),
        ("Shipping is free... for the first month.", "Shipping is free"),
        # framing the rule can see: a colon, an abbreviation, an open quotation
        ("Myth:\nDelivery is free.", "Delivery is free."),
        ("Never promise things like e.g. Delivery is free.", "Delivery is free."),
        ('The ad said: "Order today. Delivery is free." It was withdrawn.', "Delivery is free."),
        # raised digits are not plain ones
        ("The limit is 10\u2076 requests.", "The limit is 106 requests."),
    ],
)
def test_what_only_looks_like_a_whole_sentence_is_left_to_the_model(
    evidence: str, claim: str
) -> None:
    assert not states_verbatim(evidence, claim)


def test_a_paragraph_of_its_own_is_a_whole_sentence() -> None:
    assert states_verbatim(
        "Opening hours\n\nMonday to Friday 9:00 to 18:00", "Monday to Friday 9:00 to 18:00."
    )
    assert states_verbatim("Is delivery free? No, it costs 5 euros.", "Is delivery free?")


def test_a_sentence_ending_in_an_abbreviation_is_whole_at_a_paragraphs_end() -> None:
    claim = "The store is open from 9 a.m. to 5 p.m."
    assert states_verbatim(claim, claim)
    assert states_verbatim(f"Hours.\n\n{claim}\n\nClosed on Sundays.", claim)


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


def test_identity_verdict_still_asks_the_model(
    verifier: OnnxVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`guardkit models info` warns about labels in the wrong order from this verdict, so the
    verbatim rule must not answer it."""
    assert verifier.identity_verdict() == "supported"
    swapped = np.array([[0.1, 0.8, 0.1]])
    monkeypatch.setattr(verifier, "model_probs", lambda pairs, temperature=None: swapped)
    assert verifier.identity_verdict() == "contradicted"
    assert verifier.predict([("The sky is blue.", "The sky is blue.")])[0].label == "supported"


def test_no_pairs_no_probabilities(verifier: OnnxVerifier) -> None:
    assert verifier.probs_array([]).shape == (0, 3)
    assert verifier.model_probs([]).shape == (0, 3)


def test_empty_pairs_are_named_by_their_own_index(verifier: OnnxVerifier) -> None:
    from guardkit.errors import ConfigError

    with pytest.raises(ConfigError, match="pair 1: empty claim"):
        verifier.probs_array([(HELP, RETURNS), (HELP, " ")])
