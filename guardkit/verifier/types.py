"""The verifier's contract: typed probabilities and one-method protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["LABELS", "VerdictProbs", "Verifier"]

#: The label order every guardkit verifier model uses (manifest ``labels`` must match).
LABELS: tuple[str, str, str] = ("supported", "contradicted", "not_enough_info")


class VerdictProbs(BaseModel):
    """Calibrated probabilities that evidence supports, contradicts or is silent on a claim."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    supported: float = Field(ge=0.0, le=1.0)
    contradicted: float = Field(ge=0.0, le=1.0)
    not_enough_info: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sums_to_one(self) -> VerdictProbs:
        total = self.supported + self.contradicted + self.not_enough_info
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"probabilities must sum to 1, got {total:.6f}")
        return self

    @property
    def label(self) -> str:
        """The most probable label."""
        values = (self.supported, self.contradicted, self.not_enough_info)
        return LABELS[max(range(3), key=values.__getitem__)]

    @property
    def unsupported(self) -> float:
        """Probability that the claim is not supported (contradicted or not enough info)."""
        return 1.0 - self.supported


@runtime_checkable
class Verifier(Protocol):
    """Anything that scores (evidence, claim) pairs."""

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[VerdictProbs]:
        """Return one :class:`VerdictProbs` per ``(evidence, claim)`` pair, in order."""
        ...
