"""The schema check: the output must be one JSON document that validates against the schema.

Parsing is strict (the whole reply must be the document); the lenient reading (JSON inside code
fences or prose, unknown keys dropped) is offered as a ``fixed_text`` remedy, used only when the
policy's action for ``schema`` is ``fix``, and then the result counts as repaired, not reliable.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from guardkit.checks import CheckContext, CheckResult, CheckSetup, register_check
from guardkit.schemas import (
    JSON_DECODER,
    FieldError,
    OutputSchema,
    ecma_search,
    parse_json,
    resolve_local_ref,
)

__all__ = ["SchemaCheck", "SchemaCheckConfig", "grammar_schema"]

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
            data = parse_json(text)
        except json.JSONDecodeError as exc:
            truncated = exc.pos >= len(text) - 1
            message = (
                "the JSON document ends before it is complete (truncated output)"
                if truncated
                else f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            )
            kind = "json_truncated" if truncated else "json_invalid"
            return self._fail([FieldError(loc=(), message=message, type=kind)], _extract_json(text))
        except (ValueError, RecursionError) as exc:  # NaN, Infinity; nesting past the stack
            reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            error = FieldError(loc=(), message=f"not valid JSON: {reason}", type="json_invalid")
            return self._fail([error], None)
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
            data = parse_json(text)
        except (ValueError, RecursionError):
            return None
        pruned = _prune(self._closed, data) if self._closed is not None else data
        _, errors = self._validate(pruned)
        return None if errors else json.dumps(pruned, ensure_ascii=False)


def _extract_json(text: str) -> str | None:
    """The JSON document inside code fences or surrounding prose, if there is exactly one:
    of two ("either {...} or {...}"), picking one would be a guess, not a repair."""
    fences = _FENCE.findall(text)
    if len(fences) > 1:
        return None
    candidate = fences[0] if fences else text
    found = _json_documents(candidate)
    return json.dumps(found[0], ensure_ascii=False) if len(found) == 1 else None


def _json_documents(text: str) -> list[Any]:
    """The JSON documents of prose, left to right, none inside another; objects only when
    there are any (a citation mark "[1]" is no second answer). A bracket that closes but is
    not JSON ("[note]", "{as requested}", a broken object) is skipped whole, never searched
    inside for a fragment; one never closed means the answer is cut off: then none."""
    found, at = [], 0
    while (start := _next_open(text, at)) >= 0:
        try:
            data, at = JSON_DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            closed = _after_close(text, start)
            if closed is None:
                return []
            at = closed
            continue
        found.append(data)
    objects = [d for d in found if isinstance(d, dict)]
    return objects or found


def _after_close(text: str, start: int) -> int | None:
    """Where the bracket opened at ``start`` has closed (strings skipped), or ``None``."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _next_open(text: str, at: int) -> int:
    return min((i for i in (text.find("{", at), text.find("[", at)) if i >= 0), default=-1)


_BRANCHES = ("allOf", "anyOf", "oneOf")
_CONDITIONS = ("if", "then", "else")
"""In-place subschemas too: they declare keys of the object they sit in, as branches do."""
_EXTRA = ("additionalProperties", "unevaluatedProperties")
_NAME_MAPS = ("properties", "patternProperties")
_DEFINITIONS = ("$defs", "definitions")


