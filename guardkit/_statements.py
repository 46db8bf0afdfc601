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
import unicodedata

__all__ = [
    "LIST_ITEM",
    "NUMBERED_ITEM",
    "has_numbered_list",
    "is_pleasantry",
    "lead_length",
    "states_a_fact",
    "without_emphasis",
    "without_markup",
    "word_count",
]

LIST_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*\u2022+]|#{1,6})[ \t]+")
"""A line opening a bulleted item or a Markdown heading: a statement of its own, full stop or
not."""
NUMBERED_ITEM = re.compile(r"(?m)^[ \t]*\d{1,3}[.)][ \t]+")
"""A line opening a numbered item: one only where the text has two ("1. FC Koeln won", or a
wrapped line "250. Shipping is free", is no list)."""

_MARK = r"[ \t]*(?:[-*\u2022+]|#{1,6})[ \t]+"
_NUMBER = r"[ \t]*\d{1,3}[.)][ \t]+"
_OPENER = (
    r"\s*(?i:yes|no|sure|certainly|of course|absolutely|indeed|okay|ok|well|right|correct"
    r"|great question|good question|thanks?|thank you"
    r"|(?:hi|hello|hey)(?:\s+[A-Z][\w.'-]*){0,2}|dear(?:\s+[A-Z][\w.'-]*){1,3})"
    # an interjection is followed by punctuation ("No. 5 is ..." is a number's abbreviation)
    r"\s*(?:[,!:;\u2013\u2014]|\.(?!\s*\d)|\s-)+\s*"
    r"|\s*(?i:please\s+)?(?i:note)(?:\s+that\s+|\s*[:,]\s*)"  # "Please note that ..."
)
_LEAD = re.compile(rf"(?:{_MARK}|{_OPENER})+")
_MARKER = re.compile(_MARK)
_MARKER_NUMBERED = re.compile(f"{_MARK}|{_NUMBER}")
_LEAD_NUMBERED = re.compile(rf"(?:{_MARK}|{_NUMBER}|{_OPENER})+")
_PLEASANTRY = re.compile(
    r"(?i:i\s+hope|hope\s+(?:this|that|it)|let\s+me\s+know|feel\s+free|happy\s+to\s+help"
    r"|glad\s+to\s+help|i'?d\s+be\s+happy|i\s+would\s+be\s+happy|is\s+there\s+anything"
    r"|i'?m\s+happy\s+to|i\s+am\s+happy\s+to|anything\s+else|if\s+you\s+have\s+any"
    r"|(?:(?:best\s+|kind\s+)?regards|cheers|greetings)(?=\s*(?:[,!.]|$))|sincerely"
    r"|you'?re\s+welcome|you\s+are\s+welcome|thanks?\s+(?:you\s+)?(?:for|so\s+much"
    r"|again)|thank\s+you|good\s+(?:morning|afternoon|evening)|great\s+question"
    r"|good\s+question)\b"
)
"""Greetings, thanks, offers of help: sentences with no number in them (a closer standing alone:
"Cheers!", not "Cheers was a sitcom ...")."""
_REQUEST = re.compile(r"(?i:please)\b")
"""A request states no fact a source could support ("Please contact support.")."""
_EMPHASIS = re.compile(r"\*\*|__|`")
_MIN_WORDS = 3
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uf900-\ufaff]"
)
"""Letters of scripts that leave no space between words: Thai, Lao, Myanmar, Khmer, Japanese
kana and CJK ideographs."""
_UNSPACED_PER_WORD = 2
_QUOTES = "\"'\u300d\u300f\u201d\u2019\u00bb\u300b"
"""Quotes that may close a question or a lead-in: ASCII and curly ones, corner brackets
(U+300D, U+300F) and guillemets (U+00BB, U+300B)."""
_QUESTION_MARKS = ("?", "\uff1f", "\ufe56", "\ufe16", "\u061f", "\u203d", "\u2047", "\u2049")
"""ASCII, full-width, small, vertical, Arabic, interrobang and double forms."""
_COLONS = (":", "\uff1a", "\ufe55", "\ufe13")
"""A colon ends a lead-in ("Here is what I found:"); ASCII, full-width, small, vertical."""


def lead_length(sentence: str, numbered: bool = False) -> int:
    """Characters of ``sentence`` before its statement: list marker, "Yes,", "Please note
    that"; with ``numbered`` (the text has a numbered list), "1." too."""
    m = (_LEAD_NUMBERED if numbered else _LEAD).match(sentence)
    return m.end() if m else 0


def is_pleasantry(sentence: str) -> bool:
    """Whether ``sentence`` is a greeting, thanks, an offer of help or a request ("Hope this
    helps!", "Is there anything else I can help with?", "Please contact support."), with no
    number in it ("If you have any damaged items, refunds take 5 days." states a fact)."""
    rest = sentence[lead_length(sentence) :].strip().strip("\"'*_`")
    polite = _PLEASANTRY.match(rest) or _REQUEST.match(rest)
    return not rest or (polite is not None and not _has_digit(rest))


def states_a_fact(sentence: str, numbered: bool = False) -> bool:
    """Whether ``sentence`` (citation marks already out) asserts something checkable: what is
    left after its opening words is no question, lead-in, pleasantry or request, and has three
    words or a number."""
    rest = sentence[lead_length(sentence, numbered) :].strip().strip("\"'*_`")
    if not rest:
        return False
    # a question may sit in brackets; a colon before ")" is a smiley, not a lead-in
    if rest.rstrip(_QUOTES + ")\uff09").endswith(_QUESTION_MARKS):
        return False
    if rest.rstrip(_QUOTES).endswith(_COLONS):
        return False
    if (_PLEASANTRY.match(rest) or _REQUEST.match(rest)) and not _has_digit(rest):
        return False  # "Please return items within 30 days." still says 30 days
    return word_count(rest) >= _MIN_WORDS or _has_digit(rest)


def word_count(text: str) -> int:
    """Words in ``text``: those between spaces, and in scripts written without spaces
    (Chinese, Japanese, Thai ...) one per two letters (vowel signs and tone marks not counted),
    so "退货期为三十天" counts as words too."""
    spaced = sum(1 for t in _UNSPACED.sub(" ", text).split() if any(c.isalnum() for c in t))
    letters = sum(1 for c in _UNSPACED.findall(text) if unicodedata.category(c).startswith("L"))
    return spaced + letters // _UNSPACED_PER_WORD


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def without_emphasis(text: str) -> str:
    """``text`` without Markdown emphasis and code marks ("**30 days**" reads "30 days")."""
    return _EMPHASIS.sub("", text)


def without_markup(sentence: str, numbered: bool = False) -> str:
    """``sentence`` without its list marker or heading mark and its emphasis: "- **Refunds**
    take 5 days" reads "Refunds take 5 days" (the opening words of an answer stay); with
    ``numbered``, "1." is a marker too."""
    m = (_MARKER_NUMBERED if numbered else _MARKER).match(sentence)
    return without_emphasis(sentence[m.end() :] if m else sentence)


def has_numbered_list(text: str) -> bool:
    """Whether ``text`` holds a numbered list (two lines or more opening with "1.", "2)")."""
    return len(NUMBERED_ITEM.findall(text)) >= 2
