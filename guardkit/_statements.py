"""Which sentences of an answer state something a source could support, and where that starts.

Not greetings, thanks, offers of more help, requests, questions or lead-ins ("Here is what I
found:"): no fact supports or contradicts "Hope this helps!", and a guardrail that judged them
would flag every polite answer. The words that open an answer ("Yes,", "Sure!", "No,",
"Please note that", a list marker "1." or "- ", a Markdown heading's "#") are no part of the
statement that follows them; "No refunds are issued after 2 days" is a statement (no comma: a
determiner, not an answer). Shared by claim extraction and the risk score; no dependencies.
"""

from __future__ import annotations

import re

__all__ = [
    "LIST_ITEM",
    "is_pleasantry",
    "lead_length",
    "states_a_fact",
    "without_emphasis",
    "without_markup",
]

LIST_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*\u2022+]|\d{1,3}[.)]|#{1,6})[ \t]+")
"""A line opening a list item or a Markdown heading: a statement of its own, full stop or not."""

_LEAD = re.compile(
    r"(?:[ \t]*(?:[-*\u2022+]|\d{1,3}[.)]|#{1,6})[ \t]+"  # list marker, heading
    r"|\s*(?i:yes|no|sure|certainly|of course|absolutely|indeed|okay|ok|well|right|correct"
    r"|great question|good question|thanks?|thank you"
    r"|(?:hi|hello|hey)(?:\s+[A-Z][\w.'-]*){0,2}|dear(?:\s+[A-Z][\w.'-]*){1,3})"
    r"\s*(?:[,!:;.\u2013\u2014]|\s-)+\s*"  # an interjection: followed by punctuation
    r"|\s*(?i:please\s+)?(?i:note)(?:\s+that)?\s+"  # "Please note that ..."
    r")+"
)
_PLEASANTRY = re.compile(
    r"(?i:i\s+hope|hope\s+(?:this|that|it)|let\s+me\s+know|feel\s+free|happy\s+to\s+help"
    r"|glad\s+to\s+help|i'?d\s+be\s+happy|i\s+would\s+be\s+happy|i'?m\s+happy\s+to"
    r"|is\s+there\s+anything|anything\s+else|if\s+you\s+have\s+any|best\s+regards"
    r"|kind\s+regards|regards|cheers|sincerely|you'?re\s+welcome|you\s+are\s+welcome"
    r"|thanks?\s+(?:you\s+)?(?:for|so\s+much|again)|thank\s+you|please|good\s+(?:morning"
    r"|afternoon|evening)|greetings|great\s+question|good\s+question)\b"
)
_EMPHASIS = re.compile(r"\*\*|__|`")
_MARKER = re.compile(r"[ \t]*(?:[-*\u2022+]|\d{1,3}[.)]|#{1,6})[ \t]+")
_MIN_WORDS = 3


def lead_length(sentence: str) -> int:
    """Characters of ``sentence`` before its statement: list marker, "Yes,", "Please note"."""
    m = _LEAD.match(sentence)
    return m.end() if m else 0


def is_pleasantry(sentence: str) -> bool:
    """Whether ``sentence`` is a greeting, thanks, an offer of help or a request ("Hope this
    helps!", "Is there anything else I can help with?", "Please contact us.")."""
    rest = sentence[lead_length(sentence) :].strip().strip("\"'*_`")
    return not rest or _PLEASANTRY.match(rest) is not None


def states_a_fact(sentence: str) -> bool:
    """Whether ``sentence`` (citation marks already out) asserts something checkable: what is
    left after its opening words is no question, lead-in or pleasantry, and has three words or a
    number."""
    rest = sentence[lead_length(sentence) :].strip().strip("\"'*_`")
    if not rest or rest.endswith(("?", ":")) or _PLEASANTRY.match(rest):
        return False
    return len(rest.split()) >= _MIN_WORDS or any(c.isdigit() for c in rest)


def without_emphasis(text: str) -> str:
    """``text`` without Markdown emphasis and code marks ("**30 days**" reads "30 days")."""
    return _EMPHASIS.sub("", text)


def without_markup(sentence: str) -> str:
    """``sentence`` without its list marker or heading mark and its emphasis: "1. **Refunds**
    take 5 days" reads "Refunds take 5 days" (the opening words of an answer stay)."""
    m = _MARKER.match(sentence)
    return without_emphasis(sentence[m.end() :] if m else sentence)
