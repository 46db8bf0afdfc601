"""Response-level risk: split a response into claims, verify each against the context, aggregate.

``risk`` is the calibrated probability that the response states something the context does not
support. Per claim, "unsupported" is ``1 - p_supported``. Aggregation (chosen on calibration data
and recorded in the manifest):

- ``max_claim``: the least supported claim decides;
- ``whole_and_max_claim``: the mean of that and the whole response checked as one claim (the
  response as a whole keeps context that single sentences lose, e.g. pronouns).

The raw aggregate goes through the manifest's Platt scaling (``risk_a``, ``risk_b``), fitted on
calibration responses, and ``hallucinated`` is ``risk >= threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pysbd
from pydantic import BaseModel, ConfigDict, Field

from guardkit._citations import states_something, without_citation_marks
from guardkit._statements import has_numbered_list, is_pleasantry, without_markup
from guardkit.errors import ConfigError
from guardkit.verifier.manifest import Calibration
from guardkit.verifier.runtime import OnnxVerifier
from guardkit.verifier.signals import RESPONSE_SIGNALS, SIGNALS, claim_signals, response_signals

__all__ = [
    "AGGREGATIONS",
    "ClaimScore",
    "ResponseScore",
    "aggregate",
    "calibrate_risk",
    "raw_risks",
    "score_responses",
    "split_claims",
]

_EPS = 1e-6
AGGREGATIONS: tuple[str, ...] = ("max_claim", "whole_and_max_claim")


class ClaimScore(BaseModel):
    """One claim of a response and its probabilities."""

    model_config = ConfigDict(frozen=True)

    claim: str
    supported: float = Field(ge=0.0, le=1.0)
    contradicted: float = Field(ge=0.0, le=1.0)
    not_enough_info: float = Field(ge=0.0, le=1.0)


class ResponseScore(BaseModel):
    """The verdict on one (context, response) pair."""

    model_config = ConfigDict(frozen=True)

    risk: float = Field(ge=0.0, le=1.0)
    hallucinated: bool
    claims: list[ClaimScore]


def split_claims(response: str) -> list[str]:
    """Sentences of ``response`` (pysbd) without their citation marks ("[1]" points at a
    source, it states nothing), list markers and emphasis, keeping only those with a letter or
    digit in them, and of those the ones that are no pleasantry when any are not ("Hope this
    helps!")."""
    seg = pysbd.Segmenter(language="en", clean=False)  # per call: pysbd keeps state while it works
    numbered = has_numbered_list(response)
    parts = [
        without_markup(without_citation_marks(s.strip()), numbered)
        for s in seg.segment(response)
        if states_something(s)
    ]
    # greetings, thanks, offers of help: judged only when nothing else is said (a bare "Yes."
    # answers the question, which is in the evidence; a question in a dialogue can state
    # something, "Did you know he directed Up?", so questions stay)
    said = [p for p in parts if not is_pleasantry(p)]
    return said or parts or [without_citation_marks(response.strip()) or response.strip()]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _EPS, 1 - _EPS)
    out: np.ndarray = np.log(q / (1 - q))
    return out


def aggregate(unsup_claims: Sequence[float], unsup_whole: float, how: str) -> float:
    """The raw (uncalibrated) risk of one response; see the module docstring."""
    worst = max(unsup_claims)
    if how == "max_claim":
        return worst
    if how == "whole_and_max_claim":
        return 0.5 * (worst + unsup_whole)
    raise ConfigError(f"unknown aggregation {how!r}; known: max_claim, whole_and_max_claim")


def raw_risks(
    verifier: OnnxVerifier,
    items: Sequence[tuple[str, str]],
    temperature: float | None = None,
    aggregations: Sequence[str] = AGGREGATIONS,
) -> tuple[dict[str, np.ndarray], list[list[ClaimScore]]]:
    """Raw risks under each aggregation, lexical signals, and per-claim scores, for items.

    The whole response is checked as one more claim only when an aggregation needs it and the
    response has more than one claim.
    """
    need_whole = "whole_and_max_claim" in aggregations
    claims = [split_claims(r) for _, r in items]
    pairs: list[tuple[str, str]] = []
    for (ctx, resp), cl in zip(items, claims, strict=True):
        pairs += [(ctx, c) for c in cl]
        if need_whole and len(cl) > 1:
            pairs.append((ctx, resp.strip()))
    probs = verifier.probs_array(pairs, temperature)
    out: dict[str, list[float]] = {how: [] for how in aggregations}
    out |= {name: [] for name in (*SIGNALS, *RESPONSE_SIGNALS)}
    scored: list[list[ClaimScore]] = []
    k = 0
    for (ctx, _), cl in zip(items, claims, strict=True):
        sigs = [claim_signals(ctx, c) for c in cl]
        for name in SIGNALS:
            out[name].append(max(sg[name] for sg in sigs))
        context_tokens = len(verifier.tokenizer.encode(ctx, add_special_tokens=False).ids)
        window = verifier.manifest.max_length
        for name, value in response_signals(len(cl), context_tokens, window).items():
            out[name].append(value)
        rows = probs[k : k + len(cl)]
        k += len(cl)
        unsup = [float(1 - r[0]) for r in rows]
        whole = unsup[0]
        if need_whole and len(cl) > 1:
            whole = float(1 - probs[k, 0])
            k += 1
        for how in aggregations:
            out[how].append(aggregate(unsup, whole, how))
        scored.append(
            [
                ClaimScore(
                    claim=c,
                    supported=float(r[0]),
                    contradicted=float(r[1]),
                    not_enough_info=float(max(0.0, 1 - r[0] - r[1])),
                )
                for c, r in zip(cl, rows, strict=True)
            ]
        )
    return {h: np.asarray(v) for h, v in out.items()}, scored


def calibrate_risk(
    raw: np.ndarray, cal: Calibration, signals: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """``sigmoid((a + sum(v * signal)) * logit(raw) + b + sum(w * signal))``: see
    :class:`Calibration`."""

    def signal(name: str) -> np.ndarray:
        if signals is None or name not in signals:
            raise ConfigError(f"calibration uses signal {name!r}, which was not computed")
        return signals[name]

    slope = cal.risk_a + sum((v * signal(n) for n, v in cal.slope_weights.items()), start=0.0)
    z = slope * _logit(raw) + cal.risk_b
    for name, w in cal.signal_weights.items():
        z = z + w * signal(name)
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def score_responses(
    verifier: OnnxVerifier, items: Sequence[tuple[str, str]]
) -> list[ResponseScore]:
    """Score (context, response) items with the verifier's own calibration and threshold."""
    for i, (ctx, resp) in enumerate(items):
        for name, text in (("context", ctx), ("response", resp)):
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"item {i}: empty {name}", loc=(i, name))
    m = verifier.manifest
    # A response without a single word ("...", an emoji) states nothing the context could fail
    # to support: its risk is 0, and the model, which has never seen such text, is not asked.
    wordy = [i for i, (_, r) in enumerate(items) if states_something(r)]
    # risk 0 is judged by the one rule, risk >= threshold (a lock may certify threshold 0)
    out = [ResponseScore(risk=0.0, hallucinated=m.threshold <= 0.0, claims=[]) for _ in items]
    if not wordy:
        return out
    raws, scored = raw_risks(verifier, [items[i] for i in wordy], aggregations=(m.aggregation,))
    risks = calibrate_risk(raws[m.aggregation], m.calibration, raws)
    for i, r, c in zip(wordy, risks, scored, strict=True):
        out[i] = ResponseScore(risk=float(r), hallucinated=bool(r >= m.threshold), claims=c)
    return out
