"""Synthetic pairs made from real sentences of a document.

For a sentence ``s`` of a document and an evidence window of sentences around it (one or two
sentences; a paragraph of three to five in a quarter of the pairs, as answers are checked against
whole passages):

- supported: ``s`` itself, or its longest clause (split at ``;``, ``,`` or ``and``);
- contradicted: ``s`` with one fact changed: a number, a negation added or removed, an antonym,
  or a capitalised name replaced by a name from another document;
- not enough info: another sentence of the same document, outside the window.

Each perturbation keeps the wording of the evidence, so word overlap cannot tell the classes apart.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

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
    found = [m for m in _NAME.finditer(s) if m.start() > 0]  # not the capitalised first word
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


def _clause(s: str) -> str:
    parts = [p.strip(" ,;.") for p in re.split(r";|, | and ", s)]
    best = max(parts, key=len)
    return best + "." if len(best.split()) >= 5 and best != s.strip(" ,;.") else s


def synthetic_pairs(docs: Sequence[Sequence[str]], n: int, seed: int) -> list[Example]:
    """About ``n`` pairs (a third per label) from documents given as lists of sentences."""
    rng = random.Random(seed)
    usable = [d for d in docs if len(d) >= 4]
    names = sorted({m.group() for d in usable[:2000] for s in d[1:] for m in _NAME.finditer(s)})
    out: list[Example] = []
    while len(out) < n and usable:
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
        out.append(
            Example(evidence, _clause(s) if rng.random() < 0.5 else s, SUPPORTED, "synthetic")
        )
        for fn in rng.sample(_PERTURB, len(_PERTURB)):
            changed = fn(s, rng, names)
            if changed and changed != s:
                out.append(Example(evidence, changed, CONTRADICTED, f"synthetic_{fn.__name__[1:]}"))
                break
        far = [j for j in range(len(doc)) if j < lo - 1 or j > hi]
        if far:
            out.append(Example(evidence, doc[rng.choice(far)], NOT_ENOUGH_INFO, "synthetic"))
    return out
