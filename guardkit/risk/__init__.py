"""Hallucination risk: a score per output and a threshold certified on labelled data.

``RiskModel`` turns evidence (``RiskComponents``) into a probability; ``calibrate`` certifies a
threshold by learn-then-test so that, with probability ``>= 1 - delta``, the hallucination rate
among accepted outputs is ``<= alpha``; ``RiskLock`` is the file that carries the result.
"""

from guardkit.risk.bounds import PVALUES, clopper_pearson_upper
from guardkit.risk.calibration import (
    Labelled,
    UnscoredRowsWarning,
    calibrate,
    file_sha256,
    read_labelled,
)
from guardkit.risk.lock import RiskLock, read_lock, write_lock
from guardkit.risk.model import RiskComponents, RiskModel, fit_risk_model
from guardkit.risk.score import RiskScorer, facts_unsupported, load_grounding_verifier
from guardkit.risk.threshold import METHOD, Certification, certify, split_indices

__all__ = [
    "METHOD",
    "PVALUES",
    "Certification",
    "Labelled",
    "RiskComponents",
    "RiskLock",
    "RiskModel",
    "RiskScorer",
    "UnscoredRowsWarning",
    "calibrate",
    "certify",
    "clopper_pearson_upper",
    "facts_unsupported",
    "file_sha256",
    "fit_risk_model",
    "load_grounding_verifier",
    "read_labelled",
    "read_lock",
    "split_indices",
    "write_lock",
]
