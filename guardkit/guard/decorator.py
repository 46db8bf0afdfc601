"""``@guard``: put a policy around an existing function that calls a model.

The function may return text, an OpenAI ``ChatCompletion``, an Anthropic ``Message`` or a dict.
How a reask reaches the model depends on the function's signature: a ``messages`` parameter
gets the previous answer and the feedback appended; otherwise a ``feedback`` parameter gets the
feedback text; otherwise the function is simply called again.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ParamSpec

from guardkit.guard.pipeline import CallRequest, GuardResult, drive_async, drive_sync, run_pipeline
from guardkit.guard.plan import (
    DOCUMENTS_KWARG,
    OutputType,
    PolicyLike,
    documents_argument,
    make_plan,
)
from guardkit.guard.responses import ModelResponse, read_response
from guardkit.reports.sinks import ReportSink

__all__ = ["guard"]

P = ParamSpec("P")


def _reask_arguments(
    fn: Callable[..., Any],
) -> Callable[[inspect.BoundArguments, CallRequest], tuple[tuple[Any, ...], dict[str, Any]]]:
    """How this function's arguments change on a reask, decided once from its signature."""
    signature = inspect.signature(fn)
    params = signature.parameters

    def arguments(
        bound: inspect.BoundArguments, request: CallRequest
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if request.attempt == 1:
            return bound.args, bound.kwargs
        updated = signature.bind(*bound.args, **bound.kwargs)
        if "messages" in params and request.messages:
            updated.arguments["messages"] = list(bound.arguments.get("messages") or []) + list(
                request.messages
            )
        elif "feedback" in params and request.feedback is not None:
            updated.arguments["feedback"] = request.feedback
        return updated.args, updated.kwargs

    return arguments


def guard(
    policy: PolicyLike,
    output: OutputType = None,
    *,
    model: str | None = None,
    sinks: Sequence[ReportSink] | None = None,
) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """Guard a sync or async function; it then returns a ``GuardResult`` (output and report).

    Reference documents for grounding checks (RAG context) are passed at call time as the
    keyword ``guardkit_documents=[...]``, which the function itself never receives.

    ``output`` (a pydantic model or JSON Schema dict) overrides the policy's schema; ``model``
    names the model for cost accounting when the return value does not say.
    """

    shared = make_plan(policy, output, function=None, model=model, sinks=sinks)

    def decorate(fn: Callable[P, Any]) -> Callable[P, Any]:
        plan = dataclasses.replace(shared, function=fn.__qualname__)
        arguments = _reask_arguments(fn)
        signature = inspect.signature(fn)
        timeout = plan.policy.timeout_s

        def start(*args: Any, **kwargs: Any) -> tuple[inspect.BoundArguments, Any]:
            documents = kwargs.pop(DOCUMENTS_KWARG, None)
            bound = signature.bind(*args, **kwargs)
            messages = bound.arguments.get("messages")
            pipeline = run_pipeline(
                plan,
                messages=messages if isinstance(messages, list) else None,
                documents=documents_argument(documents),
                arguments=_as_json(bound.arguments) if not isinstance(messages, list) else None,
            )
            return bound, pipeline

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def guarded_async(*args: P.args, **kwargs: P.kwargs) -> GuardResult[Any]:
                bound, pipeline = start(*args, **kwargs)

                async def call(request: CallRequest) -> ModelResponse:
                    a, k = arguments(bound, request)
                    result: Awaitable[Any] = fn(*a, **k)
                    return read_response(await result)

                return await drive_async(pipeline, call, timeout)

            return guarded_async

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> GuardResult[Any]:
            bound, pipeline = start(*args, **kwargs)

            def call(request: CallRequest) -> ModelResponse:
                a, k = arguments(bound, request)
                return read_response(fn(*a, **k))

            return drive_sync(pipeline, call, timeout)

        return guarded

    return decorate


def _as_json(arguments: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments as JSON values, for its record: what is no JSON becomes its ``repr``
    (a client object, a callback), so recording never fails a call."""
    try:
        text = json.dumps(arguments, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):  # a circular structure, keys that are no strings
        return {name: repr(value) for name, value in arguments.items()}
    loaded: dict[str, Any] = json.loads(text)
    return loaded
