"""Sentence spans from a real segmenter (pysbd), with the exact character offsets kept.

pysbd knows abbreviations, decimals and initials ("Dr. Smith", "3.5 kg", "U.S. Steel") that a
regex of our own would cut. Long texts are cut into blocks at blank lines (and, for a single
block without any, at whitespace every ``_BLOCK`` characters) first, because pysbd's regexes
slow down badly on one huge string; a sentence never spans a paragraph break anyway.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator

__all__ = ["MAX_FACT_CHARS", "sentence_spans"]

MAX_FACT_CHARS = 1000
"""A "sentence" longer than this (a table row dump, a run-on list) is cut at whitespace."""

_BLOCK = 20_000
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_local = threading.local()


def _segmenter() -> object:
    seg = getattr(_local, "segmenter", None)
    if seg is None:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False, char_span=False)
        _local.segmenter = seg
    return seg


def _blocks(text: str, breaks: Iterable[int]) -> Iterator[tuple[int, int]]:
    cuts = sorted({*(m.start() for m in _PARAGRAPH.finditer(text)), *breaks, len(text)})
    start = 0
    for cut in cuts:
        yield from _cut(text, start, cut, _BLOCK)
        start = cut


_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s")


def _cut(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most ``size`` characters: after the last
    sentence end in the piece's second half, else at its last space (a cut mid-sentence makes
    two false facts of one true one)."""
    while end - start > size:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, start + size // 2, start + size)]
        split = ends[-1] if ends else text.rfind(" ", start + size // 2, start + size)
        split = split if split > start else start + size
        yield start, split
        start = split
    if end > start:
        yield start, end


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def sentence_spans(text: str, breaks: Iterable[int] = ()) -> list[tuple[int, int]]:
    """``(start, end)`` of every sentence in ``text``, whitespace trimmed, in order.

    ``breaks`` are offsets where a sentence must end whatever the punctuation (a Markdown
    heading or list item has no full stop but is a fact of its own).
    """
    seg = _segmenter()
    spans: list[tuple[int, int]] = []
    for b_start, b_end in _blocks(text, breaks):
        # pysbd ends a sentence at every newline; a wrapped line is not a sentence end.
        block = text[b_start:b_end].replace("\n", " ").replace("\r", " ")
        cursor = 0
        for sentence in seg.segment(block):  # type: ignore[attr-defined]
            piece = sentence.strip()
            found = block.find(piece, cursor)
            if found < 0:  # pysbd normalised something; fall back to the running cursor
                found = cursor
            # pysbd can return more than the text holds ("virtuosity . . ." ends in ". . ").
            end = min(found + len(piece), len(block))
            spans.append((b_start + found, b_start + end))
            cursor = end
        if block[cursor:].strip():  # whatever pysbd's pieces did not cover stays a fact
            spans.append((b_start + cursor, b_end))
    cuts = (cut for a, b in spans for cut in _cut(text, a, b, MAX_FACT_CHARS))
    return [span for span in (_trim(text, a, b) for a, b in cuts) if span is not None]
