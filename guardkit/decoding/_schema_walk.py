"""Where keywords sit in a JSON Schema, and the schema with them removed.

Engines report an unsupported keyword by name only; these helpers turn the name into the
JSON pointers where it occurs (for ``relaxed``) and drop it there (for the relaxed grammar).
Property names are data, not keywords, so the walk never matches them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["cap_strings", "depth", "drop_keywords", "ignored_paths", "keyword_paths"]

# Keywords whose value is data (an instance), never a subschema.
_DATA = frozenset({"const", "default", "enum", "examples"})
# String keywords an added ``maxLength`` could conflict with, or that bound the length already.
_LENGTH_SET = frozenset({"maxLength", "pattern", "format", "const", "enum", "contentEncoding"})
# Keywords whose value maps names to subschemas: their keys are names, not keywords.
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)


def _walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema with its pointer, iteratively (deep schemas must not hit recursion)."""
    stack: list[tuple[Any, str]] = [(node, path)]
    while stack:
        current, where = stack.pop()
        if not isinstance(current, dict):
            continue
        yield where, current
        for key, value in current.items():
            child = f"{where}/{key}"
            if key in _NAME_MAPS and isinstance(value, dict):
                stack.extend((v, f"{child}/{name}") for name, v in value.items())
            elif isinstance(value, dict):
                stack.append((value, child))
            elif isinstance(value, list):
                stack.extend((v, f"{child}/{i}") for i, v in enumerate(value))


def keyword_paths(schema: Any, keyword: str) -> list[str]:
    """``"<pointer>:<keyword>"`` for every place ``keyword`` occurs."""
    found = (where or "/" for where, node in _walk(schema, "") if keyword in node)
    return sorted(f"{where}:{keyword}" for where in found)


def ignored_paths(schema: Any, keywords: frozenset[str]) -> list[str]:
    """``"<pointer>:<keyword>"`` for each of ``keywords`` in ``schema``: what an engine that
    compiles them without enforcing them leaves out of its grammar."""
    return sorted(p for keyword in keywords for p in keyword_paths(schema, keyword))


def drop_keywords(schema: Any, keywords: frozenset[str]) -> Any:
    """A copy of ``schema`` without ``keywords`` anywhere a keyword can be."""
    if isinstance(schema, list):
        return [drop_keywords(v, keywords) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in keywords:
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            out[key] = {name: drop_keywords(v, keywords) for name, v in value.items()}
        else:
            out[key] = drop_keywords(value, keywords)
    return out


def depth(schema: Any) -> int:
    """Nesting depth of containers, counted without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(schema, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def cap_strings(schema: Any, max_chars: int) -> tuple[Any, list[str]]:
    """A copy of ``schema`` whose free strings (type string, no length bound, pattern, format
    or enum) get ``maxLength`` ``max_chars`` (or their ``minLength``), and their pointers.

    Every instance of the copy is an instance of the original: it only forbids long strings,
    which a small model can otherwise write until its token budget runs out.
    """
    capped: list[str] = []

    def copy(node: Any, where: str) -> Any:
        if isinstance(node, list):
            return [copy(v, f"{where}/{i}") for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DATA:
                out[key] = value
            elif key in _NAME_MAPS and isinstance(value, dict):
                out[key] = {n: copy(v, f"{where}/{key}/{n}") for n, v in value.items()}
            else:
                out[key] = copy(value, f"{where}/{key}")
        if node.get("type") == "string" and not _LENGTH_SET & node.keys():
            minimum = node.get("minLength", 0)
            out["maxLength"] = max(max_chars, minimum if isinstance(minimum, int) else 0)
            capped.append(where or "/")
        return out

    return copy(schema, ""), sorted(capped)
