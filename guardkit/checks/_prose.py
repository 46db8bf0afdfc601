"""What a structured output states, and the output with some of its sentences taken out.

A validated output (as JSON data) states things in its strings of three words
or more; keys, numbers, labels ("billing") and references ("1", "doc 2", a URL) are no claims.
A value without such a string (``{"answer": "Paris"}``) states what its short strings say. Its
*prose* is those strings, in order, one paragraph each, so a sentence never spans two fields
and a span of the prose maps back to one field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from typing import Any

from guardkit._statements import word_count

__all__ = ["PARAGRAPH", "prose_of", "without_spans"]

PARAGRAPH = "\n\n"
_Path = tuple[str | int, ...]


_SENTENCE_WORDS = 3
_JUNCTION = re.compile(r"[ \t]{2,}")


def _strings(data: Any, path: _Path = ()) -> Iterator[tuple[_Path, str]]:
    """``(path, stripped text)`` of every string with a letter or digit, in order."""
    if isinstance(data, str):
        if any(c.isalnum() for c in data):
            yield path, data.strip()
    elif isinstance(data, dict):
        for key, item in data.items():
            yield from _strings(item, (*path, key))
    elif isinstance(data, (list, tuple)):
        for i, item in enumerate(data):
            yield from _strings(item, (*path, i))


def _fields(data: Any) -> list[tuple[_Path, str]]:
    """The strings that state something: those of three words or more, else all of them."""
    found = list(_strings(data))
    sentences = [(p, t) for p, t in found if word_count(t) >= _SENTENCE_WORDS]
    return sentences or found


def prose_of(data: Any) -> str:
    """The strings of JSON ``data`` that state something, one paragraph each."""
    return PARAGRAPH.join(text for _, text in _fields(data))


def without_spans(data: Any, spans: Sequence[tuple[int, int]]) -> Any | None:
    """A copy of JSON ``data`` with the prose ``spans`` (sentences) cut out of the strings they
    fall in; a list item cut whole is dropped; other strings are left as written. ``None``
    when nothing with a letter or digit is left of the strings that stated something."""
    data = copy.deepcopy(data)
    cursor, left, emptied = 0, False, []
    for path, text in _fields(data):
        start, end = cursor, cursor + len(text)
        cursor = end + len(PARAGRAPH)
        cut = sorted(
            (max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start
        )
        if not cut:
            left = True
            continue
        kept, at = [], 0
        for a, b in cut:
            kept.append(text[at:a])
            at = max(at, b)
        kept.append(text[at:])
        new = _JUNCTION.sub(
            " ", " ".join(piece.strip(" ") for piece in kept if piece.strip())
        ).strip()
        left = left or any(c.isalnum() for c in new)
        if new or not isinstance(path[-1], int):
            _set(data, path, new)
        else:
            emptied.append(path)
    for path in reversed(emptied):  # from the last, so earlier indices stay right
        _parent(data, path).pop(path[-1])
    return data if left else None


def _parent(data: Any, path: _Path) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def _set(data: Any, path: _Path, text: str) -> None:
    _parent(data, path)[path[-1]] = text
