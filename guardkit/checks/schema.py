"""The schema check: the output must be one JSON document that validates against the schema.

Parsing is strict (the whole reply must be the document); the lenient reading (JSON inside code
fences or prose, unknown keys dropped) is offered as a ``fixed_text`` remedy, used only when the
policy's action for ``schema`` is ``fix``, and then the result counts as repaired, not reliable.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from guardkit.checks import CheckContext, CheckResult, CheckSetup, register_check
from guardkit.schemas import FieldError, OutputSchema

__all__ = ["SchemaCheck", "SchemaCheckConfig"]

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class SchemaCheckConfig(BaseModel):
    """Settings of the schema check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    forbid_extra: bool = True
    """Keys a pydantic model does not declare are errors (models that allow extras excepted)."""
    strict_types: bool = False
    """Validate pydantic models in strict mode: ``"12"`` is not a number."""


class SchemaCheck:
    """Parse the reply as JSON and validate it against the output schema."""

    name = "schema"

    def __init__(self, config: SchemaCheckConfig, schema: OutputSchema) -> None:
        self.config = config
        self.schema = schema
        self._closed = _closed_validator(schema) if config.forbid_extra else None
        self._schema_hint = json.dumps(schema.json_schema(), separators=(",", ":"))

    def run(self, ctx: CheckContext) -> CheckResult:
        text = ctx.text.strip()
        if not text:
            return self._fail(
                [FieldError(loc=(), message="the output is empty", type="empty")], None
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            truncated = exc.pos >= len(text) - 1
            message = (
                "the JSON document ends before it is complete (truncated output)"
                if truncated
                else f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            )
            kind = "json_truncated" if truncated else "json_invalid"
            return self._fail([FieldError(loc=(), message=message, type=kind)], _extract_json(text))
        value, errors = self._validate(data)
        if not errors:
            return CheckResult(check=self.name, passed=True, score=1.0, value=value)
        return self._fail(errors, json.dumps(data, ensure_ascii=False))

    def _validate(self, data: Any) -> tuple[Any, list[FieldError]]:
        extra = _extra_keys(self._closed, data) if self._closed is not None else []
        value, errors = self.schema.validate_python(data, strict=self.config.strict_types)
        return value, extra + errors

    def _fail(self, errors: list[FieldError], fixed: str | None) -> CheckResult:
        lines = "\n".join(f"- {e}" for e in errors[:20])
        feedback = (
            "Your previous reply was not valid for the required JSON schema:\n"
            f"{lines}\nReply again with only the corrected JSON document, no prose or code fences. "
            f"Schema: {self._schema_hint}"
        )
        return CheckResult(
            check=self.name,
            passed=False,
            score=0.0,
            errors=errors,
            feedback=feedback,
            fixed_text=self._repair(fixed) if fixed else None,
        )

    def _repair(self, text: str) -> str | None:
        """The candidate with unknown keys dropped, if it then validates; a repair must be valid."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        pruned = _prune(self._closed, data) if self._closed is not None else data
        _, errors = self._validate(pruned)
        return None if errors else json.dumps(pruned, ensure_ascii=False)


def _extract_json(text: str) -> str | None:
    """The JSON document inside code fences or surrounding prose, if there is exactly one."""
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(candidate[start:])
    except json.JSONDecodeError:
        return None
    return json.dumps(data, ensure_ascii=False)


def _close(node: Any) -> Any:
    """A copy of a JSON Schema in which every object without a say on extra keys forbids them."""
    if isinstance(node, dict):
        out = {k: _close(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


def _closed_validator(schema: OutputSchema) -> Any:
    import jsonschema

    if schema.model is not None and schema.model.model_config.get("extra") == "allow":
        return None
    closed = _close(schema.json_schema())
    return jsonschema.validators.validator_for(closed)(closed)


def _extra_keys(validator: Any, data: Any) -> list[FieldError]:
    errors = []
    for err in validator.iter_errors(data):
        for e in [err, *(err.context or [])]:
            if e.validator == "additionalProperties":
                errors.append(
                    FieldError(
                        loc=tuple(e.absolute_path), message=e.message, type="extra_forbidden"
                    )
                )
    return errors


def _prune(validator: Any, data: Any) -> Any:
    """Remove the keys the closed schema reports as extra."""
    data = json.loads(json.dumps(data))
    for err in list(validator.iter_errors(data)):
        if err.validator != "additionalProperties" or not isinstance(err.instance, dict):
            continue
        allowed = set(err.schema.get("properties", {}))
        for key in [k for k in err.instance if k not in allowed]:
            del err.instance[key]
    return data


def _build(config: SchemaCheckConfig, setup: CheckSetup) -> SchemaCheck:
    if setup.schema is None:
        from guardkit.errors import ConfigError

        raise ConfigError("the schema check needs an output schema (policy 'output' or output=...)")
    return SchemaCheck(config, setup.schema)


register_check("schema", SchemaCheckConfig, _build)
