"""The risk score: one probability that an output holds unsupported or contradicted content.

Three pieces of evidence go in (``RiskComponents``): the weakest claim's unsupported probability
from the ``facts`` check, the verifier's unsupported probability for the whole output against the
documents passed with the call, and how many repairs (reasks, fixes) the candidate needed.

Without calibration the score is the larger of the two probabilities (an output is only as
supported as its weakest part, the rule the verifier itself folds windows by) and repairs are
not counted, since nothing says how much they weigh. ``guardkit calibrate`` fits a logistic
model on labelled data (Platt scaling generalised to the three inputs), so the score becomes a
calibrated probability for the data it was fitted on; that fit is stored in the lock file.
An output with neither claims nor documents to judge against is given risk 1.0: unknown is
never accepted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FEATURES", "RiskComponents", "RiskModel", "fit_risk_model"]

FEATURES = (
    "bias",
    "facts_logit",
    "facts_present",
    "grounding_logit",
    "grounding_present",
    "repairs",
)
_EPS = 1e-4


class RiskComponents(BaseModel):
    """The evidence one risk score is computed from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    facts: float | None = Field(None, ge=0.0, le=1.0)
    """Unsupported probability of the least supported claim (facts check), if it ran."""
    grounding: float | None = Field(None, ge=0.0, le=1.0)
    """Verifier's unsupported probability of the output given the call's documents, if any."""
    repairs: int = Field(0, ge=0)
    """Reasks and fixes before this candidate passed the earlier checks."""

    @property
    def judged(self) -> bool:
        """Whether there was anything to judge the output against."""
        return self.facts is not None or self.grounding is not None


def _logit(p: float) -> float:
    q = min(1 - _EPS, max(_EPS, p))
    return math.log(q / (1 - q))


def features(c: RiskComponents) -> np.ndarray:
    """The logistic model's inputs, in ``FEATURES`` order (absent evidence contributes 0)."""
    return np.array(
        [
            1.0,
            _logit(c.facts) if c.facts is not None else 0.0,
            float(c.facts is not None),
            _logit(c.grounding) if c.grounding is not None else 0.0,
            float(c.grounding is not None),
            float(c.repairs),
        ]
    )


class RiskModel(BaseModel):
    """Maps components to a probability; ``weights`` (one per ``FEATURES``) once calibrated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: tuple[float, ...] | None = Field(None, min_length=6, max_length=6)

    def risk(self, c: RiskComponents) -> float:
        """The risk score in [0, 1]."""
        if not c.judged:
            return 1.0
        if self.weights is None:
            return max(v for v in (c.facts, c.grounding) if v is not None)
        z = float(np.dot(np.asarray(self.weights), features(c)))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def fit_risk_model(
    components: Sequence[RiskComponents], labels: Sequence[bool], l2: float = 1e-2
) -> RiskModel:
    """Fit the logistic weights by L2-penalised maximum likelihood on judged rows."""
    from scipy import optimize  # type: ignore[import-untyped]

    rows = [(features(c), float(y)) for c, y in zip(components, labels, strict=True) if c.judged]
    if len({y for _, y in rows}) < 2:
        raise ValueError("fitting the risk model needs judged rows of both labels")
    x = np.stack([r for r, _ in rows])
    y = np.array([t for _, t in rows])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z)) / len(y)
        grad = x.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
        return nll + l2 * float(w[1:] @ w[1:]), grad + 2 * l2 * np.r_[0.0, w[1:]]

    fit = optimize.minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return RiskModel(weights=tuple(float(v) for v in fit.x))
