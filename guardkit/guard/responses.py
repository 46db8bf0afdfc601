"""Read text, usage and model id out of whatever a guarded call returns.

Supported: ``str``; OpenAI ``ChatCompletion`` objects and dicts (and litellm's ``ModelResponse``,
which has the same shape); Anthropic ``Message`` objects and dicts; any other dict is taken as the
output data itself. Readers are looked up by type name
in a dict, so the SDKs need not be installed for guardkit to import.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guardkit.errors import ConfigError
from guardkit.reports.model import Usage

__all__ = ["ModelResponse", "read_response"]


@dataclass(frozen=True)
class ModelResponse:
    """What the guard needs from one model reply."""

    text: str
    usage: Usage | None = None
    model: str | None = None
    truncated: bool = False
    """The provider stopped at its token limit."""
    refusal: str | None = None
    """The provider declined to answer (OpenAI's ``refusal``, Anthropic's ``stop_reason``)."""
    generation: dict[str, Any] | None = None
    """How the output was constrained (engine, relaxed keywords), for the report."""


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _openai_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    return Usage(
        input_tokens=_get(usage, "prompt_tokens", 0) or 0,
        output_tokens=_get(usage, "completion_tokens", 0) or 0,
    )


def _read_openai(obj: Any) -> ModelResponse:
    choices = _get(obj, "choices") or []
    if not choices:
        return ModelResponse(
            text="", usage=_openai_usage(_get(obj, "usage")), model=_get(obj, "model")
        )
    choice = choices[0]
    message = _get(choice, "message") or {}
    text = _as_text(_get(message, "content"))
    tool_calls = _get(message, "tool_calls") or []
    if not text and tool_calls:
        text = _as_text(_get(_get(tool_calls[0], "function"), "arguments"))
    finish = _get(choice, "finish_reason")
    filtered = "the provider's content filter stopped the answer"
    return ModelResponse(
        text=text,
        usage=_openai_usage(_get(obj, "usage")),
        model=_get(obj, "model"),
        truncated=finish == "length",
        refusal=_get(message, "refusal") or (filtered if finish == "content_filter" else None),
    )


def _as_text(value: Any) -> str:
    """Message content as text: a string, the text parts of a list of parts, or a JSON value
    (tool arguments given as an object) written as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            str(_get(part, "text") or "") for part in value if _get(part, "type") == "text"
        )
    return json.dumps(value, ensure_ascii=False)


def _read_anthropic(obj: Any) -> ModelResponse:
    parts, tools = [], []
    for block in _get(obj, "content") or []:
        kind = _get(block, "type")
        if kind == "text":
            parts.append(_get(block, "text") or "")
        elif kind == "tool_use":
            tools.append(json.dumps(_get(block, "input"), ensure_ascii=False))
    if tools:  # the tool's input is the answer; text before it ("Sure, here it is:") is not
        parts = tools[:1]
    usage = _get(obj, "usage")
    return ModelResponse(
        text="".join(parts),
        usage=Usage(
            input_tokens=_get(usage, "input_tokens", 0) or 0,
            output_tokens=_get(usage, "output_tokens", 0) or 0,
        )
        if usage is not None
        else None,
        model=_get(obj, "model"),
        truncated=_get(obj, "stop_reason") == "max_tokens",
        # Claude's refusal stop: what text came before it is no answer
        refusal="the model stopped with stop_reason 'refusal'"
        if _get(obj, "stop_reason") == "refusal"
        else None,
    )


def _read_dict(obj: dict[str, Any]) -> ModelResponse:
    if "choices" in obj:
        return _read_openai(obj)
    if obj.get("type") == "message" and isinstance(obj.get("content"), list):
        return _read_anthropic(obj)
    return ModelResponse(text=json.dumps(obj, ensure_ascii=False))


_READERS: dict[str, Callable[[Any], ModelResponse]] = {
    "str": lambda obj: ModelResponse(text=obj),
    "dict": _read_dict,
    "ChatCompletion": _read_openai,
    "ParsedChatCompletion": _read_openai,
    "Message": _read_anthropic,
    "ParsedMessage": _read_anthropic,
    "ModelResponse": _read_openai,  # litellm's completion() result, in OpenAI's shape
}


def read_response(obj: Any) -> ModelResponse:
    """Normalise a guarded call's return value; unknown types are a ``ConfigError``."""
    if isinstance(obj, ModelResponse):
        return obj
    for cls in type(obj).__mro__:
        reader = _READERS.get(cls.__name__)
        if reader is not None:
            return reader(obj)
    raise ConfigError(
        f"a guarded function returned {type(obj).__name__}; expected one of: "
        "str, dict, OpenAI ChatCompletion, Anthropic Message"
    )
