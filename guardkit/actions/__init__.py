"""What the guard does when an attempt fails: one handler per action type, in a dict.

A handler looks at the failure and the call so far and returns a ``Decision``; ``Next`` means
"this action cannot apply, use its ``then``". The guard follows the chain until a decision sticks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guardkit.checks import CheckResult
from guardkit.errors import UnknownNameError
from guardkit.policy.model import (
    FilterAction,
    FixAction,
    FlagAction,
    RaiseAction,
    ReaskAction,
    RefrainAction,
)
from guardkit.reports.model import ErrorInfo, Outcome

__all__ = [
    "Decision",
    "Fail",
    "Failure",
    "Next",
    "Replace",
    "Retry",
    "Return",
    "decide",
]


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed: the call raised (``error``) or a check did not pass."""

    kind: str
    attempt: int
    text: str | None
    value: Any
    """The last schema-valid value of this attempt, if any (flagged outputs return it)."""
    result: CheckResult | None = None
    error: ErrorInfo | None = None
    used: frozenset[str] = frozenset()
    """Remedies already applied in this attempt, e.g. ``{'fix:schema'}``: never twice."""
    last_call: bool = False
    """No further call can be made (the recorded answers of an audit ran out): no reask."""


@dataclass(frozen=True)
class Retry:
    """Call the model again, with these messages appended (empty for a plain retry)."""

    messages: tuple[dict[str, str], ...]
    feedback: str | None


@dataclass(frozen=True)
class Replace:
    """Check this text instead, within the same attempt."""

    text: str
    remedy: str


@dataclass(frozen=True)
class Return:
    """End the call and return ``output`` with this outcome."""

    outcome: Outcome
    output: Any
    detail: str | None = None


@dataclass(frozen=True)
class Fail:
    """End the call by raising ``GuardFailed``."""

    message: str


@dataclass(frozen=True)
class Next:
    """This action cannot apply here; follow its ``then``."""

    reason: str


Decision = Retry | Replace | Return | Fail | Next


def _reask(spec: ReaskAction, failure: Failure) -> Decision:
    if failure.attempt >= spec.max_attempts:
        return Next(f"{spec.max_attempts} attempts used")
    if failure.last_call:
        return Next("no further answer can be asked for (recorded answers)")
    if failure.error is not None:
        if not failure.error.retryable:
            return Next(f"{failure.error.type} is not retryable")
        return Retry(messages=(), feedback=None)
    feedback = failure.result.feedback if failure.result else None
    if feedback is None or failure.text is None:
        return Retry(messages=(), feedback=None)
    return Retry(
        messages=(
            {"role": "assistant", "content": failure.text},
            {"role": "user", "content": feedback},
        ),
        feedback=feedback,
    )


def _remedy(kind: str, text: str | None, failure: Failure) -> Decision:
    key = f"{kind}:{failure.kind}"
    if text is None or key in failure.used:
        return Next(f"the {failure.kind} check offers no {kind}")
    return Replace(text=text, remedy=key)


def _fix(spec: FixAction, failure: Failure) -> Decision:
    return _remedy("fix", failure.result.fixed_text if failure.result else None, failure)


def _filter(spec: FilterAction, failure: Failure) -> Decision:
    return _remedy("filter", failure.result.filtered_text if failure.result else None, failure)


def _refrain(spec: RefrainAction, failure: Failure) -> Decision:
    # a copy per call: a caller editing its result must not edit the policy's fallback
    return Return(
        Outcome.REFUSED,
        copy.deepcopy(spec.fallback),
        detail=f"{failure.kind} failed; fallback returned",
    )


def _flag(spec: FlagAction, failure: Failure) -> Decision:
    return Return(Outcome.FLAGGED, failure.value, detail=spec.reason or f"{failure.kind} failed")


def _raise(spec: RaiseAction, failure: Failure) -> Decision:
    return Fail(f"{failure.kind} failed on attempt {failure.attempt}: {_why(failure)}")


def _why(failure: Failure) -> str:
    """What went wrong, in a line: the error, or the check's first finding."""
    if failure.error is not None:
        return f"{failure.error.type}: {failure.error.message}"[:300]
    result = failure.result
    if result is not None and result.errors:
        return str(result.errors[0])[:300]
    if result is not None and result.feedback:
        return " ".join(result.feedback.split())[:300]
    return "no reason given"


_HANDLERS: dict[str, Callable[[Any, Failure], Decision]] = {
    "reask": _reask,
    "fix": _fix,
    "filter": _filter,
    "refrain": _refrain,
    "flag": _flag,
    "raise": _raise,
}


def decide(spec: Any, failure: Failure) -> tuple[list[str], Decision]:
    """Follow the action chain from ``spec``; returns the actions tried, each passed over
    with why ("filter: the facts check offers no filter"), the deciding one last by name."""
    tried: list[str] = []
    while True:
        handler = _HANDLERS.get(spec.type)
        if handler is None:
            raise UnknownNameError("action", spec.type, _HANDLERS)
        decision = handler(spec, failure)
        if not isinstance(decision, Next):
            return [*tried, spec.type], decision
        tried.append(f"{spec.type}: {decision.reason}")
        spec = getattr(spec, "then", None) or RaiseAction()
