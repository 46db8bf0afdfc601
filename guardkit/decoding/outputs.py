"""Output types -> a ``Constraint`` for the engines plus the final validation.

Supported: a pydantic model class, a JSON Schema dict, a path to a JSON Schema file,
``Regex(pattern)`` and ``Choice(options)``. Dispatch is by type (``functools.singledispatch``),
so a new output type is one registered function. The final validation always uses the
original: pydantic for models, the ``jsonschema`` library for dicts and files, ``re`` for
regexes; an engine's grammar is never trusted on its own. ``format`` is checked too (for the
formats the ``jsonschema`` library can check), as some engines ignore formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import singledispatch
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, ValidationError

from guardkit.decoding._base import Constraint
from guardkit.decoding.chain import check_schema
from guardkit.errors import ConfigError, OutputError, SchemaDefinitionError
from guardkit.schemas import json_validator, parse_json

__all__ = ["Choice", "OutputSpec", "Regex", "load_schema_file", "output_spec"]

_REGEX_META = frozenset("\\.+*?()|[]{}^$")


class Regex(BaseModel):
    """The output must match ``pattern`` in full."""

    model_config = ConfigDict(frozen=True)
    pattern: str


class Choice(BaseModel):
    """The output must be exactly one of ``options``."""

    model_config = ConfigDict(frozen=True)
    options: tuple[str, ...]


@dataclass(frozen=True)
class OutputSpec:
    """The constraint to decode with, and the validation that judges the output."""

    constraint: Constraint
    validate: Callable[[str], Any]
    schema: dict[str, Any] | None = None


@singledispatch
def output_spec(target: Any) -> OutputSpec:
    """The spec for ``target``; see the module docstring for what is supported."""
    if isinstance(target, type) and issubclass(target, BaseModel):
        return _model_spec(target)
    raise ConfigError(
        f"unsupported output type {type(target).__name__}; use a pydantic model class, a JSON "
        "Schema dict, a pathlib.Path to a schema file, Regex(...) or Choice(...)"
    )


def _model_spec(model: type[BaseModel]) -> OutputSpec:
    schema = model.model_json_schema()
    constraint = Constraint.json_schema(schema)
    check_schema(constraint)

    def validate(text: str) -> BaseModel:
        try:
            return model.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise OutputError(
                f"output does not validate against {model.__name__}: {first['msg']}",
                loc=first["loc"],
            ) from exc

    return OutputSpec(constraint, validate, schema)


@output_spec.register
def _dict_spec(target: dict) -> OutputSpec:  # type: ignore[type-arg]
    schema: dict[str, Any] = target
    constraint = Constraint.json_schema(schema)
    check_schema(constraint)
    validator = json_validator(schema)

    def validate(text: str) -> Any:
        try:
            value = parse_json(text)
        except json.JSONDecodeError as exc:
            raise OutputError(f"output is not JSON: {exc.msg} at char {exc.pos}") from exc
        except (ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            raise OutputError(f"output is not JSON: {reason}") from exc
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            raise OutputError(
                f"output does not validate: {error.message[:200]}", loc=tuple(error.absolute_path)
            )
        return value

    return OutputSpec(constraint, validate, schema)


@output_spec.register
def _path_spec(target: Path) -> OutputSpec:
    return _dict_spec(load_schema_file(target))


@output_spec.register
def _regex_spec(target: Regex) -> OutputSpec:
    try:
        compiled = re.compile(target.pattern)
    except re.error as exc:
        raise SchemaDefinitionError(f"invalid regex: {exc}") from exc

    def validate(text: str) -> str:
        if compiled.fullmatch(text) is None:
            raise OutputError(f"output does not match /{target.pattern}/")
        return text

    return OutputSpec(Constraint.regex(target.pattern), validate)


@output_spec.register
def _choice_spec(target: Choice) -> OutputSpec:
    if not target.options:
        raise ConfigError("Choice needs at least one option")
    pattern = "|".join(_escape(option) for option in target.options)

    def validate(text: str) -> str:
        if text not in target.options:
            raise OutputError(f"output {text[:80]!r} is not one of {list(target.options)}")
        return text

    return OutputSpec(Constraint.regex(f"({pattern})"), validate)


def _escape(text: str) -> str:
    """Escape for the Rust-regex dialect the engines share (Python's re.escape over-escapes)."""
    return "".join(f"\\{c}" if c in _REGEX_META else c for c in text)


def load_schema_file(path: Path) -> dict[str, Any]:
    """Read a JSON Schema file; any problem is a ``SchemaDefinitionError`` naming the file."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaDefinitionError(f"cannot read schema: {exc.strerror}", file=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise SchemaDefinitionError(
            f"schema is not JSON: {exc.msg}", file=str(path), line=exc.lineno
        ) from exc
    if not isinstance(value, dict):
        raise SchemaDefinitionError("a JSON Schema file must hold an object", file=str(path))
    return value
