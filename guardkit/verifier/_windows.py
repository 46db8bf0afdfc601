"""Cutting (evidence, claim) pairs into model-sized windows, and folding the results back.

The rule, the same everywhere:

- Evidence longer than the window is cut into overlapping token windows (a quarter overlap), each
  a run of whole tokens mapped back to the original characters. Nothing is dropped.
- Evidence made of several documents (joined by :func:`join_documents`) is windowed document by
  document, and also as the documents joined: a claim may need two of them. The model reads a
  passage far worse beside unrelated ones (FEVER-Symmetric claims with their evidence passage
  among 20 others: AUROC 0.80 alone, 0.68 joined only, 0.75 with each document's own windows;
  ``benchmarks/long_context.py``).
- A claim longer than half the window is cut into pieces the same way (no overlap).
- Per claim piece, the window that supports it most wins, unless a window contradicts it
  outright (contradicted is that window's most likely label) and more firmly than the best
  support; when the best window does support the claim (its most likely label), the
  contradicting window must also share at least as many of the claim's words. Evidence
  supports a claim if *some* part of it does, and contradicts it if some part plainly does; a
  part that says "not enough info" outvotes nothing, and a part about something else (fewer of
  the claim's words) cannot overrule a part that supports it: the model reads unrelated
  sentences' numbers and names as contradictions, and long contexts (many documents) fell to
  chance before this rule.
- Per claim, the least supported piece wins (a claim is only as supported as its weakest part).
- With ``max_windows`` set and more windows than that, only the ``max_windows`` windows sharing
  the most content words with the claim piece are scored, the shorter first among equals (a
  retrieval step: on 2 CPU cores a long document would otherwise cost dozens of model calls per
  sentence). ``None`` scores every window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

__all__ = ["DOCUMENT_BREAK", "Segment", "fold", "join_documents", "plan_windows"]

DOCUMENT_BREAK = "\x1d"
"""Between the documents of one evidence text (ASCII's group separator: no text holds it)."""

_WORD = re.compile(r"\w+")
_STOP = frozenset(
    """the a an of to in on at by for with from as is are was were be and or but it its this
    that""".split()
)
_MARGIN = 4  # tokens kept free: re-tokenising a cut text can shift a token or two


@dataclass(frozen=True)
class Segment:
    """One model input: which pair, which claim piece, and the two texts."""

    pair: int
    piece: int
    evidence: str
    claim: str


def _spans(tokenizer: Tokenizer, text: str, size: int, stride: int, fits: int) -> list[str]:
    """``text`` whole if it has at most ``fits`` tokens, else windows of ``size`` tokens."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    offsets = enc.offsets
    if len(offsets) <= fits:
        return [text]
    starts = [*range(0, len(offsets) - size, stride), len(offsets) - size]
    return [text[offsets[s][0] : offsets[s + size - 1][1]] for s in starts]


def join_documents(documents: Sequence[str], tail: str = "") -> str:
    """One evidence text of several documents, which the verifier windows one by one as well
    as together, ``tail`` (what the response replies to: ``Question: ...``) after each document
    (a document longer than a window has it in its last window only, as one document always
    had). One document gives ``document`` or ``document + "\n" + tail``, as before there were
    several. The documents are joined by ``DOCUMENT_BREAK`` (``"\x1d"``): a verifier of one's
    own receives that character between them."""
    docs = [d.strip() for d in documents if d.strip()]
    return DOCUMENT_BREAK.join(f"{d}\n{tail}" if tail else d for d in docs)


def _most_relevant(windows: list[str], claim: str, keep: int) -> list[str]:
    """The ``keep`` windows sharing the most of the claim's content words, the shorter first
    among equals (a document alone before the documents joined around it)."""
    words = _content_words(claim)
    scores = [(-len(words & _content_words(win)), len(win)) for win in windows]
    best = sorted(range(len(windows)), key=scores.__getitem__)[:keep]
    return [windows[i] for i in sorted(best)]


def _windows(tokenizer: Tokenizer, evidence: str, size: int) -> list[str]:
    """The windows of ``evidence`` for a claim leaving ``size`` tokens: each document's own,
    and, for several documents, also those of the documents joined (a claim may need two)."""
    stride, fits = max(1, (size * 3) // 4), size + _MARGIN  # uncut evidence needs no margin
    docs = [d for d in evidence.split(DOCUMENT_BREAK) if d.strip()]
    if len(docs) < 2:
        return _spans(tokenizer, evidence, size, stride, fits)
    apart = [w for doc in docs for w in _spans(tokenizer, doc, size, stride, fits)]
    joined = _spans(tokenizer, "\n\n".join(docs), size, stride, fits)
    return apart + [w for w in joined if w not in apart]


def plan_windows(
    tokenizer: Tokenizer,
    pairs: Sequence[tuple[str, str]],
    max_length: int,
    special: int,
    max_windows: int | None = None,
) -> list[Segment]:
    """Every model input needed to score (evidence, claim) ``pairs`` in ``max_length`` tokens."""
    budget = max_length - special - _MARGIN
    claim_cap = budget // 2
    ev_cache: dict[tuple[str, int], list[str]] = {}
    out: list[Segment] = []
    for p, (evidence, claim) in enumerate(pairs):
        pieces = _spans(tokenizer, claim, claim_cap, claim_cap, claim_cap)
        for k, piece in enumerate(pieces):
            n_claim = len(tokenizer.encode(piece, add_special_tokens=False).ids)
            size = max(16, budget - n_claim)
            key = (evidence, size)
            if key not in ev_cache:
                ev_cache[key] = _windows(tokenizer, evidence, size)
            windows = ev_cache[key]
            if max_windows is not None and len(windows) > max_windows:
                windows = _most_relevant(windows, piece, max_windows)
            out += [Segment(p, k, window, piece) for window in windows]
    return out


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def fold(segments: Sequence[Segment], probs: np.ndarray, n_pairs: int) -> np.ndarray:
    """Fold per-segment probabilities (supported, contradicted, nei) into one row per pair."""
    supporting: dict[tuple[int, int], int] = {}
    for i, seg in enumerate(segments):
        key = (seg.pair, seg.piece)
        j = supporting.get(key)
        if j is None or probs[i, 0] > probs[j, 0]:
            supporting[key] = i
    shared = [len(_content_words(s.claim) & _content_words(s.evidence)) for s in segments]
    contradicting: dict[tuple[int, int], int] = {}
    for i, seg in enumerate(segments):
        key = (seg.pair, seg.piece)
        best = supporting[key]
        if probs[i].argmax() != 1 or (probs[best].argmax() == 0 and shared[i] < shared[best]):
            continue
        j = contradicting.get(key)
        if j is None or probs[i, 1] > probs[j, 1]:
            contradicting[key] = i
    result = np.full((n_pairs, 3), np.nan, dtype=np.float64)
    for key, i in supporting.items():
        j = contradicting.get(key)
        if j is not None and probs[j, 1] > probs[i, 0]:
            i = j
        if np.isnan(result[key[0], 0]) or probs[i, 0] < result[key[0], 0]:
            result[key[0]] = probs[i]
    return result
