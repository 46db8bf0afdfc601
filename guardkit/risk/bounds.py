"""Valid p-values for the null hypothesis "the hallucination rate among accepted outputs > alpha".

Given ``n`` accepted calibration outputs of which ``errors`` hallucinate, each function returns a
p-value that is super-uniform under that null (conditionally on ``n``: the accepted outputs are
i.i.d. draws from the accepted population), which is what learn-then-test needs.

- ``binomial``: the exact binomial tail ``P(Bin(n, alpha) <= errors)``. Rejecting at level
  ``delta`` is the same as the Clopper-Pearson upper bound at ``1 - delta`` being ``<= alpha``
  (Clopper and Pearson, Biometrika 1934). The tightest valid choice for 0/1 losses.
- ``hoeffding-bentkus``: the HB p-value of Bates, Angelopoulos, Lei, Malik and Jordan,
  "Distribution-free, risk-controlling prediction sets", JACM 2021, eq. (11); valid for any
  loss in [0, 1], slightly more conservative for 0/1 losses.

Each takes arrays of error counts and accepted counts (elementwise; scalars work too), so a
whole grid of thresholds is tested in one call.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PVALUES", "binomial_pvalue", "clopper_pearson_upper", "hoeffding_bentkus_pvalue"]


def _binom_cdf(k: ArrayLike, n: ArrayLike, p: float) -> np.ndarray:
    """scipy's binomial CDF; scipy.stats is imported here, not with guardkit (it takes ~1 s)."""
    from scipy import stats  # type: ignore[import-untyped]

    return np.asarray(stats.binom.cdf(k, n, p))


def _check(errors: np.ndarray, n: np.ndarray, alpha: float) -> None:
    if np.any(n < 0) or np.any(errors < 0) or np.any(errors > n):
        raise ValueError("need 0 <= errors <= n for every threshold")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def binomial_pvalue(errors: ArrayLike, n: ArrayLike, alpha: float) -> np.ndarray:
    """``P(Bin(n, alpha) <= errors)``; 1.0 where nothing was accepted (nothing to learn from)."""
    k, m = np.asarray(errors), np.asarray(n)
    _check(k, m, alpha)
    return np.where(m == 0, 1.0, _binom_cdf(k, np.maximum(m, 1), alpha))


def _kl(a: np.ndarray, b: float) -> np.ndarray:
    """Bernoulli KL divergence ``h1(a, b)`` of Bates et al., with 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0) / b), 0.0)
        right = np.where(a < 1, (1 - a) * np.log(np.where(a < 1, 1 - a, 1.0) / (1 - b)), 0.0)
    return np.asarray(left + right)


def hoeffding_bentkus_pvalue(errors: ArrayLike, n: ArrayLike, alpha: float) -> np.ndarray:
    """``min(exp(-n h1(min(r, alpha), alpha)), e P(Bin(n, alpha) <= ceil(n r)))``, ``r = k/n``."""
    k, m = np.asarray(errors), np.asarray(n)
    _check(k, m, alpha)
    safe = np.maximum(m, 1)
    rate = k / safe
    hoeffding = np.exp(-m * _kl(np.minimum(rate, alpha), alpha))
    bentkus = math.e * _binom_cdf(np.ceil(safe * rate), safe, alpha)
    return np.where(m == 0, 1.0, np.minimum(1.0, np.minimum(hoeffding, bentkus)))


def clopper_pearson_upper(errors: int, n: int, delta: float) -> float:
    """One-sided ``1 - delta`` Clopper-Pearson upper bound on a binomial rate (1.0 when n = 0)."""
    if n == 0 or errors >= n:
        return 1.0
    from scipy import stats

    return float(stats.beta.ppf(1 - delta, errors + 1, n - errors))


PVALUES: dict[str, Callable[[ArrayLike, ArrayLike, float], np.ndarray]] = {
    "binomial": binomial_pvalue,
    "hoeffding-bentkus": hoeffding_bentkus_pvalue,
}
"""Valid p-values by name, for ``calibrate --bound``."""