def grammar_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` closed for a constrained decoder as the check (``forbid_extra``) judges,
    where a grammar can say so: decoders allow extra keys unless ``additionalProperties`` is
    false, and the check would then refuse what the grammar let through."""
    return _close(schema, "grammar")


_Mode = Literal["unevaluated", "legacy", "grammar"]


def _close(schema: dict[str, Any], mode: _Mode = "unevaluated") -> dict[str, Any]:
    """A copy of a JSON Schema in which objects without a say on extra keys forbid them.

    ``unevaluated`` (drafts 2019-09 and later): a schema is closed where it is *used*: a plain
    object gets ``additionalProperties: false``; an object composed of branches (``allOf``,
    ``anyOf``, ``oneOf``, conditions) or of a ``$ref`` gets ``unevaluatedProperties: false``,
    which counts the keys every branch and referenced definition declares. Branches and
    definitions themselves stay open: closing a branch would refuse the keys its siblings
    declare, and a definition is closed by the place that refers to it.
    ``legacy`` (older drafts, no ``unevaluatedProperties``): a composed object gets
    ``additionalProperties: false`` with every key its parts declare listed beside it; parts,
    conditions and definitions used as parts stay open, other definitions are closed.
    ``grammar`` (for a constrained decoder, which honours ``additionalProperties`` only): plain
    objects, definitions and ``anyOf``/``oneOf`` alternatives are closed; what has parts to
    merge (``allOf`` parts, conditions, properties beside branches, and those parts, and the
    definitions used as them) stays open, and the check still judges what the decoder made.
    """
    unevaluated, legacy = mode == "unevaluated", mode == "legacy"
    merged = _merged_refs(schema)

    def close(node: Any, open_here: bool = False) -> Any:
        if isinstance(node, list):
            return [close(v) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _NAME_MAPS and isinstance(value, dict):  # names map to subschemas
                out[key] = {name: close(v) for name, v in value.items()}
            elif key in _DEFINITIONS and isinstance(value, dict):
                out[key] = {
                    name: close(v, unevaluated or f"#/{key}/{name}" in merged)
                    for name, v in value.items()
                }
            elif key in (*_CONDITIONS, "dependentSchemas"):
                out[key] = (
                    close(value, open_here=True)
                    if key in _CONDITIONS
                    else {name: close(v, open_here=True) for name, v in value.items()}
                )
            elif key in _BRANCHES and isinstance(value, list):
                # alternatives are whole objects, unless properties beside them add keys
                part = not (mode == "grammar" and key != "allOf" and "properties" not in node)
                out[key] = [close(v, open_here=part) for v in value]
            else:
                out[key] = close(value)
        if open_here or any(k in out for k in _EXTRA):
            return out
        composed = (*_BRANCHES, *_CONDITIONS, "dependentSchemas", "$ref")
        if not any(k in out for k in composed):
            if "properties" in out:
                out["additionalProperties"] = False
        elif unevaluated:
            out["unevaluatedProperties"] = False
        elif legacy and "$ref" not in out:  # beside a $ref, old drafts ignore every keyword
            names, patterns = _declared(out, schema)
            out["properties"] = {**{n: {} for n in sorted(names)}, **out.get("properties", {})}
            if patterns:
                out["patternProperties"] = {
                    **{p: {} for p in sorted(patterns)},
                    **out.get("patternProperties", {}),
                }
            out["additionalProperties"] = False
        return out

    closed: dict[str, Any] = close(schema)
    return closed


def _merged_refs(node: Any, merging: bool = False) -> set[str]:
    """``$ref`` targets merged with other keys: ``allOf`` parts, alternatives beside
    properties, a ``$ref`` beside properties. Closed alone, they would refuse those keys."""
    found: set[str] = set()
    if isinstance(node, list):
        for v in node:
            found |= _merged_refs(v, merging)
    elif isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (merging or "properties" in node):
            found.add(ref)
        for key, value in node.items():
            part = key == "allOf" or (key in _BRANCHES and "properties" in node)
            found |= _merged_refs(value, part and isinstance(value, list))
    return found


def _closed_validator(schema: OutputSchema) -> Any:
    import jsonschema

    if schema.model is not None and schema.model.model_config.get("extra") == "allow":
        return None
    plain = schema.json_schema()
    kind = jsonschema.validators.validator_for(plain)
    mode: _Mode = "unevaluated" if "unevaluatedProperties" in kind.VALIDATORS else "legacy"
    # the structure alone: it judges extra keys, and a format or pattern a pydantic model
    # reads otherwise would fail a branch, so that its keys seemed unexpected
    return kind(_close(plain, mode))


def _extra_keys(validator: Any, data: Any) -> list[FieldError]:
    errors = []
    for err in validator.iter_errors(data):
        for e in [err, *(err.context or [])]:
            if e.validator in _EXTRA:
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
        if err.validator not in _EXTRA or not isinstance(err.instance, dict):
            continue
        names, patterns = _declared(err.schema, validator.schema)
        for key in list(err.instance):
            if key not in names and not any(ecma_search(p, key) for p in patterns):
                del err.instance[key]
    return data


def _declared(
    node: Any, root: dict[str, Any], seen: frozenset[str] = frozenset()
) -> tuple[set[str], set[str]]:
    """The key names and key patterns an object schema declares, its branches, conditions,
    dependent schemas and local refs included."""
    if not isinstance(node, dict):
        return set(), set()
    names, patterns = set(node.get("properties", {})), set(node.get("patternProperties", {}))
    inner = [b for k in _BRANCHES for b in node.get(k, [])]
    inner += [node[k] for k in _CONDITIONS if k in node]
    inner += list(node.get("dependentSchemas", {}).values())
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
        inner.append(resolve_local_ref(root, ref))
        seen = seen | {ref}
    for sub in inner:
        more_names, more_patterns = _declared(sub, root, seen)
        names |= more_names
        patterns |= more_patterns
    return names, patterns


def _build(config: SchemaCheckConfig, setup: CheckSetup) -> SchemaCheck:
    if setup.schema is None:
        from guardkit.errors import ConfigError

        raise ConfigError("the schema check needs an output schema (policy 'output' or output=...)")
    return SchemaCheck(config, setup.schema)


register_check("schema", SchemaCheckConfig, _build)
