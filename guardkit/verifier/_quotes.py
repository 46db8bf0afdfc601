"""Claims the evidence states word for word: supported without asking the model.

A sentence entails itself, but a small cross-encoder does not know that reliably: the shipped v5
model calls "Bikes that have been ridden more than 50 kilometres cannot be returned, but they can
be exchanged within 30 days." *contradicted* by itself (0.87), because its training saw many
near-copies with one number changed, labelled contradicted. Answers grounded in a help centre
often quote it, so the runtime settles these pairs by string comparison before the model runs.

The test is deliberately narrow: the claim, up to case, spacing, quote marks and its closing
punctuation, must be a whole sentence (or line) of the evidence. A claim found inside a sentence
("inspections cost 89 euros" in "Regular inspections cost 89 euros.") is left to the model, since
the words around it may change what it says.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["states_verbatim"]

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_SPACE = re.compile(r"\s+")
_CLOSING = re.compile(r"[\s.!?;:]+$")
_WORD = re.compile(r"\w")
# What may come right before a quoted sentence: the evidence's start, a line break, or the end
# of the previous sentence (its punctuation, a closing quote or bracket, then spaces).
_BEFORE = re.compile(r"(?:^|\n|[.!?][\"')\]]*[ \t]+)$")
# What may come right after it: the evidence's end, a line break, or sentence-ending marks.
_AFTER = re.compile(r"^(?:$|\n|[.!?])")


@lru_cache(maxsize=64)  # a response's claims are checked against one context in turn
def _normalized(text: str) -> str:
    """Lower case, straight quotes, runs of spaces as one (line breaks kept as one ``\\n``)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def states_verbatim(evidence: str, claim: str) -> bool:
    """Whether ``claim`` is, word for word, a whole sentence or line of ``evidence``."""
    core = _CLOSING.sub("", _normalized(claim))
    if not _WORD.search(core) or "\n" in core:
        return False
    text = _normalized(evidence)
    start = text.find(core)
    while start != -1:
        end = start + len(core)
        if _BEFORE.search(text[max(0, start - 8) : start]) and _AFTER.match(text[end : end + 3]):
            return True
        start = text.find(core, start + 1)
    return False
