"""Claims the evidence states word for word: supported without asking the model.

A sentence entails itself, but a small cross-encoder does not know that reliably: the shipped v5
model calls "Bikes that have been ridden more than 50 kilometres cannot be returned, but they can
be exchanged within 30 days." *contradicted* by itself (0.87), and torch fp32 errs the same way,
so it is the model, not int8. Answers grounded in a help centre often quote it, so the runtime
settles these pairs by string comparison before the model runs.

Since the answer is a certainty, the test is narrow. The claim, up to case, spacing, quote marks
and its closing punctuation, must be a whole sentence of the evidence:

- it starts the evidence, a paragraph (after a blank line) or follows a sentence's end, not an
  abbreviation ("e.g.") or a colon ("Myth: ...");
- it ends the evidence or a paragraph, or at a full stop or exclamation mark followed by a space
  (not "4.5", "U.S." or "approx."); a claim ending in an abbreviation ("... 5 p.m.") only at
  the end of the evidence or a paragraph; a question or a trailing "..." only matches a claim
  that asks or trails off the same way;
- it is not inside an open quotation.

Single line breaks are spaces (hard-wrapped text, PDF extracts): "Delivery is free" followed by
a line "for orders over 50 euros." is one sentence. What the rule cannot see is framing by
*other* sentences ("Old policy" above it, "This is false." after it); the model rarely sees that
either, but here it gets no say.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["states_verbatim"]

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_RAISED = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
# NFKC would turn 10\u2076 into 106: raised and lowered digits are marked before it runs.
_SCRIPTS = str.maketrans(
    {**{c: f"^{d}" for d, c in enumerate(_RAISED)}, **{chr(0x2080 + d): f"_{d}" for d in range(10)}}
)
_LINE_BREAK = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SPACE = re.compile(r"\s+")
_CLOSING = re.compile(r"[\s.!?;:]+$")
_WORD = re.compile(r"\w")
_ABBREVIATION = re.compile(
    r"(?:[a-z]|(?:[a-z]\.)+[a-z]|e\.g|i\.e|etc|vs|approx|incl|excl|dr|mr|mrs|ms|prof|st|nr|ca|cf)"
)
# The end of the sentence before: its last word, its marks, closing quotes or brackets, a space.
_PREVIOUS_END = re.compile(r"(?:^|(?<=\s))(\S*?)([.!?]+)[\"')\]]* $")
# Right after a quoted sentence: the end of the evidence or a paragraph, or its marks, closing
# quotes or brackets, then a space or the end.
_AFTER = re.compile(r"$|\n|(?P<marks>[.!?]+)[\"')\]]*(?: |\n|$)")


@lru_cache(maxsize=8)  # a response's claims are checked against one context in turn
def _normalized(text: str) -> str:
    """Lower case, straight quotes, one space for any run of spaces and single line breaks
    (hard-wrapped text); paragraphs, split at blank lines, joined by one ``\\n``."""
    text = unicodedata.normalize("NFKC", text.translate(_SCRIPTS)).translate(_QUOTES).lower()
    paragraphs = (
        _SPACE.sub(" ", p).strip() for p in _BLANK_LINE.split(_LINE_BREAK.sub("\n", text))
    )
    return "\n".join(p for p in paragraphs if p)


def _starts_sentence(text: str, start: int) -> bool:
    if start == 0 or text[start - 1] == "\n":
        return True
    previous = _PREVIOUS_END.search(text, max(0, start - 40), start)
    if previous is None:
        return False
    word, marks = previous.groups()
    return not (marks == "." and _ABBREVIATION.fullmatch(word))


def states_verbatim(evidence: str, claim: str) -> bool:
    """Whether ``claim`` is, word for word, a whole sentence of ``evidence`` (see the module)."""
    said = _normalized(claim)
    core = _CLOSING.sub("", said)
    if not _WORD.search(core) or "\n" in core:
        return False
    # "... to 5 p.m." may end its sentence or go on ("... 5 p.m. on Fridays."): only the end of
    # the evidence or of a paragraph says it ended
    abbreviated = _ABBREVIATION.fullmatch(core.rsplit(" ", 1)[-1]) is not None
    bare = said.rstrip(" \"')]")
    closing = bare[len(bare.rstrip(".!?")) :]
    asks, trails = "?" in closing, ".." in closing
    text = _normalized(evidence)
    start = text.find(core)
    while start != -1:
        end = start + len(core)
        after = _AFTER.match(text, end)
        if abbreviated and text[end:].lstrip(".!?\"')]")[:1] not in ("", "\n"):
            after = None
        if after and _starts_sentence(text, start):
            marks = after.group("marks") or ""
            paragraph = text[text.rfind("\n", 0, start) + 1 : start]
            if ("?" in marks, ".." in marks) == (asks, trails) and paragraph.count('"') % 2 == 0:
                return True
        start = text.find(core, start + 1)
    return False
