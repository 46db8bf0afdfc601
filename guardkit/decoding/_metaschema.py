"""The metaschema check, fast: the same verdict as ``check_schema``, at about a third of the cost.

``Validator.check_schema`` builds a new metaschema validator on every call, and draft 2020-12
(the default for a schema without ``$schema``) is slow to check: its metaschema is an
``allOf`` of seven vocabulary metaschemas, each re-entered through ``$dynamicRef`` at every
subschema (~55 us per node, against ~12 us for draft 4). Here each draft's validator is built
once, and draft 2020-12 is checked against one flattened resource built from ``jsonschema``'s
own copies: the vocabularies' ``properties`` and ``$defs`` merged (their names are disjoint and
each vocabulary only types the value and constrains its own properties, so the ``allOf`` is
their union), ``$dynamicRef: "#meta"`` turned into ``$ref: "#"`` (checking from the root, the
outermost ``meta`` anchor is the root itself). If the shipped metaschema ever stops matching
that shape, the original is used.

Before that walk, ``jsonschema-rs`` checks the schema against the same metaschema with format
validation on, ~50x faster. Only its "valid" is trusted: over JSONSchemaBench and three
corruptions of each schema it never called valid what ``check_schema`` refuses
(``benchmarks/metaschema.py``), while it refuses a few schemas ``check_schema`` accepts (its
regex and URI parsers are stricter). So a refusal, and the error reported, always come from the
``jsonschema`` walk.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.protocols import Validator
from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]

__all__ = ["first_error"]

_VOCABULARY_KEYS = frozenset(
    {"$schema", "$id", "$vocabulary", "$dynamicAnchor", "title", "type", "properties", "$defs"}
)


def first_error(schema: Any) -> jsonschema.ValidationError | None:
    """The error ``check_schema`` would raise for ``schema``, or ``None`` when it is valid."""
    declared = schema.get("$schema", "") if isinstance(schema, dict) else ""
    # A non-string ``$schema`` breaks ``validator_for``; the latest draft's metaschema refuses it.
    cls = jsonschema.validators.validator_for(schema if isinstance(declared, str) else {})
    try:
        if _fast_meta_validator(cls).is_valid(schema):
            return None
    except Exception:  # whatever it cannot handle, the walk below decides
        pass
    validator = _meta_validator(cls)
    error: jsonschema.ValidationError | None = next(validator.iter_errors(schema), None)
    return error


@functools.cache
def _fast_meta_validator(cls: type[Validator]) -> Any:
    """``jsonschema-rs`` over the metaschema ``_meta_validator(cls)`` uses, formats checked."""
    meta = _meta_validator(cls).schema
    assert isinstance(meta, Mapping)  # a metaschema is an object, never a boolean
    return jsonschema_rs.validator_for(dict(meta), validate_formats=True)


@functools.cache
def _meta_validator(cls: type[Validator]) -> Validator:
    """As ``cls.check_schema`` builds it (same class and format checker), once per draft."""
    meta = cls.META_SCHEMA
    if cls is jsonschema.Draft202012Validator:
        meta = _flat_2020_12(meta) or meta
    meta_cls = jsonschema.validators.validator_for(cls.META_SCHEMA, default=cls)
    return meta_cls(meta, format_checker=meta_cls.FORMAT_CHECKER)


def _flat_2020_12(root: dict[str, Any]) -> dict[str, Any] | None:
    """Draft 2020-12's metaschema as one resource, or ``None`` if its shape is unexpected."""
    try:
        base = root["$id"].rsplit("/", 1)[0] + "/"
        parts = [root, *(REGISTRY.contents(base + ref["$ref"]) for ref in root["allOf"])]
        properties: dict[str, Any] = {}
        defs: dict[str, Any] = {}
        for part in parts:
            if set(part) - _VOCABULARY_KEYS - {"$comment", "allOf" if part is root else ""}:
                return None
            if part["type"] != ["object", "boolean"] or part["$dynamicAnchor"] != "meta":
                return None
            for merged, key in ((properties, "properties"), (defs, "$defs")):
                own = part.get(key, {})
                if merged.keys() & own.keys():
                    return None
                merged.update(own)
        flat = _local_refs({"properties": properties, "$defs": defs}, frozenset(defs))
    except (LookupError, TypeError, ValueError):  # not the shape this was written for
        return None
    return {
        "$schema": root["$schema"],
        "$id": "urn:guardkit:metaschema:2020-12",
        "type": ["object", "boolean"],
        **flat,
    }


def _local_refs(node: Any, defs: frozenset[str]) -> Any:
    """``node`` with every reference pointing into the flattened resource."""
    if isinstance(node, list):
        return [_local_refs(value, defs) for value in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$dynamicRef" and isinstance(value, str):
            if value != "#meta":
                raise ValueError(value)
            out["$ref"] = "#"
        elif key == "$ref" and isinstance(value, str):
            _, _, fragment = value.partition("#")  # "meta/validation#/$defs/x" -> "#/$defs/x"
            if not fragment.startswith("/$defs/") or fragment[len("/$defs/") :] not in defs:
                raise ValueError(value)
            out["$ref"] = "#" + fragment
        else:
            out[key] = _local_refs(value, defs)
    return out
