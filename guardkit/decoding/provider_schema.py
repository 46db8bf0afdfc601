"""JSON Schema -> the subsets that hosted providers enforce server-side.

OpenAI's strict structured outputs accept only a subset of JSON Schema: every object closed
(``additionalProperties: false``) with every property required, no ``allOf``/``oneOf``/``not``,
few string/array/object keywords. Anthropic enforces nothing but accepts a forced tool call
whose ``input_schema`` must be an object. Both transforms are pure; what they cannot keep is
recorded in ``relaxed`` (``"<json pointer>:<keyword>"``) so that the report says which
constraints only the final validation against the original schema enforces.

Optional properties become required-and-nullable; ``StrictSchema.restore`` turns such nulls
back into absent keys and unwraps a non-object root, so the provider's answer can be
validated against the original schema unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, Field

from guardkit.errors import SchemaDefinitionError
from guardkit.schemas import resolve_local_ref

__all__ = ["WRAP_KEY", "StrictSchema", "to_anthropic_tool", "to_openai_strict"]

WRAP_KEY = "value"
"""Property under which a schema whose root is not an object is wrapped."""

# Keywords OpenAI strict mode enforces, by the type they apply to; "*" applies to every schema.
_OPENAI_KEEP: dict[str, frozenset[str]] = {
    "*": frozenset({"type", "enum", "const", "anyOf", "$ref", "$defs", "description", "title"}),
    "object": frozenset({"properties", "required", "additionalProperties"}),
    "array": frozenset({"items", "minItems", "maxItems"}),
    "string": frozenset({"pattern", "format"}),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    "integer": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
}
for _numeric in ("number", "integer"):
    _OPENAI_KEEP[_numeric] |= {"multipleOf"}
_OPENAI_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
# Keywords that annotate but never constrain: dropped without being recorded as relaxed.
_ANNOTATIONS = frozenset(
    {"default", "examples", "$comment", "deprecated", "readOnly", "writeOnly", "$schema", "$id"}
)
_MAX_DEPTH = 200


class StrictSchema(BaseModel):
    """A schema in OpenAI's strict subset, with what was relaxed to get there."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_: dict[str, Any] = Field(alias="schema")
    relaxed: list[str] = Field(default_factory=list)
    wrapped: bool = False
    original: dict[str, Any] = Field(default_factory=dict, repr=False)

    def response_format(self, name: str = "output") -> dict[str, Any]:
        """The ``response_format`` argument of an OpenAI-compatible chat completion."""
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": self.schema_},
        }

    def restore(self, data: Any) -> Any:
        """Map a provider answer back to the original schema's shape.

        Unwraps a wrapped root and drops nulls the transform introduced for optional
        properties; everything else is left for the final validation to judge.
        """
        if self.wrapped and isinstance(data, dict) and WRAP_KEY in data:
            data = data[WRAP_KEY]
        return _restore(data, self.original, self.original, 0)


def to_openai_strict(schema: dict[str, Any]) -> StrictSchema:
    """Transform ``schema`` into OpenAI's strict structured-outputs subset."""
    _check_schema(schema)
    root, wrapped = _wrap_root(copy.deepcopy(schema))
    relaxed: list[str] = ["/:root-wrapped"] if wrapped else []
    defs = {**root.pop("definitions", {}), **root.pop("$defs", {})}
    # references resolve against the definitions still (an allOf of a $ref is merged)
    walker = _Strict({**root, "$defs": defs, "definitions": defs}, relaxed)
    out = walker.node(root, "", 0)
    if defs:
        out["$defs"] = {k: walker.node(v, f"/$defs/{k}", 0) for k, v in defs.items()}
    return StrictSchema(schema_=out, relaxed=relaxed, wrapped=wrapped, original=schema)


