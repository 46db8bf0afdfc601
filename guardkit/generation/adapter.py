"""The embedded model as a guard call: messages in, a ``ModelResponse`` out.

The guard validates and reasks itself, so this generates once per call, constrained by the
schema, and reports truncation and the decoding engine instead of judging the output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from guardkit.guard.responses import ModelResponse

__all__ = ["load_local_model"]

EMBEDDED_NAME = "smollm2-135m-instruct"


def load_local_model(
    schema: dict[str, Any] | type[BaseModel] | None,
    *,
    max_new_tokens: int = 512,
    forbid_extra: bool = True,
) -> Callable[[list[dict[str, Any]]], ModelResponse]:
    """A call that answers ``messages`` with the embedded model, constrained by ``schema`` (a
    JSON Schema, or a pydantic model class read as its JSON Schema).

    ``forbid_extra`` (as the schema check's, on by default): objects without a say on extra
    keys are closed in the grammar too, or the decoder writes keys the check then refuses."""
    from guardkit.checks.schema import grammar_schema
    from guardkit.decoding import output_spec
    from guardkit.generation.local import LocalModel

    model = LocalModel.embedded()
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        schema = schema.model_json_schema()
    if schema is not None:
        schema = grammar_schema(schema) if forbid_extra else schema
        output_spec(schema)  # a schema that cannot be used fails now, not on the first call

    def call(messages: list[dict[str, Any]]) -> ModelResponse:
        result = model.complete(
            [{"role": m["role"], "content": str(m["content"])} for m in messages],
            schema,
            max_new_tokens=max_new_tokens,
        )
        info = result.info
        generation = {"mode": "constrained", **info.model_dump()} if info else {"mode": "free"}
        return ModelResponse(
            text=result.text,
            usage=result.usage,
            model=EMBEDDED_NAME,
            truncated=result.finish_reason == "length",
            generation=generation,
        )

    return call
