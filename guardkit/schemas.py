"""One view of an output schema, whether it was given as a pydantic model or a JSON Schema.

The guard validates every output through this, so the two kinds behave the same: parse,
validate, report field errors with their ``loc``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import math
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from guardkit.errors import SchemaDefinitionError

__all__ = [
    "JSON_DECODER",
    "FieldError",
    "OutputSchema",
    "ecma_search",
    "finite_float",
    "import_object",
    "json_validator",
    "parse_json",
    "resolve_local_ref",
]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (a number must be finite)")


def finite_float(literal: str) -> float:
    """A JSON number as a float; one too large for a float ("1e400") is no number JSON data
    can carry here (it would read as infinity, and pass every bound)."""
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal} is too large for a number")
    return value


JSON_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=finite_float)
"""JSON as RFC 8259 has it. Python's ``json`` also reads ``NaN`` and ``Infinity``, which compare
false against every bound, so a schema's ``minimum`` would let them through."""


def parse_json(text: str) -> Any:
    """``text`` read by :data:`JSON_DECODER`. Raises ``ValueError`` (``json.JSONDecodeError``
    for syntax) or ``RecursionError``."""
    return JSON_DECODER.decode(text)


_END = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]])*\]|\$")
"""An escape, a character class, or ``$``: the ``$`` outside both is an end anchor."""


@functools.lru_cache(maxsize=1024)
def _ecma(pattern: str) -> re.Pattern[str]:
    """``pattern`` as JSON Schema reads it (ECMA-262): ``$`` ends the text, where Python's
    ``$`` also matches before a final newline ("ABC\\n" would match "^[A-Z]{3}$")."""
    return re.compile(_END.sub(lambda m: r"\Z" if m.group() == "$" else m.group(), pattern))


def ecma_search(pattern: str, text: str) -> bool:
    """Whether a JSON Schema ``pattern`` matches somewhere in ``text``."""
    return _ecma(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def json_validator(schema: Mapping[str, Any]) -> Any:
    """The jsonschema validator guardkit judges outputs with: the schema's own draft, with
    ``format`` checked (as far as the installed checkers go) and ``pattern`` read as JSON
    Schema reads it."""
    kind = jsonschema.validators.validator_for(schema)
    strict = jsonschema.validators.extend(kind, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    return strict(schema, format_checker=kind.FORMAT_CHECKER)


class FieldError(BaseModel):
    """One reason an output is invalid, at its place in the output."""

    model_config = ConfigDict(frozen=True)

    loc: tuple[str | int, ...]
    message: str
    type: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.loc) or "(root)"
        return f"{where}: {self.message}"


def import_object(path: str) -> Any:
    """Import ``package.module:Name`` (or ``package.module.Name``), failing with a clear error."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise SchemaDefinitionError(f"{path!r} is not an import path like 'package.module:Model'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SchemaDefinitionError(f"cannot import module {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise SchemaDefinitionError(f"module {module_name!r} has no attribute {attr!r}") from exc


_DATA_KEYWORDS = frozenset({"const", "default", "enum", "examples"})
"""Keywords whose value is data, never a subschema: a "$ref" there is a string."""


def _check_local_refs(schema: Mapping[str, Any]) -> None:
    """Every ``$ref`` to a place in the schema ("#/$defs/Item") must point at something: a
    typo would otherwise surface as an untyped error on the first output validated."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(schema, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if (
                isinstance(ref, str)
                and ref.startswith("#/")
                and resolve_local_ref(schema, ref) is None
            ):
                raise SchemaDefinitionError(f"unresolvable $ref {ref!r}", loc=(*loc, "$ref"))
            stack.extend(
                (v, (*loc, k))
                for k, v in node.items()
                if k not in _DATA_KEYWORDS
                and not (isinstance(v, dict) and "$id" in v)  # its own base: its refs are its
            )
        elif isinstance(node, list):
            stack.extend((v, (*loc, i)) for i, v in enumerate(node))


