"""Training examples and the label scheme shared by every reader.

Labels 0..2 are the three verdicts in :data:`guardkit.verifier.types.LABELS` order. Label 3,
``UNSUPPORTED``, is a *partial* label: the evidence does not support the claim, but the source does
not say whether it contradicts it or merely says nothing (DocNLI's binary files, MED, HaluEval's
hallucinated answers, BEGIN's "not fully attributable"). Its loss is ``-log(p_contra + p_nei)``, so
such sets teach "not supported" without forcing a guess between the two.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = [
    "CONTRADICTED",
    "NOT_ENOUGH_INFO",
    "SUPPORTED",
    "UNSUPPORTED",
    "Example",
    "bucket",
]

SUPPORTED = 0
CONTRADICTED = 1
NOT_ENOUGH_INFO = 2
UNSUPPORTED = 3


@dataclass(frozen=True)
class Example:
    """One (evidence, claim) pair with its label and where it came from; ``teacher`` holds a
    larger verifier's logits for the pair when a student is distilled from it."""

    evidence: str
    claim: str
    label: int
    source: str
    teacher: tuple[float, float, float] | None = None


def bucket(key: str, n: int) -> int:
    """A stable hash bucket in ``range(n)`` for deterministic splits (not PYTHONHASHSEED)."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % n
