"""Turn ``guard``/``wrap`` arguments into a ``GuardPlan``, once, when the guard is created."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from guardkit.checks import build_checks
from guardkit.errors import ConfigError
from guardkit.guard.pipeline import GuardPlan
from guardkit.policy.loader import load_policy
from guardkit.policy.model import Policy, fallback_problems
from guardkit.records.content import ContentRecorder
from guardkit.records.sink import RecordSink
from guardkit.records.store import open_store
from guardkit.reports.model import PolicyRef
from guardkit.reports.sinks import ReportSink, default_sinks
from guardkit.review.queue import ReviewQueue
from guardkit.schemas import OutputSchema

__all__ = ["DOCUMENTS_KWARG", "OutputType", "PolicyLike", "documents_argument", "make_plan"]

DOCUMENTS_KWARG = "guardkit_documents"
"""Call-time keyword for reference documents (RAG context); never passed on to the model call."""

PolicyLike = Policy | str | Path
OutputType = type[BaseModel] | Mapping[str, Any] | None


def _policy(policy: PolicyLike) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, str | Path):
        return load_policy(policy)
    raise ConfigError(
        f"policy must be a Policy or a path to a policy file, not {type(policy).__name__}"
    )


def _schema(output: OutputType, policy: Policy) -> OutputSchema | None:
    if output is None:
        return policy.output.schema_ if policy.output is not None else None
    if isinstance(output, type) and issubclass(output, BaseModel):
        return OutputSchema(model=output)
    if isinstance(output, Mapping):
        return OutputSchema(json_schema=output)
    raise ConfigError(
        f"output must be a pydantic model class or a JSON Schema dict, not {output!r}"
    )


def _compliance(policy: Policy) -> tuple[ReviewQueue | None, RecordSink | None]:
    """The review queue and record log a policy asks for; they are added to any sinks given."""
    log_path = policy.records.log_path
    log = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = RecordSink(open_store(log_path))
    if policy.review is None:
        return None, log
    policy.review.queue_path.parent.mkdir(parents=True, exist_ok=True)
    queue = ReviewQueue(policy.review.queue_path, log=log.store if log else None)
    return queue, log


def make_plan(
    policy: PolicyLike,
    output: OutputType,
    *,
    function: str | None,
    model: str | None,
    sinks: Sequence[ReportSink] | None,
) -> GuardPlan:
    """Load the policy and schema and build the checks: all I/O happens here, not per call."""
    resolved = _policy(policy)
    schema = _schema(output, resolved)
    if schema is not None:
        _check_fallbacks(resolved, schema)
    chosen = list(sinks) if sinks is not None else default_sinks()
    review, log = _compliance(resolved)
    chosen += [s for s in (log, review) if s is not None]
    return GuardPlan(
        policy=resolved,
        policy_ref=PolicyRef(id=resolved.id, version=resolved.version, sha256=resolved.sha256),
        schema=schema,
        checks=build_checks(resolved, schema),
        sinks=chosen,
        review=review,
        content=ContentRecorder(resolved.records.content, resolved.records.redact_patterns),
        function=function,
        model=model,
    )


def _check_fallbacks(policy: Policy, schema: OutputSchema) -> None:
    """The output type given to the guard refuses none of the policy's fallbacks."""
    problems = fallback_problems(policy.actions, schema)
    if problems:
        loc, message = problems[0]
        raise ConfigError(message, loc=loc, hint="refrain returns it in place of the output")


def documents_argument(value: Any) -> list[str] | None:
    """Validate the ``guardkit_documents`` argument of a guarded call."""
    if value is None:
        return None
    # a list or tuple only: a generator would be used up by the check, a dict give its keys
    if not isinstance(value, list | tuple):
        raise ConfigError(
            f"{DOCUMENTS_KWARG} must be a list of strings, not {type(value).__name__}",
            loc=(DOCUMENTS_KWARG,),
        )
    for i, document in enumerate(value):
        if not isinstance(document, str):
            raise ConfigError(
                f"{DOCUMENTS_KWARG}[{i}] must be a string, not {type(document).__name__}",
                loc=(DOCUMENTS_KWARG, i),
            )
    return list(value)