def resolve_local_ref(root: Any, ref: str) -> Any | None:
    """The subschema a local ``$ref`` ("#", "#/$defs/Item", escaped or numbered parts) points
    at in ``root``, or ``None`` where it points at nothing."""
    target: Any = root
    for raw in ref[2:].split("/") if ref != "#" else []:
        part = urllib.parse.unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return None
    return target


class OutputSchema:
    """A validated output schema: a pydantic model (parsed to instances) or a JSON Schema."""

    def __init__(
        self, *, model: type[BaseModel] | None = None, json_schema: Mapping[str, Any] | None = None
    ) -> None:
        if (model is None) == (json_schema is None):
            raise SchemaDefinitionError("give exactly one of a pydantic model or a JSON Schema")
        self.model = model
        self._adapter: TypeAdapter[Any] | None = TypeAdapter(model) if model is not None else None
        if json_schema is not None:
            json_schema = dict(json_schema)
            try:
                jsonschema.validators.validator_for(json_schema).check_schema(json_schema)
            except jsonschema.SchemaError as exc:
                loc = tuple(exc.absolute_path)
                raise SchemaDefinitionError(
                    f"not a valid JSON Schema: {exc.message}", loc=loc
                ) from exc
            except RecursionError as exc:
                raise SchemaDefinitionError("the JSON Schema is nested too deeply") from exc
            _check_local_refs(json_schema)
            self._schema = dict(json_schema)
            self._validator = json_validator(json_schema)
        else:
            assert model is not None
            self._schema = model.model_json_schema()
        self.sha256 = hashlib.sha256(
            json.dumps(self._schema, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()

    @classmethod
    def from_model_path(cls, path: str) -> OutputSchema:
        """Load a pydantic model by import path; raises at once if it cannot be imported."""
        obj = import_object(path)
        if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
            raise SchemaDefinitionError(f"{path!r} is not a pydantic model class")
        return cls(model=obj)

    @classmethod
    def from_file(cls, path: Path) -> OutputSchema:
        """Load a JSON Schema file; raises at once if it is missing or not a schema."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaDefinitionError(
                f"cannot read JSON Schema file: {exc.strerror}", file=str(path)
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaDefinitionError(
                f"not JSON: {exc.msg}", file=str(path), line=exc.lineno
            ) from exc
        if not isinstance(data, dict):
            raise SchemaDefinitionError("a JSON Schema must be an object", file=str(path))
        try:
            return cls(json_schema=data)
        except SchemaDefinitionError as exc:
            raise SchemaDefinitionError(exc.message, file=str(path), loc=exc.loc) from exc

    @property
    def name(self) -> str:
        """A short name for provider APIs that want one (letters, digits, ``_`` and ``-``)."""
        raw = (
            self.model.__name__
            if self.model is not None
            else str(self._schema.get("title", "output"))
        )
        cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in raw)
        return cleaned[:64] or "output"

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema, as given or as pydantic generates it."""
        return dict(self._schema)

    def validate_python(self, data: Any, *, strict: bool = False) -> tuple[Any, list[FieldError]]:
        """Validate parsed JSON data: the typed value, or the field errors that stop it."""
        if self._adapter is not None:
            try:
                return self._adapter.validate_json(json.dumps(data), strict=strict), []
            except ValidationError as exc:
                return None, [
                    FieldError(loc=tuple(e["loc"]), message=e["msg"], type=e["type"])
                    for e in exc.errors(include_url=False)
                ]
        errors = [
            FieldError(loc=tuple(e.absolute_path), message=e.message, type=str(e.validator))
            for e in sorted(self._validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
        ]
        return (None, errors) if errors else (data, [])

    def dump(self, value: Any) -> Any:
        """The JSON-ready form of a validated value."""
        if self._adapter is not None:
            return self._adapter.dump_python(value, mode="json")
        return value
