"""Cutting an answer into atomic claims, each with its character span in the answer.

A claim is one assertion that evidence can support or contradict. So: sentences (pysbd), with
coordinated clauses cut apart ("Refunds take 5 days, and shipping is free" is two claims: one can
be true while the other is false), and non-assertions dropped (questions, greetings, thanks,
offers of more help, requests), since no fact can support or contradict "Hope this helps!".
Citation marks ("[3]", "[1, 4-6]", placeholder tokens such as ``<|cit|>``) are left out of the
text checked: they point at a source, they state nothing about it. The numbers a claim cites are
kept beside it (``Claim.cites``), so a check can hold the claim to the documents it names.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from guardkit._citations import LEADING_MARKS, cited_numbers, without_citation_marks
from guardkit._statements import (
    LIST_ITEM,
    NUMBERED_ITEM,
    has_numbered_list,
    lead_length,
    states_a_fact,
    without_emphasis,
)
from guardkit.facts._segment import sentence_spans

__all__ = ["Claim", "cited_numbers", "extract_claims", "without_citation_marks"]


class Claim(BaseModel):
    """One checkable assertion and where it sits in the text.

    ``text`` is the assertion as checked; it is the span's text, except that a predicate cut
    from its subject gets the subject back ("costs 49 euros" is checked as "Delivery costs 49
    euros") and citation marks are left out ("[3]", ``<|cit|>``).
    """

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    sentence_start: int = Field(ge=0)
    """Span of the sentence the claim came from: filtering removes whole sentences."""
    sentence_end: int = Field(ge=0)
    sentence: str | None = None
    """The whole sentence as checked (without citation marks), when the claim is one of its
    clauses: evidence that states the whole sentence word for word supports each clause."""
    cites: tuple[int, ...] = ()
    """The numbered references it cites ("[2]", "[1, 4-6]"), ascending: those in its own
    clause, else those of its sentence ("Refunds take 5 days, and shipping is free [1]" cites
    [1] in both claims). Placeholder marks carry no number and are not counted."""


_CLAUSE_BREAK = re.compile(r";\s+|,\s+(?:and|but|while|whereas|yet|so)\s+", re.IGNORECASE)
_BARE_AND = re.compile(r"\s+(?:and|but|while|whereas)\s+", re.IGNORECASE)
_FINITE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|can|could|will|would|may|might|must|shall|should|"
    r"does|do|did|costs?|takes?|includes?|contains?|offers?|requires?|covers?|remains?|"
    r"lasts?|weighs?|pays?|opens?|closes?|ships?|runs?|arrives?|starts?|ends?|needs?|gets?|"
    r"gives?|provides?|supports?|allows?|applies|accepts?|holds?|lies|sits?|uses?|"
    r"\w+ed)\b",
    re.IGNORECASE,
)
_AUXILIARY = (
    "is|are|was|were|has|have|had|can|could|will|would|may|might|must|shall|should|does|do|did|"
    "costs?|takes?"
)
_VERB_FIRST = re.compile(
    r"^(?:is|are|was|were|has|have|had|can|could|will|would|may|might|must|should|does|do|"
    r"did|not|also|then|\w+ed|\w+ing(?!\s+(?:" + _AUXILIARY + r")\b))\b",
    re.IGNORECASE,
)
"""Verb-first: no subject of its own. An -ing word followed by a verb is the subject
("shipping is free"), not a predicate ("including the battery")."""
_DETERMINER_BEFORE = re.compile(
    r"\b(?:the|a|an|every|its|their|our|your|my|his|her|no|per)\s+$", re.IGNORECASE
)
_PRONOUN_OR_DETERMINER_BEFORE = re.compile(
    r"\S\s+(?:each|this|that|these|those|any|some)\s+$", re.IGNORECASE
)
""""these" before a word is a determiner ("these costs"), but opening the clause it can be
the subject itself ("Those are refundable", "Each costs 5 euros")."""
_PRONOUN_FIRST = re.compile(r"^(?:it|they|he|she|we|i|you|there)\b", re.IGNORECASE)
_MIN_WORDS = 3
_MAX_SUBJECT_WORDS = 8
_RELATIVE = re.compile(r"\b(?:that|which|who|whom|whose|where|when)\b", re.IGNORECASE)
_Piece = tuple[int, int, str]
_HEADING = re.compile(r"(?m)^[ \t]*#{1,6}[ \t].*$")
_FENCE_LINE = re.compile(r"(?m)^[ \t]*```.*$")  # code is no sentence of the prose around it
_FENCED = re.compile(r"(?ms)^[ \t]*```.*?^[ \t]*```[^\n]*$")
"""A fenced code block: code states no claim a fact index could check."""
"""A clause's span and the subject it shares with the clause before ("" if it has its own)."""


def _words(text: str) -> int:
    return len(text.split())


def _is_clause(text: str) -> bool:
    """A full clause: long enough, a subject pronoun or a finite verb, yet not verb-first.

    Verb-first means no subject of its own: "takes 3 days and costs 49 euros" is one claim,
    since "costs 49 euros" alone says nothing a fact could support.
    """
    text = text.strip()
    if _words(text) < _MIN_WORDS or _VERB_FIRST.match(text) or _FINITE.match(text):
        return False
    return bool(_PRONOUN_FIRST.match(text) or _verb(text))


def _verb(text: str) -> re.Match[str] | None:
    """The first finite verb of ``text``: not a word after a determiner, which is a noun or an
    adjective there ("the end user", "each pay period", "the last train")."""
    for m in _FINITE.finditer(text):
        before = text[: m.start()]
        if not (_DETERMINER_BEFORE.search(before) or _PRONOUN_OR_DETERMINER_BEFORE.search(before)):
            return m
    return None


def _subject(clause: str) -> str | None:
    """The plain subject of ``clause`` (the words before its first verb), if it has one.

    Only a short run of words without commas counts: "Standard delivery within Germany" in
    "Standard delivery within Germany takes 3 days", but nothing in "The shop, which opened in
    2010, sells bikes", where a regular expression cannot tell which verb is the main one.
    """
    clause = clause.strip()
    verb = _verb(clause)
    if verb is None or verb.start() == 0:
        return None
    subject = clause[: verb.start()].strip()
    if (
        "," in subject
        or _words(subject) > _MAX_SUBJECT_WORDS
        or _VERB_FIRST.match(subject)
        or _RELATIVE.search(subject)  # "Bikes that have been ridden": the verb is not its own
    ):
        return None
    return subject


def _split_at(
    text: str, start: int, end: int, pattern: re.Pattern[str], subject: str = ""
) -> list[_Piece]:
    """Clauses cut at ``pattern``: two full clauses, or a clause and a predicate of its subject.

    "Delivery takes 3 days and costs 49 euros" gives "Delivery takes 3 days" and "costs 49
    euros", the second checked as "Delivery costs 49 euros": alone, it states nothing.
    """
    pieces: list[_Piece] = []
    cursor = start
    for m in pattern.finditer(text, start, end):
        left, right = text[cursor : m.start()], text[m.end() : end]
        if not _is_clause(left) and not (subject and _is_predicate(left)):
            continue
        right_subject = "" if _is_clause(right) else _predicate_subject(left, right, subject)
        if _is_clause(right) or right_subject:
            pieces.append((cursor, m.start(), subject))
            cursor, subject = m.end(), right_subject
    pieces.append((cursor, end, subject))
    return pieces


def _is_predicate(text: str) -> bool:
    """A verb phrase without a subject: "costs 49 euros"."""
    text = text.strip()
    return _words(text) >= 2 and bool(_FINITE.match(text))


def _predicate_subject(left: str, right: str, subject: str) -> str:
    """The subject ``right`` shares with ``left``, if ``right`` is a bare predicate of it."""
    if not _is_predicate(right):
        return ""
    return subject or _subject(left) or ""


def _clauses(text: str, start: int, end: int) -> list[_Piece]:
    out: list[_Piece] = []
    for a, b, subject in _split_at(text, start, end, _CLAUSE_BREAK):
        out += _split_at(text, a, b, _BARE_AND, subject)
    return out


def _leading_marks(text: str, start: int) -> int:
    """Length of the citation marks opening the sentence at ``start``."""
    m = LEADING_MARKS.match(text, start)
    return m.end() - start if m else 0


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, the citation marks that open a sentence given to the one before: in
    "It holds. [1] Next one." the segmenter gives "[1]" to the second sentence, but it cites
    the first (and goes with it when that sentence is filtered out)."""
    items = [LIST_ITEM, NUMBERED_ITEM] if has_numbered_list(text) else [LIST_ITEM]
    breaks = [m.start() for pattern in items for m in pattern.finditer(text)]
    breaks += [m.end() for m in _HEADING.finditer(text)]  # a heading ends at its line's end
    breaks += [i for m in _FENCE_LINE.finditer(text) for i in (m.start(), m.end())]
    spans = sentence_spans(text, breaks)
    out = []
    for n, (start, end) in enumerate(spans):
        if n:
            start += _leading_marks(text, start)
            while start < end and text[start].isspace():
                start += 1
        if n + 1 < len(spans):
            following = spans[n + 1][0]
            marks = _leading_marks(text, following)
            end = following + marks if marks else end
        if end > start:
            out.append((start, end))
    return out


def extract_claims(text: str) -> list[Claim]:
    """The atomic claims of ``text`` in order, non-assertions and fenced code left out."""
    claims: list[Claim] = []
    code = [m.span() for m in _FENCED.finditer(text)]
    numbered = has_numbered_list(text)
    for s_start, s_end in _sentences(text):
        if any(a <= s_start < b for a, b in code):
            continue
        sentence = text[s_start:s_end]
        if not states_a_fact(without_citation_marks(sentence), numbered):
            continue
        clauses = _clauses(text, s_start + lead_length(sentence, numbered), s_end)
        whole = without_citation_marks(sentence.strip()) if len(clauses) > 1 else None
        for c_start, c_end, subject in clauses:
            piece = text[c_start:c_end]
            lead = len(piece) - len(piece.lstrip())
            body = piece.strip()
            checked = without_emphasis(
                without_citation_marks(" ".join(f"{subject} {body}".split()))
            )
            if not body or not checked:
                continue
            claims.append(
                Claim(
                    text=checked,
                    start=c_start + lead,
                    end=c_start + lead + len(body),
                    sentence_start=s_start,
                    sentence_end=s_end,
                    sentence=whole,
                    cites=cited_numbers(body) or cited_numbers(sentence),
                )
            )
    return claims
