"""Citation marks in generated and scientific text: "[3]", "[1, 4-6]", ``<|cit|>``.

They point at a source and state nothing about it, so claim checks read text without them
(the facts check, the risk check, ``guardkit score``), while the numbers they name tell which
of a call's documents a claim cites. No dependencies: the verifier and the facts package both
use it.
"""

from __future__ import annotations

import re

__all__ = ["LEADING_MARKS", "cited_numbers", "states_something", "without_citation_marks"]

_PREFIX = r"(?:(?i:doc(?:ument)?|source|ref(?:erence)?)s?\.?:?\s*)?"
_REFERENCE = rf"{_PREFIX}[1-9]\d{{0,2}}"
_PLACEHOLDER = re.compile(rf"<\|[A-Za-z_]+\|>|(?<![\w\]])\[\s*{_PREFIX}0\s*\]")
"""Marks that name no document of ours: ``<|cit|>``, and "[0]" from answers numbering their
sources from 0 (never "items[0]"): the text is read without them, no document is cited.
Numbered marks are taken out first, so "[1][0]" is two marks."""
_NUMBERED = re.compile(rf"\[\s*{_REFERENCE}(?:\s*[-\u2013,]\s*{_REFERENCE})*\s*\]")
"""Citation numbers run from 1 to 999: "[0, 1]" is an interval, "[2019]" a year. A number may be
named as a generated answer names it: "[Doc 1]", "[Source 2, Source 3]", "[document 4]"."""
_RANGE = re.compile(r"(\d+)(?:\s*[-\u2013]\s*(\d+))?")
_MAX_REFERENCE = 999
"""Above this a bracketed number is a year ("[2019]"), not the 2019th reference."""
_MAX_RANGE = 100
"""A range "[3-7]" names each number in it; a wider one is not a citation but a span of text."""
LEADING_MARKS = re.compile(rf"(?:\s*{_NUMBERED.pattern})+")
_MARK = "\x00"  # where a citation mark was, until the brackets it emptied are gone
_MARKS_IN_SQUARE = re.compile(r"\[[\s,;\d\-\u2013\x00]*\x00[\s,;\d\-\u2013\x00]*\]")
_MARKS_IN_ROUND = re.compile(r"\([\s,;\x00]*\x00[\s,;\x00]*\)")
_SEPARATED_MARK = re.compile(r"\s*[,;]\s*\x00(?=\s*\))|(?<=\()\s*\x00\s*[,;]\s*")
_SPACED_MARK = re.compile(r"\s*\x00")


def without_citation_marks(text: str) -> str:
    """``text`` without numbered citations and citation placeholders, and the brackets and
    separators they leave behind: "as shown before (Lee, 2019; <|cit|>) [3, 4]." reads
    "as shown before (Lee, 2019)." Author-year citations stay: a regular expression cannot
    tell them from a parenthesis that states something. Text without marks is returned as
    written (the verbatim rule compares spacing and brackets)."""
    if not (_PLACEHOLDER.search(text) or _NUMBERED.search(text)):
        return text
    out = _PLACEHOLDER.sub(_MARK, _NUMBERED.sub(_MARK, text))  # "[1][0]": "[0]" after a mark
    out = _MARKS_IN_ROUND.sub(_MARK, _MARKS_IN_SQUARE.sub(_MARK, out))
    out = _SPACED_MARK.sub("", _SEPARATED_MARK.sub(_MARK, out))
    return " ".join(out.split())


def cited_numbers(text: str) -> tuple[int, ...]:
    """The reference numbers the numbered citation marks of ``text`` name, ascending:
    "[1, 4-6]" names 1, 4, 5 and 6."""
    found: set[int] = set()
    for mark in _NUMBERED.finditer(text):
        for low, high in _RANGE.findall(mark.group()):
            first, last = int(low), int(high or low)
            if first <= last <= min(first + _MAX_RANGE, _MAX_REFERENCE):
                found.update(range(first, last + 1))
    return tuple(sorted(found))


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def states_something(text: str) -> bool:
    """Whether ``text`` has a letter or digit once its citation marks are left out: "...",
    "___", an emoji or "[1] [2]" state nothing a source could support or contradict."""
    return _LETTER_OR_DIGIT.search(without_citation_marks(text)) is not None
