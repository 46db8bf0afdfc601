"""Negative contractions spelt out before the model reads a pair.

The shipped verifier learnt negation from "not": against "Gift cards can not be exchanged for
cash." it calls "Gift cards can be exchanged for cash." contradicted (0.84), but against
"cannot" it calls it *supported* (0.85), and "can't", "doesn't" and "won't" come out near a coin
toss. The training sets spell negation out far more often than help centres and chat answers
do, and BERT's vocabulary reads "cannot" as one word unlike "can". Spelling the contractions out
("cannot" -> "can not", "doesn't" -> "does not", "won't" -> "will not") gives the model the form
it knows; the meaning is the same, so nothing else changes. Training reads its pairs the same
way (``training.loop.encode_batch``), so a model trained from now on never sees a contraction.
"""

from __future__ import annotations

import re

__all__ = ["READING", "spell_out_negations"]

READING = 2
"""How the runtime turns a pair into model input: 1, the text as written; 2, negative
contractions spelt out. Part of a verifier's identity: the same weights score differently
under another reading, so a risk lock fitted under one does not hold under the other."""

_IRREGULAR = {"cannot": "can not", "can't": "can not", "won't": "will not", "shan't": "shall not"}
_APOSTROPHES = "'\u2019\u02bc\u00b4`"
_CONTRACTION = re.compile(
    rf"\b(?:cannot|can[{_APOSTROPHES}]t|won[{_APOSTROPHES}]t|shan[{_APOSTROPHES}]t"
    rf"|(\w+)n[{_APOSTROPHES}]t)\b",
    re.IGNORECASE,
)


def _spelt(match: re.Match[str]) -> str:
    word = match.group(0)
    stem = match.group(1)
    if stem is not None and stem.lower() == "ai":
        return word  # "ain't" stands for too many verbs to pick one
    out = (
        f"{stem} not"
        if stem is not None
        else _IRREGULAR[re.sub(f"[{_APOSTROPHES}]", "'", word.lower())]
    )
    return out[0].upper() + out[1:] if word[0].isupper() else out


def spell_out_negations(text: str) -> str:
    """``text`` with "cannot", "can't", "won't" and every "...n't" written as two words."""
    return _CONTRACTION.sub(_spelt, text)
