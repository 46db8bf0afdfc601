"""The certified threshold keeps its promise: empirically, on synthetic data with a known risk."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from guardkit.errors import UnknownNameError
from guardkit.risk import PVALUES, certify, clopper_pearson_upper, split_indices


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores uniform on [0, 1], P(hallucinated | s) = s**3: the accepted rate at l is l**3 / 4."""
    scores = rng.uniform(size=n)
    return scores, (rng.uniform(size=n) < scores**3).astype(np.int64)


@pytest.mark.parametrize("bound", sorted(PVALUES))
def test_guarantee_holds_on_held_apart_data(bound: str) -> None:
    alpha, delta, trials = 0.1, 0.1, 200
    rng = np.random.default_rng(7)
    violations, held_violations, thresholds = 0, 0, []
    for _ in range(trials):
        scores, labels = draw(rng, 2000)
        a, b = split_indices(len(scores), 0.3, seed=int(rng.integers(1 << 30)))
        cert = certify(
            scores[a], labels[a], scores[b], labels[b], alpha=alpha, delta=delta, bound=bound
        )
        lam = cert.threshold if cert.threshold is not None else -1.0
        thresholds.append(lam)
        violations += lam**3 / 4 > alpha  # the true accepted hallucination rate exceeds alpha
        held_s, held_y = draw(rng, 20_000)  # data never seen by calibration
        accepted = held_s <= lam
        if accepted.any():
            held_violations += held_y[accepted].mean() > alpha + 0.01
    slack = 3 * math.sqrt(delta * (1 - delta) / trials)
    assert violations / trials <= delta + slack
    assert held_violations / trials <= delta + slack
    assert np.median(thresholds) > 0.6  # not vacuous: the best possible is 0.4 ** (1 / 3) = 0.737


def test_binomial_pvalue_matches_clopper_pearson() -> None:
    for k, n in [(0, 50), (3, 100), (40, 400)]:
        p = PVALUES["binomial"](k, n, 0.1)
        assert p == pytest.approx(stats.binom.cdf(k, n, 0.1))
        assert (p <= 0.1) == (clopper_pearson_upper(k, n, 0.1) <= 0.1)


def test_hoeffding_bentkus_is_more_conservative_for_01_losses() -> None:
    for k, n in [(0, 60), (5, 200), (30, 500)]:
        assert PVALUES["hoeffding-bentkus"](k, n, 0.1) >= PVALUES["binomial"](k, n, 0.1) - 1e-12


def test_nothing_certified_when_everything_hallucinates() -> None:
    scores = np.linspace(0, 1, 500)
    cert = certify(
        scores[:100],
        np.ones(100, dtype=np.int64),
        scores[100:],
        np.ones(400, dtype=np.int64),
        alpha=0.05,
        delta=0.1,
    )
    assert cert.threshold is None
    assert cert.accepted == 0 and cert.ucb == 1.0
    assert "nothing is accepted" in cert.statement()


def test_unknown_bound_lists_known() -> None:
    with pytest.raises(UnknownNameError) as err:
        certify(
            np.zeros(3),
            np.zeros(3),
            np.zeros(3),
            np.zeros(3),
            alpha=0.1,
            delta=0.1,
            bound="chebyshev",
        )
    assert err.value.known == ["binomial", "hoeffding-bentkus"]
