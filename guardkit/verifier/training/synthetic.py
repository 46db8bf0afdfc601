"""Synthetic pairs made from real sentences of a document.

For a sentence ``s`` of a document and an evidence window of sentences around it (one or two
sentences; a paragraph of three to five in a quarter of the pairs, as answers are checked against
whole passages):

- supported: ``s`` itself, its longest clause (split at ``;``, ``,`` or ``and``), or ``s``'s
  subject joined to its second predicate ("Delivery takes 3 days and costs 49 euros." ->
  "Delivery costs 49 euros."): answers restate facts that way, and a model that only ever saw
  the first form called such restatements contradicted;
- contradicted: the supported claim (half the time) or ``s`` with one fact changed: a number,
  a negation added or removed, an antonym, or a name after the first predicate replaced by a
  name from another document. Perturbing the supported claim itself gives twins that differ
  only in the changed fact, so the form of a restatement says nothing about its label;
- not enough info: ``s`` about another subject (a name in its subject replaced, its value
  changed or not), else another sentence of the same document, outside the window. Evidence
  about Austria settles nothing about Germany: a verifier taught that any changed name is a
  contradiction refuses true answers whenever a neighbouring fact is retrieved.

Each perturbation keeps the wording of the evidence, so word overlap cannot tell the classes apart.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection, Sequence

from guardkit.verifier.training.examples import (
    CONTRADICTED,
    NOT_ENOUGH_INFO,
    SUPPORTED,
    Example,
)

__all__ = ["synthetic_pairs"]

_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NAME = re.compile(r"\b(?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+)*\b")
_AUX = re.compile(r"\b(is|are|was|were|can|will|has|have|had|does|did|should|could|would)\b")
_NEG = re.compile(r"\b(is|are|was|were|can|will|has|have|had|does|did|should|could|would) not\b")
_PAIRS = [
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("increases", "decreases"),
    ("higher", "lower"),
    ("more", "less"),
    ("before", "after"),
    ("positive", "negative"),
    ("larger", "smaller"),
    ("first", "last"),
    ("early", "late"),
    ("maximum", "minimum"),
    ("high", "low"),
    ("up", "down"),
    ("won", "lost"),
    ("older", "younger"),
    ("best", "worst"),
    ("enhanced", "reduced"),
    ("promotes", "inhibits"),
    ("activates", "suppresses"),
    ("significant", "insignificant"),
    ("born", "died"),
    ("north", "south"),
    ("east", "west"),
    ("male", "female"),
    ("longer", "shorter"),
    ("always", "never"),
    ("all", "no"),
]
_ANTONYM = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
_ANT_RE = re.compile(r"\b(" + "|".join(map(re.escape, _ANTONYM)) + r")\b")


def _swap_number(s: str, rng: random.Random, names: Sequence[str]) -> str | None:
    nums = list(_NUMBER.finditer(s))
    if not nums:
        return None
    m = rng.choice(nums)
    value = m.group().replace(",", "")
    try:
        x = float(value)
    except ValueError:
        return None
    delta = rng.choice([-1, 1]) * max(1.0, abs(x) * rng.uniform(0.1, 0.6))
    new = x + delta if "." in value else round(x + delta)
    text = f"{new:.1f}" if isinstance(new, float) else str(int(new))
    return s[: m.start()] + text + s[m.end() :] if text != m.group() else None


def _negate(s: str, rng: random.Random, names: Sequence[str]) -> str | None:
    neg = _NEG.search(s)
    if neg:
        return s[: neg.start()] + neg.group(1) + s[neg.end() :]
    aux = _AUX.search(s)
    return s[: aux.end()] + " not" + s[aux.end() :] if aux else None


def _antonym(s: str, rng: random.Random, names: Sequence[str]) -> str | None:
    m = _ANT_RE.search(s)
    return s[: m.start()] + _ANTONYM[m.group()] + s[m.end() :] if m else None


def _swap_name(s: str, rng: random.Random, names: Sequence[str]) -> str | None:
    """A name after the first predicate replaced ("born in Paris" -> "born in Lyon").

    A name in the subject is left alone: the claim would be about someone else, which the
    evidence does not settle (see :func:`_other_subject`).
    """
    verb = _predicate_start(s)
    found = [m for m in _NAME.finditer(s) if verb is not None and m.start() > verb]
    if not found or not names:
        return None
    m = rng.choice(found)
    other = rng.choice(names)
    return s[: m.start()] + other + s[m.end() :] if other != m.group() else None


_PERTURB: list[Callable[[str, random.Random, Sequence[str]], str | None]] = [
    _swap_number,
    _negate,
    _antonym,
    _swap_name,
]


_DETERMINERS = frozenset(
    "a an the this that these those its their our his her my your each every some all no "
    "most many several few both such other".split()
)
_RELATIVE = frozenset("that which who whom whose where when while because".split())
_PREPOSITIONS = frozenset(
    "in on at by to from with for of into over under during after before about".split()
)
_OBJECT_STARTS = _DETERMINERS | _PREPOSITIONS
#: Words after which an -s / -ed word is a noun or participle, not the first predicate.
_BEFORE_NOUNS = _OBJECT_STARTS | _RELATIVE
_PRONOUNS = frozenset("he she it we they i you this that these those".split())
_NOT_VERBS = frozenset("is as was has this its thus us yes less unless sometimes".split())
#: Which verb forms of a first predicate may head a second one ("has risen and is falling").
_SECOND_FORMS = {"aux": {"aux"}, "ed": {"ed"}, "s": {"s", "aux"}}


def _verb_form(word: str) -> str | None:
    """``aux``, ``ed`` or ``s`` for a finite verb guessed without a tagger, else None."""
    w = word.strip(",;:")
    if _AUX.fullmatch(w):
        return "aux"
    if not (w.isalpha() and w.islower() and len(w) > 3) or w in _NOT_VERBS:
        return None
    if w.endswith("ed"):
        return "ed"
    return "s" if w.endswith("s") and not w.endswith(("ss", "us", "is")) else None


def _first_verb(words: Sequence[str]) -> int | None:
    """Where the first predicate starts; a -s word after "the" or "of" is taken for a noun."""
    for k in range(1, min(len(words) - 1, 8)):
        form = _verb_form(words[k])
        if form is None:
            continue
        prev = words[k - 1].lower()
        if k == 1 and prev in _PRONOUNS:
            return k
        if prev in _BEFORE_NOUNS:
            continue
        return k if k > 1 or form == "aux" else None  # "Previous studies ...": a noun, maybe
    return None


def _restate(s: str) -> str | None:
    """``s``'s subject with its second predicate: "X verbs A and verbs B." -> "X verbs B.".

    Guessed from word forms alone, so it keeps to plain sentences (no commas or relative
    clauses before the "and") where the guess is mostly right.
    """
    left, sep, right = s.strip().rstrip(".").partition(" and ")
    words, right_words = left.split(), right.split()
    if not sep or " and " in right or "," in left or len(right_words) < 2:
        return None
    if _RELATIVE & {w.lower() for w in words}:
        return None
    second = _verb_form(right_words[0])
    follower = right_words[1].lower()
    if second is None or follower in ("of", "and"):
        return None
    if second == "s" and follower in _PREPOSITIONS:
        return None  # "... between loss and changes in risk": a noun
    if second == "ed" and follower not in _OBJECT_STARTS:
        return None  # "a decline and improved survival": a participle
    k = _first_verb(words)
    if k is None or second not in _SECOND_FORMS[_verb_form(words[k]) or "aux"]:
        return None
    return " ".join(words[:k] + right_words) + "."


def _predicate_start(s: str) -> int | None:
    """Character offset of the first predicate's verb, guessed as :func:`_first_verb` does."""
    words = s.split()
    k = _first_verb(words)
    if k is None:
        return None
    return sum(len(w) + 1 for w in words[:k])


