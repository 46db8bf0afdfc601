"""Which writing system a claim is in, so a verifier is only asked about text it can read.

The shipped embedder and verifier learnt English: asked about Chinese or Russian, they still
answer, and confidently (a correct Chinese paraphrase came back contradicted at 0.96). A claim
whose letters are mostly in a script the verifier does not read is therefore unverifiable
without asking it. Scripts are named as Unicode names their letters (the first word of
``unicodedata.name``): ``latin``, ``cyrillic``, ``greek``, ``arabic``, ``hebrew``, ``cjk``
(Chinese characters), ``hiragana``, ``katakana``, ``hangul``, ``thai``, ``devanagari`` ...
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Collection

__all__ = ["unread_script"]


def _script(letter: str) -> str:
    name = unicodedata.name(letter, "")
    return name.split(" ", 1)[0].lower() if name else "unknown"


def unread_script(text: str, scripts: Collection[str]) -> str | None:
    """The script most of ``text``'s letters are in, when it is none of ``scripts``; ``None``
    when ``text`` is readable (at least half its letters in ``scripts``, or no letters)."""
    if text.isascii():
        return None if "latin" in scripts or not any(c.isalpha() for c in text) else "latin"
    counts = Counter(_script(c) for c in text if c.isalpha())
    total = sum(counts.values())
    if not total or 2 * sum(counts[s] for s in scripts) >= total:
        return None
    return counts.most_common(1)[0][0]
