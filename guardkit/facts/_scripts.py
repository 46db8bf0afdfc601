"""Which writing system a claim is in, so a verifier is only asked about text it can read.

The shipped embedder and verifier learnt English: asked about Chinese or Russian, they still
answer, and confidently (a correct Chinese paraphrase came back contradicted at 0.96). A claim
whose letters are mostly in a script the verifier does not read is therefore unverifiable
without asking it. Scripts are named as Unicode names their letters (the first word of
``unicodedata.name``, after NFKC folds full-width and styled letters to plain ones):
``latin``, ``cyrillic``, ``greek``, ``arabic``, ``hebrew``, ``cjk`` (Chinese characters),
``hiragana``, ``katakana``, ``hangul``, ``thai``, ``devanagari`` ...
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["Scripts", "checked_scripts", "unread_script"]

_COMMON = frozenset(
    "latin cyrillic greek arabic hebrew cjk hiragana katakana hangul thai devanagari".split()
)


@functools.lru_cache(maxsize=4096)
def _script(letter: str) -> str:
    plain = unicodedata.normalize("NFKC", letter)[:1]
    name = unicodedata.name(plain if plain.isalpha() else letter, "")
    return name.split(" ", 1)[0].lower() if name else "unknown"


@functools.cache
def _all_scripts() -> frozenset[str]:
    """Every script name a letter has (built once, ~0.2 s, only for a name not in _COMMON)."""
    found = {_script(chr(c)) for c in range(sys.maxunicode + 1) if chr(c).isalpha()}
    return frozenset(found - {"unknown"})  # letters without a name (Tangut) name no script


def checked_scripts(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` in lower case, each a script some letter is in; raises ``ValueError`` naming
    an unknown one, or an empty list (every claim would be unread)."""
    found = tuple(name.strip().lower() for name in names)
    if not found:
        raise ValueError("names no script, so no claim would be read; use null to read every one")
    for name in found:
        if name not in _COMMON and name not in _all_scripts():
            known = ", ".join(sorted(_COMMON))
            raise ValueError(f"unknown script {name!r}; scripts are named like: {known}")
    return found


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


def _checked_or_none(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if names is None else checked_scripts(names)


Scripts = Annotated[tuple[str, ...] | None, AfterValidator(_checked_or_none)]
"""A settings field naming the scripts a verifier reads (``None``: every script)."""
