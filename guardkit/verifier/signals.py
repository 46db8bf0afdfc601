"""Cheap signals beside the model: a claim says more than its context (new numbers, names,
words), and how many claims a response makes.

They are combined with the model's risk by a logistic fit on calibration responses, and kept only
where that fit beats the model alone on held-out calibration data (the manifest records which).
Each signal is in [0, 1]; for the claim signals a response takes the maximum over its claims.
The claim count is there because the least supported of many claims is riskier-looking than
the least supported of one: a long summary's raw risk sits on another scale than a short answer's.
The context length is there for the same reason on the evidence side: a claim's support is the
best of many windows over a long document, so the raw risk of a long context is less spread out
(v5 on HaluEval summaries: too cautious near 0 and 1), and the fit may scale the model's logit
by it.
"""

from __future__ import annotations

import math
import re

__all__ = ["RESPONSE_SIGNALS", "SIGNALS", "claim_signals", "response_signals"]

SIGNALS: tuple[str, ...] = ("novel_number", "novel_name", "novel_content")
RESPONSE_SIGNALS: tuple[str, ...] = ("claim_count", "long_context")

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
_STOP_WORDS = """a an the and or but if of to in on at by for with from as is are was were be been
being it its this that these those he she they them his her their we you i me my our your not no do
does did has have had will would can could should may might than then there here what which who
whom whose when where why how all any some such very also just so"""
_STOP = frozenset(_STOP_WORDS.split())


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _content(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


def claim_signals(context: str, claim: str) -> dict[str, float]:
    """Signals in [0, 1] for one claim against its whole context."""
    ctx_lower = context.lower()
    nums = _numbers(claim)
    novel_num = float(bool(nums - _numbers(context)))
    names = {m.group() for m in _NAME.finditer(claim)}
    novel_names = [n for n in names if n.lower() not in ctx_lower]
    words = _content(claim)
    novel_words = words - _content(context)
    return {
        "novel_number": novel_num,
        "novel_name": len(novel_names) / len(names) if names else 0.0,
        "novel_content": len(novel_words) / len(words) if words else 0.0,
    }


def response_signals(n_claims: int, context_tokens: int, window: int) -> dict[str, float]:
    """Signals of a response as a whole, each on a log scale: its claim count (0 for one claim,
    1 for ten or more) and its context's length (0 within one model window, 1 for eight or more).
    """
    windows = max(1.0, context_tokens / window)
    return {
        "claim_count": min(1.0, math.log(max(1, n_claims)) / math.log(10)),
        "long_context": min(1.0, math.log(windows) / math.log(8)),
    }