#: Predicates only one subject can hold: another subject with them is contradicted, not
#: unsettled ("Lyon is the capital of France"), so they are not used for other-subject claims.
_UNIQUE_ROLE = re.compile(
    r"\b(first|only|sole|last|capital|\w+est|won|winner|founded|founder|invented|discovered)\b",
    re.IGNORECASE,
)
_NOT_NAMES = _DETERMINERS | _PREPOSITIONS | _PRONOUNS | _RELATIVE | {"and", "but", "however"}


def _subject_names(s: str, known: Collection[str]) -> list[tuple[int, int]]:
    """Spans of the names in ``s``'s subject, before its first predicate.

    Only names in ``known`` count: capitalised words are also sentence starts, headings and
    terms ("Patients", "Disease"), which are not whose the fact is.
    """
    verb = _predicate_start(s)
    if verb is None or _UNIQUE_ROLE.search(s, verb):
        return []
    spans = []
    for m in _NAME.finditer(s[:verb]):
        start, words = m.start(), m.group().split()
        if start == 0 and words[0].lower() in _NOT_NAMES:
            start, words = start + len(words[0]) + 1, words[1:]
        if words and " ".join(words) in known:
            spans.append((start, m.end()))
    return spans


def _other_subject(
    s: str, rng: random.Random, names: Sequence[str], known: Collection[str]
) -> str | None:
    """``s`` about another subject: a name in its subject replaced, its value changed or not.

    "Delivery to Austria costs 89 euros." says nothing about Germany, so "Delivery to Germany
    costs 89 euros." (or "... 49 euros.") is not enough info, not a contradiction: a verifier
    that reads any changed name as one refuses true answers whenever a neighbouring fact is
    retrieved.
    """
    spans = _subject_names(s, known)
    if not spans or not names:
        return None
    start, end = rng.choice(spans)
    other = rng.choice(names)
    if other == s[start:end]:
        return None
    claim = s[:start] + other + s[end:]
    if rng.random() < 0.5:
        changed = _swap_number(claim, rng, names)
        claim = changed or claim
    return claim


