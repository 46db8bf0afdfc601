"""The record of one guarded call: what was asked, every attempt, every check, what was done."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from guardkit.checks import CheckResult

__all__ = ["ActionTaken", "Attempt", "ErrorInfo", "GuardReport", "Outcome", "PolicyRef", "Usage"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Outcome(StrEnum):
    """How a call ended. ``reliable`` and ``repaired`` are reliable completions."""

    RELIABLE = "reliable"
    """Passed every check as first produced by the call."""
    REPAIRED = "repaired"
    """Passed every check after a reask, fix or filter."""
    FLAGGED = "flagged"
    """Returned, but marked for human review."""
    REFUSED = "refused"
    """The policy's fallback was returned instead."""
    FAILED = "failed"
    """The policy gave up; ``GuardFailed`` was raised."""

    @property
    def is_reliable(self) -> bool:
        """Whether the call counts as a reliable completion."""
        return self in (Outcome.RELIABLE, Outcome.REPAIRED)


class Usage(_Frozen):
    """Tokens as the provider counted them."""

    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class ErrorInfo(_Frozen):
    """An exception the guarded call raised, kept as evidence."""

    type: str
    message: str
    retryable: bool


class Attempt(_Frozen):
    """One call to the model and what the checks made of it."""

    number: int = Field(ge=1)
    started_at: datetime
    latency_ms: float = Field(ge=0)
    output_sha256: str | None = None
    output_chars: int = Field(0, ge=0)
    error: ErrorInfo | None = None
    usage: Usage | None = None
    cost: float | None = Field(None, ge=0)
    checks: list[CheckResult] = Field(default_factory=list)
    before_repair: list[CheckResult] = Field(default_factory=list)
    """What the checks said of the output before a ``fix`` or ``filter`` replaced it (the
    failed check last, with the claims or errors it found), so the report shows what was
    taken out and why; ``checks`` judge the repaired output."""
    failure: str | None = None
    """The failure kind that ended the attempt: ``error``, ``schema`` or a check's name."""


class ActionTaken(_Frozen):
    """An action the policy applied, in the order applied."""

    failure: str
    action: str
    attempt: int = Field(ge=1)
    detail: str | None = None


class PolicyRef(_Frozen):
    """Which policy judged the call, exactly."""

    id: str
    version: str
    sha256: str


class RecordedContent(_Frozen):
    """The call's input and output as the policy allows them to be kept."""

    mode: Literal["hash", "redact", "store"]
    input_sha256: str | None = None
    output_sha256: str | None = None
    messages: list[dict[str, Any]] | None = None
    arguments: dict[str, Any] | None = None
    """The arguments a decorated function was called with (defaults left out), when it takes
    no ``messages``; values that are no JSON are kept as their ``repr``. ``input_sha256`` is
    then over these."""
    output: str | None = None


class ReviewInfo(_Frozen):
    """A human reviewer's decision on a flagged call, when the policy waited for one."""

    id: int
    status: Literal["pending", "approved", "rejected"]
    reviewer: str | None = None
    note: str | None = None


class GuardReport(_Frozen):
    """Everything that happened in one guarded call; emitted to the log and the ledger."""

    call_id: str
    started_at: datetime
    finished_at: datetime
    function: str | None = None
    model: str | None = None
    policy: PolicyRef
    attempts: list[Attempt]
    checks: list[CheckResult] = Field(default_factory=list)
    """The check results of the output that was returned, after any repair."""
    actions: list[ActionTaken] = Field(default_factory=list)
    outcome: Outcome
    stages_ms: dict[str, float] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    cost: float | None = Field(None, ge=0)
    currency: str = "USD"
    generation: dict[str, Any] = Field(default_factory=dict)
    """How the output was constrained: structured-output mode, engine, relaxed keywords."""
    content: RecordedContent | None = None
    """Input and output: hashes, a redacted copy or the raw text, per the policy's ``records``."""
    review: ReviewInfo | None = None
    """The reviewer's decision, when the policy waits for review of flagged calls."""

    @property
    def reliable(self) -> bool:
        """Whether this call is a reliable completion."""
        return self.outcome.is_reliable