def to_anthropic_tool(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A tool definition to force with ``tool_choice={"type": "tool", "name": name}``.

    Anthropic validates nothing server-side, so the schema is kept whole (only a non-object
    root is wrapped under ``WRAP_KEY``); the final validation enforces it.
    """
    _check_schema(schema)
    root, wrapped = _wrap_root(copy.deepcopy(schema))
    description = "Return the answer as this tool's input."
    if wrapped:
        description += f" Put the answer under {WRAP_KEY!r}."
    return {"name": name, "description": description, "input_schema": root}


def _check_schema(schema: Any) -> None:
    if not isinstance(schema, dict):
        raise SchemaDefinitionError(f"a JSON Schema must be an object, got {type(schema).__name__}")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaDefinitionError(
            f"invalid JSON Schema: {exc.message}", loc=tuple(exc.path)
        ) from exc


def _wrap_root(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    schema = _inline_root_ref(schema)
    if schema.get("type") == "object" and "anyOf" not in schema:
        return schema, False
    defs: dict[str, Any] = {k: schema.pop(k) for k in ("$defs", "definitions") if k in schema}
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {WRAP_KEY: schema},
        "required": [WRAP_KEY],
        "additionalProperties": False,
        **defs,
    }
    return _retarget_root_refs(wrapped), True


def _inline_root_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic writes a self-referencing model as ``{"$ref": "#/$defs/M", "$defs": ...}``."""
    ref = schema.get("$ref")
    only_ref = not set(schema) - {"$ref", "$defs", "definitions"}
    if not (isinstance(ref, str) and _is_def(ref) and only_ref):
        return schema
    defs = schema.get("$defs", schema.get("definitions", {}))
    target = defs.get(ref.rsplit("/", 1)[-1])
    if not isinstance(target, dict):
        raise SchemaDefinitionError(f"unresolvable $ref {ref!r}")
    return {**target, **{k: schema[k] for k in ("$defs", "definitions") if k in schema}}


def _retarget_root_refs(node: Any, prefix: str = f"#/properties/{WRAP_KEY}") -> Any:
    """A ``$ref: "#"`` inside a wrapped schema must still point at the wrapped part."""
    if isinstance(node, dict):
        out = {k: _retarget_root_refs(v, prefix) for k, v in node.items()}
        ref = out.get("$ref")
        if ref == "#" or (isinstance(ref, str) and ref.startswith("#/") and not _is_def(ref)):
            out["$ref"] = prefix + ref[1:]
        return out
    if isinstance(node, list):
        return [_retarget_root_refs(v, prefix) for v in node]
    return node


def _is_def(ref: str) -> bool:
    return ref.startswith(("#/$defs/", "#/definitions/"))


class _Strict:
    """One walk over a schema; appends to ``relaxed`` what it cannot keep."""

    def __init__(self, root: dict[str, Any], relaxed: list[str]) -> None:
        self.root = root
        self.relaxed = relaxed

    def drop(self, path: str, keyword: str) -> None:
        self.relaxed.append(f"{path or '/'}:{keyword}")

    def node(self, schema: Any, path: str, depth: int) -> dict[str, Any]:
        if depth > _MAX_DEPTH:
            raise SchemaDefinitionError(
                f"schema nested deeper than {_MAX_DEPTH} levels", hint=f"openai strict at {path}"
            )
        if not isinstance(schema, dict):  # true / false schemas
            self.drop(path, "boolean-schema")
            return {}
        if "$ref" in schema and "properties" in schema:  # the referenced keys and these
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {"allOf": [{"$ref": schema["$ref"]}, rest]}
        schema = self._merge_all_of(schema, path)
        if "$ref" in schema:
            return self._ref(schema, path)
        if "oneOf" in schema:
            self.drop(path, "oneOf->anyOf")
            schema = {**schema, "anyOf": schema["oneOf"] + schema.get("anyOf", [])}
            del schema["oneOf"]
        if "anyOf" in schema and "properties" in schema:
            schema = self._distribute(schema, path)
        out: dict[str, Any] = {}
        allowed = self._allowed(schema)
        for key, value in schema.items():
            if key in _ANNOTATIONS or key in ("$defs", "definitions"):
                continue
            if key not in allowed:
                self.drop(path, key)
                continue
            out[key] = value
        if out.get("format") is not None and out["format"] not in _OPENAI_FORMATS:
            self.drop(path, f"format={out.pop('format')}")
        if "anyOf" in out:
            out["anyOf"] = [
                self.node(s, f"{path}/anyOf/{i}", depth + 1) for i, s in enumerate(out["anyOf"])
            ]
        if isinstance(out.get("items"), dict):
            out["items"] = self.node(out["items"], f"{path}/items", depth + 1)
        if _types(schema) & {"object"} or "properties" in schema:
            self._object(out, path, depth)
        return out

    def _allowed(self, schema: dict[str, Any]) -> frozenset[str]:
        types = _types(schema) or {"object", "array", "string", "number", "integer"}
        keep = set(_OPENAI_KEEP["*"])
        for name in types:
            keep |= _OPENAI_KEEP.get(name, frozenset())
        return frozenset(keep)

    def _ref(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaDefinitionError(
                f"remote $ref {ref!r} is not supported", hint=f"openai strict at {path}"
            )
        for key in schema:
            if key not in ("$ref", "description", "title") and key not in _ANNOTATIONS:
                self.drop(path, f"{key} (beside $ref)")
        return {"$ref": ref.replace("#/definitions/", "#/$defs/")}

    def _merge_all_of(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        if "allOf" not in schema:
            return schema
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self._resolve(part)
            if not isinstance(part, dict):
                self.drop(path, "allOf")
                continue
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = sorted({*merged.get("required", []), *value})
                elif key not in merged:
                    merged[key] = value
                elif merged[key] != value and key not in _ANNOTATIONS:
                    self.drop(path, f"allOf/{key}")
        return merged

    def _distribute(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        """Properties beside ``anyOf`` moved into each branch: a strict object lists all its
        keys, so the base closed with its own keys would refuse every branch's."""
        base = {k: v for k, v in schema.items() if k != "anyOf" and k not in _ANNOTATIONS}
        kept = {k: v for k, v in schema.items() if k in _ANNOTATIONS}
        branches = [self._merge_all_of({"allOf": [base, b]}, path) for b in schema["anyOf"]]
        return {**kept, "anyOf": branches}

    def _resolve(self, schema: Any) -> Any:
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        node = resolve_local_ref(self.root, ref)
        if node is None:
            raise SchemaDefinitionError(f"unresolvable $ref {ref!r}", hint="openai strict")
        return node

    def _object(self, out: dict[str, Any], path: str, depth: int) -> None:
        props: dict[str, Any] = out.get("properties", {})
        required = set(out.get("required", []))
        if out.get("additionalProperties", False) is not False:
            self.drop(path, "additionalProperties")
        new_props: dict[str, Any] = {}
        for name, sub in props.items():
            node = self.node(sub, f"{path}/properties/{name}", depth + 1)
            if name not in required:
                self.drop(f"{path}/properties/{name}", "optional->nullable")
                node = _nullable(node)
            new_props[name] = node
        out["properties"] = new_props
        out["required"] = list(new_props)
        out["additionalProperties"] = False
        out.setdefault("type", "object")


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    if {"type": "null"} in node.get("anyOf", []):
        return node
    if "$ref" in node or "anyOf" in node or kind is None:
        return {"anyOf": [node, {"type": "null"}]}
    kinds = [kind] if isinstance(kind, str) else list(kind)
    if "null" not in kinds:
        kinds.append("null")
    out = {**node, "type": kinds}
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _restore(data: Any, schema: Any, root: dict[str, Any], depth: int) -> Any:
    """Drop nulls the strict transform added, walking data and the original schema together."""
    if depth > _MAX_DEPTH or not isinstance(schema, dict):
        return data
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        data = _restore(data, resolve_local_ref(root, ref), root, depth + 1)
    for branch in schema.get("allOf", []):
        data = _restore(data, branch, root, depth + 1)
    branches = [*schema.get("anyOf", []), *schema.get("oneOf", [])]
    if branches:  # the branch the answer is for: a null one branch drops, another may need
        data = _one_branch(data, branches, root, depth)
    if isinstance(data, dict) and "properties" in schema:
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for name, value in data.items():
            sub = schema["properties"].get(name)
            if value is None and name not in required and not _accepts_null(sub, root):
                continue
            out[name] = _restore(value, sub, root, depth + 1)
        return out
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [_restore(v, schema["items"], root, depth + 1) for v in data]
    return data


def _one_branch(data: Any, branches: list[Any], root: dict[str, Any], depth: int) -> Any:
    """``data`` restored for the branch it is for: one declaring every key it holds first (an
    open branch takes any object, a null it never declared included), then as it is if a
    branch takes it so, restored for the first that takes the restored form, else unchanged
    (the final validation judges)."""
    validator = jsonschema.validators.validator_for(root)(root)
    usable = [b for b in branches if isinstance(b, dict)]

    def takes(branch: dict[str, Any], value: Any) -> bool:
        return bool(validator.evolve(schema=branch).is_valid(value))

    restored = [(b, _restore(data, b, root, depth + 1)) for b in usable]
    for branch, value in restored:  # the branch naming all its keys, as sent or restored
        if _declares_all(branch, data, root) and (takes(branch, data) or takes(branch, value)):
            return data if takes(branch, data) else value
    if any(takes(b, data) for b in usable):
        return data
    return next((value for branch, value in restored if takes(branch, value)), data)


def _declares_all(schema: dict[str, Any], data: Any, root: dict[str, Any]) -> bool:
    """Whether ``schema`` names every key of the object ``data`` (anything else: true)."""
    if not isinstance(data, dict):
        return True
    names: set[str] = set()
    stack, seen = [schema], set()
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        names |= set(node.get("properties", {}))
        stack += node.get("allOf", [])
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = resolve_local_ref(root, ref)
            if isinstance(target, dict):
                stack.append(target)
    return set(data) <= names


def _accepts_null(sub: Any, root: dict[str, Any]) -> bool:
    """Whether the original schema already allows null here (then a null is the answer)."""
    if sub is None:
        return True
    validator = jsonschema.validators.validator_for(root)(root)
    return bool(validator.evolve(schema=sub).is_valid(None))
