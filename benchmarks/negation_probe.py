"""Negative contractions against the verifier, with and without spelling them out.

    .venv/bin/python benchmarks/negation_probe.py [--model DIR]

Help-centre style statements (written here, no data set) in three forms of negation ("not",
the contraction, "cannot" / "won't" ...). Each negated statement is evidence against the plain
claim (expected: contradicted) and against itself negated the other way round (expected:
supported); each plain statement supports its claim. Prints the share of pairs the model labels
as expected (its most likely label; the word-for-word rule is left out, as it settles only
identical sentences), once as the runtime reads them and once with the contractions left as
written.
"""

from __future__ import annotations

import argparse
from unittest import mock

from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier

# (plain statement, spelt-out negation, contracted negation)
STATEMENTS = [
    ("Gift cards can be exchanged for cash.", "Gift cards can not be exchanged for cash.",
     "Gift cards cannot be exchanged for cash."),
    ("Customers can change their plan online.", "Customers can not change their plan online.",
     "Customers can't change their plan online."),
    ("The store opens on Sundays.", "The store does not open on Sundays.",
     "The store doesn't open on Sundays."),
    ("The warranty covers water damage.", "The warranty does not cover water damage.",
     "The warranty doesn't cover water damage."),
    ("Refunds are paid in cash.", "Refunds are not paid in cash.", "Refunds aren't paid in cash."),
    ("The app is available on Android.", "The app is not available on Android.",
     "The app isn't available on Android."),
    ("The courier will collect parcels on Saturdays.",
     "The courier will not collect parcels on Saturdays.",
     "The courier won't collect parcels on Saturdays."),
    ("Opened software can be returned.", "Opened software can not be returned.",
     "Opened software cannot be returned."),
    ("We ship to Norway.", "We do not ship to Norway.", "We don't ship to Norway."),
    ("The premium plan included phone support.", "The premium plan did not include phone support.",
     "The premium plan didn't include phone support."),
    ("Students have to pay the registration fee.",
     "Students do not have to pay the registration fee.",
     "Students don't have to pay the registration fee."),
    ("Orders placed after 6 pm ship the same day.",
     "Orders placed after 6 pm do not ship the same day.",
     "Orders placed after 6 pm don't ship the same day."),
]  # fmt: skip

LABELS = ("supported", "contradicted", "not_enough_info")


def pairs() -> list[tuple[str, str, str]]:
    """(evidence, claim, expected label)."""
    out = []
    for plain, spelt, contracted in STATEMENTS:
        out += [
            (contracted, plain, "contradicted"),
            (spelt, plain, "contradicted"),
            (plain, contracted, "contradicted"),
            (contracted, spelt, "supported"),
            (spelt, contracted, "supported"),
        ]
    return out


def accuracy(verifier: OnnxVerifier, rows: list[tuple[str, str, str]]) -> dict[str, float]:
    probs = verifier.model_probs([(e, c) for e, c, _ in rows])
    hits: dict[str, list[bool]] = {}
    for (_, _, want), p in zip(rows, probs, strict=True):
        hits.setdefault(want, []).append(LABELS[int(p.argmax())] == want)
    return {want: sum(h) / len(h) for want, h in hits.items()}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    a = p.parse_args()
    verifier = OnnxVerifier(a.model, intra_op_threads=1)
    rows = pairs()
    runtime = accuracy(verifier, rows)
    with mock.patch("guardkit.verifier.runtime.spell_out_negations", lambda text: text):
        as_written = accuracy(verifier, rows)
    print(f"{verifier.manifest.name}, {len(rows)} pairs")
    print("| expected | pairs | as written | contractions spelt out (runtime) |")
    print("|---|---|---|---|")
    for want in runtime:
        n = sum(1 for *_, w in rows if w == want)
        print(f"| {want} | {n} | {as_written[want]:.2f} | {runtime[want]:.2f} |")


if __name__ == "__main__":
    main()
