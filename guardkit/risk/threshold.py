"""Choosing a risk threshold with a finite-sample guarantee: learn-then-test.

Accept an output when its risk score is ``<= lambda``. For each candidate ``lambda`` the null
hypothesis ``H_lambda`` says the hallucination rate among accepted outputs exceeds ``alpha``.
Learn-then-test (Angelopoulos, Bates, Candes, Jordan and Lei, "Learn then Test: Calibrating
Predictive Algorithms to Achieve Risk Control", 2021, arXiv:2110.01052) rejects nulls with a
family-wise error rate control; every rejected ``lambda`` then satisfies, with probability at
least ``1 - delta`` over the calibration set, *rate of hallucinations among accepted <= alpha*.

FWER control here is fixed-sequence testing: thresholds are tested from strict to loose and
testing stops at the first null that cannot be rejected; the loosest rejected threshold is used.
The order must not depend on the data it is tested on, and the strictest thresholds accept too
few outputs to reject anything, so the calibration set is split once (seeded): the *order split*
picks where the sequence starts (the grid threshold with the smallest p-value it projects for
the test split's size; from there thresholds are tested upwards) and fits the risk model; the
*test split* alone supplies the p-values (Clopper-Pearson exact binomial by default, see
``guardkit.risk.bounds``). Data splitting to
order hypotheses is the recipe of LTT section 4 and of Pareto Testing (Laufer-Goldshtein et al.,
ICLR 2023).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field

from guardkit.errors import UnknownNameError
from guardkit.risk.bounds import PVALUES, clopper_pearson_upper

__all__ = ["METHOD", "Certification", "certify", "split_indices"]

PValue = Callable[[ArrayLike, ArrayLike, float], np.ndarray]

METHOD = "learn-then-test, fixed-sequence testing (Angelopoulos et al. 2021)"


class Certification(BaseModel):
    """The certified threshold and the evidence for it, measured on the test split."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float | None = Field(ge=0.0, le=1.0)
    """Loosest certified threshold; ``None`` when none could be certified (accept nothing)."""
    alpha: float = Field(gt=0.0, lt=1.0)
    delta: float = Field(gt=0.0, lt=1.0)
    bound: str
    method: str = METHOD
    n_order: int = Field(ge=0)
    n_test: int = Field(ge=1)
    tested: int = Field(ge=0)
    """How many thresholds were tested (the rejected ones and the first failure)."""
    accepted: int = Field(ge=0)
    """Test-split outputs accepted at the threshold."""
    errors: int = Field(ge=0)
    """Hallucinations among them."""
    ucb: float = Field(ge=0.0, le=1.0)
    """Clopper-Pearson ``1 - delta`` upper bound on the accepted hallucination rate."""

    @property
    def acceptance_rate(self) -> float:
        """Share of the test split accepted at the threshold."""
        return self.accepted / self.n_test

    def statement(self) -> str:
        """The guarantee in one sentence, as reports print it."""
        if self.threshold is None:
            return (
                f"No risk threshold could be certified at alpha={self.alpha:g}, "
                f"delta={self.delta:g} on {self.n_test} test-split outputs: nothing is accepted."
            )
        return (
            f"With probability >= {1 - self.delta:.0%} over the calibration set, the "
            f"hallucination rate among accepted outputs (risk <= {self.threshold:.4g}) is "
            f"<= {self.alpha:.1%} ({METHOD}; {self.bound} p-values)."
        )


def split_indices(n: int, order_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n)`` into the order split and the test split."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = math.ceil(n * order_fraction)
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def _pvalue(bound: str) -> PValue:
    try:
        return PVALUES[bound]
    except KeyError:
        raise UnknownNameError("bound", bound, PVALUES) from None


def _counts(scores: np.ndarray, labels: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, ...]:
    """Accepted outputs and hallucinations among them at every grid threshold."""
    order = np.argsort(scores, kind="stable")
    cum = np.concatenate([[0], np.cumsum(labels[order].astype(np.int64))])
    accepted = np.searchsorted(scores[order], grid, side="right")
    return accepted, cum[accepted]


def _start(
    order: tuple[np.ndarray, np.ndarray],
    grid: np.ndarray,
    n_test: int,
    pvalue: PValue,
    alpha: float,
) -> int:
    """Index of the grid threshold the order split finds most testable: the smallest p-value
    it projects for a test split of ``n_test`` rows (ties: the strictest)."""
    scores, labels = order
    if scores.size == 0:
        return 0
    accepted, errors = _counts(scores, labels, grid)
    scale = n_test / scores.size
    projected = pvalue(np.round(errors * scale), np.round(accepted * scale), alpha)
    return int(np.argmin(projected))


def certify(
    order_scores: np.ndarray,
    order_labels: np.ndarray,
    test_scores: np.ndarray,
    test_labels: np.ndarray,
    *,
    alpha: float,
    delta: float,
    bound: str = "binomial",
    grid_size: int = 1000,
) -> Certification:
    """Fixed-sequence test over ``grid_size + 1`` thresholds in [0, 1], from the one the order
    split finds most testable upwards; the test split's scores and 0/1 labels (1 = hallucinated)
    alone give the p-values."""
    pvalue = _pvalue(bound)
    if test_scores.size == 0 or test_scores.shape != test_labels.shape:
        raise ValueError("the test split needs one label per score and at least one row")
    grid = np.linspace(0.0, 1.0, grid_size + 1)
    first = _start((order_scores, order_labels), grid, test_scores.size, pvalue, alpha)
    accepted, errors = _counts(test_scores, test_labels, grid[first:])
    rejected = pvalue(errors, accepted, alpha) <= delta
    tested = int(np.argmin(rejected)) + 1 if not rejected.all() else int(rejected.size)
    last = tested - 1 if rejected.all() else tested - 2
    lam_best = float(grid[first + last]) if last >= 0 else None
    n_acc, k_acc = (int(accepted[last]), int(errors[last])) if last >= 0 else (0, 0)
    return Certification(
        threshold=lam_best,
        alpha=alpha,
        delta=delta,
        bound=bound,
        n_order=int(order_scores.size),
        n_test=int(test_scores.size),
        tested=tested,
        accepted=n_acc,
        errors=k_acc,
        ucb=clopper_pearson_upper(k_acc, n_acc, delta),
    )
