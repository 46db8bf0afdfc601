"""The engine chain: the first engine that compiles a constraint is the one whose masks apply.

Order (``DEFAULT_CHAIN``): llguidance (fast and sound), outlines-core, xgrammar (when
installed), then ``llguidance-relaxed`` (the keywords no engine compiled are dropped from
the grammar and recorded), then no grammar at all: the output is only validated, and a
failure is reasked. Whatever the engine, the output is validated against the original schema
afterwards, so an engine whose masks let an invalid instance through costs a reask, never an
invalid result.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guardkit.decoding._base import (
    Backend,
    Constraint,
    DecodingInfo,
    EngineError,
    Grammar,
)
from guardkit.decoding._cache import LRUCache
from guardkit.decoding._metaschema import first_error
from guardkit.decoding._vocab import Vocab
from guardkit.errors import SchemaDefinitionError, UnknownNameError

__all__ = [
    "DEFAULT_CHAIN",
    "ENGINES",
    "UNCONSTRAINED",
    "Compiled",
    "EngineChain",
    "backend",
]

UNCONSTRAINED = "unconstrained"
MAX_SCHEMA_CHARS = 1_000_000


def _lazy(module: str, cls: str, *args: str, **kwargs: bool) -> Callable[[], Backend]:
    """Import an engine only when first used: xgrammar pulls in triton, slow to import."""

    def make() -> Backend:
        try:
            mod = importlib.import_module(f"guardkit.decoding.{module}")
        except ImportError as exc:
            raise EngineError(args[0], "not-installed", f"{exc.name} is not installed") from exc
        engine: Backend = getattr(mod, cls)(*args, **kwargs)
        return engine

    return make


ENGINES: dict[str, Callable[[], Backend]] = {
    "llguidance": _lazy("_llguidance", "LlguidanceBackend", "llguidance"),
    "outlines-core": _lazy("_outlines_core", "OutlinesCoreBackend", "outlines-core"),
    "xgrammar": _lazy("_xgrammar", "XgrammarBackend", "xgrammar"),
    "llguidance-relaxed": _lazy(
        "_llguidance", "LlguidanceBackend", "llguidance-relaxed", lenient=True
    ),
}
DEFAULT_CHAIN: tuple[str, ...] = ("llguidance", "outlines-core", "xgrammar", "llguidance-relaxed")
_BACKENDS: dict[str, Backend] = {}


def backend(name: str) -> Backend:
    """The engine registered as ``name`` (one instance per process)."""
    if name not in ENGINES:
        raise UnknownNameError("decoding engine", name, ENGINES)
    if name not in _BACKENDS:
        _BACKENDS[name] = ENGINES[name]()
    return _BACKENDS[name]


@dataclass(frozen=True)
class Compiled:
    """A chain's answer: the grammar to apply (``None`` = unconstrained) and how it was got."""

    grammar: Grammar | None
    info: DecodingInfo


# Schemas that passed the check, by sha256: building an output spec and compiling it both
# check, and the second should cost a lookup, not another check. Failures are not kept.
_VALID_SCHEMAS: LRUCache[None] = LRUCache(1024)


def check_schema(constraint: Constraint) -> None:
    """Refuse what no engine should be given: too large or not a JSON Schema (too deep is
    refused by ``Constraint.json_schema``)."""
    if constraint.kind != "json_schema":
        return
    if len(constraint.source) > MAX_SCHEMA_CHARS:
        raise SchemaDefinitionError(
            f"schema of {len(constraint.source)} chars exceeds {MAX_SCHEMA_CHARS}",
            hint="chain: size",
        )
    _VALID_SCHEMAS.get_or_build(constraint.sha256, lambda: _check_metaschema(constraint))


def _check_metaschema(constraint: Constraint) -> None:
    schema = constraint.schema_dict
    if not isinstance(schema, dict | bool):
        raise SchemaDefinitionError("a JSON Schema must be an object or a boolean")
    try:
        error = first_error(schema)
    except RecursionError as exc:
        raise SchemaDefinitionError(
            "schema too deeply nested to check", hint="chain: depth"
        ) from exc
    if error is not None:
        raise SchemaDefinitionError(
            f"invalid JSON Schema: {error.message}", loc=tuple(error.absolute_path)
        ) from error


class EngineChain:
    """Compile through ``engines`` in order; results are cached per schema and tokenizer."""

    def __init__(self, engines: Sequence[str] = DEFAULT_CHAIN, *, cache_size: int = 256) -> None:
        for name in engines:
            if name not in ENGINES:
                raise UnknownNameError("decoding engine", name, ENGINES)
        self.engines = tuple(engines)
        self.cache: LRUCache[Compiled] = LRUCache(cache_size)

    def compile(self, constraint: Constraint, vocab: Vocab) -> Compiled:
        """The first engine's grammar that compiles; the cached one when seen before."""
        key = (self.engines, constraint.sha256, vocab.id)
        compiled, hit = self.cache.get_or_build(key, lambda: self._compile(constraint, vocab))
        if hit:
            return Compiled(compiled.grammar, compiled.info.model_copy(update={"cache_hit": True}))
        return compiled

    def _compile(self, constraint: Constraint, vocab: Vocab) -> Compiled:
        start = time.perf_counter()
        check_schema(constraint)  # a lookup when the output spec already checked it
        fallbacks: list[str] = []
        for name in self.engines:
            try:
                grammar = backend(name).compile(constraint, vocab)
            except EngineError as exc:
                fallbacks.append(f"{exc.engine}: {exc.feature}")
                continue
            info = DecodingInfo(
                engine=name,
                relaxed=grammar.relaxed,
                compile_ms=(time.perf_counter() - start) * 1000,
                fallbacks=fallbacks,
            )
            return Compiled(grammar, info)
        elapsed = (time.perf_counter() - start) * 1000
        info = DecodingInfo(engine=UNCONSTRAINED, compile_ms=elapsed, fallbacks=fallbacks)
        return Compiled(None, info)
