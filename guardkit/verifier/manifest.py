"""The manifest of a verifier model folder: what the model is, how it was made, how well it does.

A model folder is ``model.onnx`` + ``tokenizer.json`` + ``manifest.json``. The manifest pins every
other file by sha256, so a folder that was edited, truncated or mixed up fails to load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardkit.errors import ModelError
from guardkit.verifier.types import LABELS

__all__ = [
    "MANIFEST_NAME",
    "Calibration",
    "Distillation",
    "ExportParity",
    "Manifest",
    "TrainingInfo",
    "read_manifest",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
Verdict = Literal["supported", "contradicted", "not_enough_info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calibration(_Strict):
    """Pair-level temperature and response-level logistic risk, fitted on calibration data only.

    ``risk = sigmoid((risk_a + sum(v * signal)) * logit(raw) + risk_b + sum(w * signal))`` with
    ``slope_weights`` (v) and ``signal_weights`` (w) over :data:`guardkit.verifier.signals.SIGNALS`
    and ``RESPONSE_SIGNALS`` (both empty: the model alone, i.e. Platt scaling). A slope weight lets
    the model's confidence count for more or less on some inputs (long contexts).
    """

    method: Literal["temperature", "none"] = "none"
    temperature: float = Field(default=1.0, gt=0.0)
    risk_a: float = 1.0
    risk_b: float = 0.0
    signal_weights: dict[str, float] = Field(default_factory=dict)
    slope_weights: dict[str, float] = Field(default_factory=dict)
    fitted_on: list[str] = Field(default_factory=list)
    n_pairs: int = 0
    ece_before: float | None = None
    ece_after: float | None = None
    risk_ece_before: float | None = None
    risk_ece_after: float | None = None


class ExportParity(_Strict):
    """ONNX against torch on the same pairs: largest probability difference, argmax agreement."""

    n_pairs: int
    max_abs_diff: float
    argmax_agreement: float
    compared: str


class Distillation(_Strict):
    """A student's teacher, and which of the teacher's layers it started from."""

    teacher: str
    teacher_sha256: str
    layers: list[int]
    weight: float
    temperature: float
    teacher_seconds: float | None = None
    """Time the teacher took to label the pairs (before the training's own ``seconds``)."""


class TrainingInfo(_Strict):
    """Where the weights came from."""

    base_model: str
    trained_on: list[str] = Field(default_factory=list)
    held_out: list[str] = Field(default_factory=list)
    pair_counts: dict[str, int] = Field(default_factory=dict)
    steps: int = 0
    pairs_seen: int = 0
    seconds: float = 0.0
    seed: int | None = None
    command: str = ""
    distillation: Distillation | None = None


class Manifest(_Strict):
    """Everything the runtime needs, and the evidence of how the model was made."""

    format_version: Literal[1] = 1
    name: str
    labels: list[str]
    label_map: dict[str, Verdict]
    max_length: int = Field(gt=8)
    pair_order: Literal["evidence_claim", "claim_evidence"] = "evidence_claim"
    files: dict[str, str]
    quantized: bool = False
    aggregation: Literal["max_claim", "whole_and_max_claim"] = "max_claim"
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    calibration: Calibration = Field(default_factory=Calibration)
    training: TrainingInfo | None = None
    parity: list[ExportParity] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)


def default_label_map(labels: list[str]) -> dict[str, Verdict]:
    """Map a model's own label names (entailment/contradiction/neutral, ...) onto guardkit's."""
    known: dict[str, Verdict] = {v: v for v in LABELS}  # type: ignore[misc]
    known |= {
        "entailment": "supported",
        "entail": "supported",
        "supports": "supported",
        "consistent": "supported",
        "contradiction": "contradicted",
        "refutes": "contradicted",
        "neutral": "not_enough_info",
        "not_entailment": "not_enough_info",
        "inconsistent": "not_enough_info",
    }
    out: dict[str, Verdict] = {}
    for name in labels:
        if name.lower() not in known:
            raise ModelError(
                f"cannot map the model label {name!r} onto {', '.join(LABELS)}",
                hint="name the labels in the model's config.json id2label: entailment, "
                "contradiction and neutral (or supported, contradicted and not_enough_info)",
            )
        out[name] = known[name.lower()]
    return out


def read_manifest(folder: Path) -> Manifest:
    """Parse ``folder/manifest.json``; a missing or invalid manifest is a :class:`ModelError`."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ModelError("no manifest.json in the model folder", file=str(folder))
    text = path.read_text(encoding="utf-8")
    kind = _other_kind(text)
    if kind is not None:
        raise ModelError(f"this is {kind} folder, not a verifier model folder", file=str(folder))
    try:
        return Manifest.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        loc = tuple(first["loc"]) if first else ()
        msg = first["msg"] if first else str(exc)
        raise ModelError(f"invalid manifest: {msg}", file=str(path), loc=loc) from exc


def _other_kind(text: str) -> str | None:
    """``"an embedder"`` or ``"a fact index"`` when the manifest says it is one of those."""
    try:
        data = json.loads(text)
    except ValueError:
        return None  # the reader says what is wrong
    if not isinstance(data, dict):
        return None
    if data.get("kind") == "embedder":
        return "an embedder"
    return "a fact index" if "embedding_model" in data else None


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write the manifest (pretty JSON, sorted keys) and return its path."""
    path = folder / MANIFEST_NAME
    data = manifest.model_dump(mode="json")
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
