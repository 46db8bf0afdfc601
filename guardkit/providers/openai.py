"""``wrap(client)``: guard an OpenAI-compatible client's ``chat.completions.create``.

When the policy has an output schema, the provider's strict structured outputs are asked for
(``response_format`` json_schema, the schema cut down to what the provider enforces, with what
was relaxed recorded), and the answer is still validated against the original schema. Streaming
calls are buffered: the whole answer is validated before anything is returned, so a guarded
call returns a ``GuardResult``, never a stream.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from collections.abc import Sequence
from typing import Any

from guardkit.decoding.provider_schema import StrictSchema, to_openai_strict
from guardkit.errors import ConfigError, ProviderTimeout
from guardkit.guard.pipeline import (
    CallRequest,
    GuardPlan,
    GuardResult,
    Pipeline,
    drive_async,
    drive_sync,
    run_pipeline,
)
from guardkit.guard.plan import (
    DOCUMENTS_KWARG,
    OutputType,
    PolicyLike,
    documents_argument,
    make_plan,
)
from guardkit.guard.responses import ModelResponse, read_response
from guardkit.reports.model import Usage
from guardkit.reports.sinks import ReportSink

__all__ = ["GuardedClient", "wrap"]


class _Completions:
    """Stands in for ``client.chat.completions``: ``create`` is guarded, the rest passes through."""

    def __init__(self, inner: Any, plan: GuardPlan, structured: bool) -> None:
        self._inner = inner
        self._plan = plan
        self._strict: StrictSchema | None = None
        if structured and plan.schema is not None:
            self._strict = to_openai_strict(plan.schema.json_schema())
        self.create = self._async_create if _is_async(inner) else self._sync_create

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _start(
        self, kwargs: dict[str, Any]
    ) -> tuple[dict[str, Any], Pipeline, StrictSchema | None]:
        """The provider arguments, the pipeline for one guarded ``create`` call, and the strict
        schema it asks for (``None`` when the caller chose a ``response_format`` of their own:
        then the answer is not in the strict shape and is not reshaped)."""
        documents = documents_argument(kwargs.pop(DOCUMENTS_KWARG, None))
        generation: dict[str, Any] = {"mode": "validate"}
        strict = None
        if self._strict is not None and "response_format" not in kwargs:
            strict = self._strict
            assert self._plan.schema is not None
            kwargs["response_format"] = self._strict.response_format(self._plan.schema.name)
            generation = {"mode": "json_schema", "strict": True, "relaxed": self._strict.relaxed}
        if self._plan.policy.timeout_s is not None:
            kwargs.setdefault("timeout", self._plan.policy.timeout_s)
        if kwargs.get("stream"):
            kwargs.setdefault("stream_options", {"include_usage": True})
            generation["stream"] = "buffered"
        pipeline = run_pipeline(
            self._plan,
            messages=kwargs.get("messages"),
            documents=documents,
            generation=generation,
            model=kwargs.get("model"),
        )
        return kwargs, pipeline, strict

    def _request(self, kwargs: dict[str, Any], request: CallRequest) -> dict[str, Any]:
        return {**kwargs, "messages": list(kwargs.get("messages", [])) + list(request.messages)}

    @staticmethod
    def _restore(response: ModelResponse, strict: StrictSchema | None) -> ModelResponse:
        """Undo the strict transform (nulls for optional keys, a wrapped root) before validation."""
        if strict is None:
            return response
        try:
            data = json.loads(response.text)
        except json.JSONDecodeError:
            return response
        restored = json.dumps(strict.restore(data), ensure_ascii=False)
        return dataclasses.replace(response, text=restored)

    def _sync_create(self, **kwargs: Any) -> GuardResult[Any]:
        kwargs, pipeline, strict = self._start(kwargs)

        timeout_s = self._plan.policy.timeout_s

        def call(request: CallRequest) -> ModelResponse:
            started = time.perf_counter()
            answer = self._inner.create(**self._request(kwargs, request))
            if kwargs.get("stream"):
                return self._restore(_join_chunks(_read_until(answer, started, timeout_s)), strict)
            return self._restore(read_response(answer), strict)

        return drive_sync(pipeline, call, timeout_s)  # the whole call

    async def _async_create(self, **kwargs: Any) -> GuardResult[Any]:
        kwargs, pipeline, strict = self._start(kwargs)

        async def call(request: CallRequest) -> ModelResponse:
            answer = await self._inner.create(**self._request(kwargs, request))
            if kwargs.get("stream"):
                return self._restore(_join_chunks([chunk async for chunk in answer]), strict)
            return self._restore(read_response(answer), strict)

        return await drive_async(pipeline, call, self._plan.policy.timeout_s)


def _read_until(stream: Any, started: float, timeout_s: float | None) -> list[Any]:
    """A sync stream's chunks; past the call's bound the stream is closed, not left running on
    the abandoned worker thread (still generating, and billed)."""
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        if timeout_s is not None and time.perf_counter() - started > timeout_s:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
            raise ProviderTimeout(f"the guarded call did not return within {timeout_s} s")
    return chunks


def _is_async(completions: Any) -> bool:
    """Whether ``create`` must be awaited (the SDK's decorators hide it from a plain check)."""
    create = inspect.unwrap(completions.create)
    return inspect.iscoroutinefunction(create) or type(completions).__name__.startswith("Async")


def _join_chunks(chunks: Sequence[Any]) -> ModelResponse:
    """Buffer a streamed completion into one response (text, usage, model, finish reason)."""
    text: list[str] = []
    refusal: list[str] = []
    usage: Usage | None = None
    model: str | None = None
    finish: str | None = None
    arguments: list[str] = []
    for chunk in chunks:
        model = getattr(chunk, "model", None) or model
        for choice in getattr(chunk, "choices", None) or []:
            if (getattr(choice, "index", 0) or 0) != 0:  # the first choice, as unstreamed
                continue
            delta = getattr(choice, "delta", None)
            text.append(getattr(delta, "content", None) or "")
            refusal.append(getattr(delta, "refusal", None) or "")
            for call in getattr(delta, "tool_calls", None) or []:
                if (getattr(call, "index", 0) or 0) == 0:  # the first tool call's arguments
                    function = getattr(call, "function", None)
                    arguments.append(getattr(function, "arguments", None) or "")
            finish = getattr(choice, "finish_reason", None) or finish
        raw_usage = getattr(chunk, "usage", None)
        if raw_usage is not None:
            usage = Usage(
                input_tokens=raw_usage.prompt_tokens or 0,
                output_tokens=raw_usage.completion_tokens or 0,
            )
    return ModelResponse(
        "".join(text) or "".join(arguments),
        usage,
        model,
        truncated=finish == "length",
        refusal="".join(refusal) or _filtered(finish),
    )


def _filtered(finish: str | None) -> str | None:
    """A stop by the provider's content filter: what came before is no whole answer."""
    return (
        "the provider's content filter stopped the answer" if finish == "content_filter" else None
    )


class _Chat:
    def __init__(self, inner: Any, completions: _Completions) -> None:
        self._inner = inner
        self.completions = completions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class GuardedClient:
    """An OpenAI-compatible client whose ``chat.completions.create`` returns ``GuardResult``."""

    def __init__(self, client: Any, plan: GuardPlan, structured: bool) -> None:
        self._client = client
        self.chat = _Chat(client.chat, _Completions(client.chat.completions, plan, structured))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def wrap(
    client: Any,
    policy: PolicyLike,
    output: OutputType = None,
    *,
    structured_outputs: bool = True,
    sinks: Sequence[ReportSink] | None = None,
) -> GuardedClient:
    """Guard an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` (or compatible) client.

    ``structured_outputs=False`` skips ``response_format`` for servers that lack it; the answer
    is then checked by validate-and-reask alone. The client's own retries are turned off
    (``with_options(max_retries=0)`` where it has them): the policy's ``error`` action retries,
    so every failed call is an attempt in the report and ``timeout_s`` bounds the whole call.
    """
    completions = getattr(getattr(client, "chat", None), "completions", None)
    if completions is None or not hasattr(completions, "create"):
        raise ConfigError(
            f"wrap guards OpenAI-compatible clients (client.chat.completions.create); "
            f"a {type(client).__name__} has none",
            hint="for an Anthropic client, decorate the function that calls messages.create "
            "with @guardkit.guard",
        )
    plan = make_plan(policy, output, function="chat.completions.create", model=None, sinks=sinks)
    with_options: Any = getattr(client, "with_options", None)
    retries: Any = getattr(client, "max_retries", None)
    if callable(with_options) and retries:
        client = with_options(max_retries=0)
    return GuardedClient(client, plan, structured_outputs)