def _clause(s: str) -> str:
    parts = [p.strip(" ,;.") for p in re.split(r";|, | and ", s)]
    best = max(parts, key=len)
    return best + "." if len(best.split()) >= 5 and best != s.strip(" ,;.") else s


#: Share of the sentences drawn from those :func:`_restate` can restate.
RESTATED_SHARE = 0.15
#: Share drawn from sentences with a name in their subject, for :func:`_other_subject`.
OTHER_SUBJECT_SHARE = 0.1


def synthetic_pairs(docs: Sequence[Sequence[str]], n: int, seed: int) -> list[Example]:
    """About ``n`` pairs (a third per label) from documents given as lists of sentences."""
    rng = random.Random(seed)
    usable = [d for d in docs if len(d) >= 4]
    names = sorted({m.group() for d in usable[:2000] for s in d[1:] for m in _NAME.finditer(s)})
    # Names seen inside sentences whose words never occur in lower case ("Obama", not "Disease").
    lower = {w for d in usable for s in d for w in re.findall(r"\b[a-z]+\b", s)}
    inner = {
        m.group()
        for d in usable
        for s in d
        for m in _NAME.finditer(s)
        if m.start() > 0 and not lower & set(m.group().lower().split())
    }
    subjects = sorted(
        {s[a:b] for d in usable[:2000] for s in d for a, b in _subject_names(s, inner)}
    )
    # Restatable sentences are rare (about 1 in 150) and sentences with a name in their subject
    # not common, so a share of the draws is taken from each.
    restatable = [(d, i) for d in usable for i, s in enumerate(d) if _restate(s)]
    named = [(d, i) for d in usable for i, s in enumerate(d) if _subject_names(s, inner)]
    out: list[Example] = []
    while len(out) < n and usable:
        draw = rng.random()
        if restatable and draw < RESTATED_SHARE:
            doc, i = rng.choice(restatable)
        elif named and draw < RESTATED_SHARE + OTHER_SUBJECT_SHARE:
            doc, i = rng.choice(named)
        else:
            doc = rng.choice(usable)
            i = rng.randrange(len(doc))
        if rng.random() < 0.25:
            width = rng.randint(3, 5)
            lo = max(0, min(i - rng.randrange(width), len(doc) - width))
            hi = min(len(doc), lo + width)
        else:
            lo, hi = (i - 1, i + 1) if i > 0 and rng.random() < 0.5 else (i, min(len(doc), i + 2))
        evidence = " ".join(doc[lo:hi])
        s = doc[i]
        if len(s.split()) < 5:
            continue
        restated = _restate(s)
        if restated and rng.random() < 0.75:
            claim, form = restated, "_restated"
        else:
            claim, form = (_clause(s) if rng.random() < 0.5 else s), ""
        out.append(Example(evidence, claim, SUPPORTED, f"synthetic{form}"))
        target, form = (claim, form) if rng.random() < 0.5 else (s, "")
        order = rng.sample(_PERTURB, len(_PERTURB))
        if _NUMBER.search(target) and rng.random() < 0.5:
            order.remove(_swap_number)
            order.insert(0, _swap_number)
        for fn in order:
            changed = fn(target, rng, names)
            if changed and changed != target:
                source = f"synthetic{form}_{fn.__name__[1:]}"
                out.append(Example(evidence, changed, CONTRADICTED, source))
                break
        other = _other_subject(s, rng, subjects, inner)
        far = [j for j in range(len(doc)) if j < lo - 1 or j > hi]
        if other:
            out.append(Example(evidence, other, NOT_ENOUGH_INFO, "synthetic_other_subject"))
        elif far:
            out.append(Example(evidence, doc[rng.choice(far)], NOT_ENOUGH_INFO, "synthetic"))
    return out
