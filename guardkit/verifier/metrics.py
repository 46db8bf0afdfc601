"""Small numpy metrics: AUROC, balanced accuracy, macro-F1, expected calibration error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["auroc", "balanced_accuracy", "best_threshold", "ece", "macro_f1"]


def auroc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve (positives = label 1), ties counted half."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(allv):  # average ranks over ties
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def balanced_accuracy(
    labels: Sequence[int] | np.ndarray, preds: Sequence[int] | np.ndarray
) -> float:
    """Mean of per-class recall over the classes present in ``labels``."""
    y, p = np.asarray(labels), np.asarray(preds)
    return float(np.mean([(p[y == c] == c).mean() for c in np.unique(y)]))


def macro_f1(
    labels: Sequence[int] | np.ndarray, preds: Sequence[int] | np.ndarray, n: int
) -> float:
    """Macro-averaged F1 over classes ``0..n-1``."""
    y, p = np.asarray(labels), np.asarray(preds)
    f1s = []
    for c in range(n):
        tp = float(((p == c) & (y == c)).sum())
        prec = tp / max(1.0, float((p == c).sum()))
        rec = tp / max(1.0, float((y == c).sum()))
        f1s.append(0.0 if tp == 0 else 2 * prec * rec / (prec + rec))
    return float(np.mean(f1s))


def ece(
    labels: Sequence[int] | np.ndarray, probs: Sequence[float] | np.ndarray, bins: int = 10
) -> float:
    """Expected calibration error of binary probabilities ``P(label == 1)``, equal-width bins."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(p[sel].mean() - y[sel].mean())
    return float(total)


def best_threshold(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> float:
    """The score threshold (predict 1 when ``score >= t``) with the best balanced accuracy."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    cands = np.unique(np.concatenate([s, [0.5]]))
    best_t, best = 0.5, -1.0
    for t in cands:
        acc = balanced_accuracy(y, (s >= t).astype(int))
        if acc > best + 1e-12:
            best_t, best = float(t), acc
    return best_t
