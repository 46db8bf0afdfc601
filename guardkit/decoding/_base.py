"""The contract every decoding engine implements, and the records the chain returns.

An engine turns a ``Constraint`` into a ``Grammar`` once (the expensive part, cached by the
chain); a grammar hands out fresh ``Matcher`` objects, one per generation, which write the
allowed-token bitmask and consume the sampled token. Masks are packed ``int32`` bitmasks
(bit ``i % 32`` of word ``i // 32`` set = token ``i`` allowed), the format llguidance, xgrammar
and outlines-core all write natively, so no engine pays a conversion per token.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from guardkit.decoding._schema_walk import depth
from guardkit.decoding._vocab import Vocab
from guardkit.errors import SchemaDefinitionError

__all__ = [
    "MAX_SCHEMA_DEPTH",
    "Backend",
    "BitmaskAddress",
    "Constraint",
    "DecodingInfo",
    "EngineError",
    "Grammar",
    "Matcher",
    "allocate_bitmask",
    "bitmask_allows",
]


MAX_SCHEMA_DEPTH = 128
"""Nesting of JSON containers beyond which a schema is refused (validators recurse per level)."""


class EngineError(SchemaDefinitionError):
    """An engine cannot compile a constraint; names the engine and the feature it lacks."""

    code = "schema_unsupported"

    def __init__(self, engine: str, feature: str, message: str) -> None:
        super().__init__(f"{engine} cannot compile the schema: {message}", hint=feature)
        self.engine = engine
        self.feature = feature
        self.detail = message


class Constraint(BaseModel):
    """What the output must match: a JSON Schema, or a regex (choices become a regex)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["json_schema", "regex"]
    source: str = Field(description="canonical JSON of the schema, or the regex")

    @classmethod
    def json_schema(cls, schema: dict[str, Any]) -> Constraint:
        """Keys keep their order: engines emit properties in the order the schema lists them.

        Depth is checked first, without recursion: a pathologically deep schema must fail
        typed and fast, not with a ``RecursionError`` from the JSON encoder.
        """
        if depth(schema) > MAX_SCHEMA_DEPTH:
            raise SchemaDefinitionError(
                f"schema nested deeper than {MAX_SCHEMA_DEPTH} levels", hint="chain: depth"
            )
        return cls(kind="json_schema", source=json.dumps(schema, ensure_ascii=False))

    @classmethod
    def regex(cls, pattern: str) -> Constraint:
        return cls(kind="regex", source=pattern)

    @property
    def schema_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.source)
        return value

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.kind}\0{self.source}".encode()).hexdigest()


class DecodingInfo(BaseModel):
    """How an output was constrained: for the GuardReport.

    ``engine`` is the engine whose masks were applied (``"unconstrained"`` when none could
    compile, so only validate-and-reask protects the output); ``relaxed`` lists the keywords
    left out of the grammar (enforced only by the final validation); ``fallbacks`` says why
    each earlier engine was skipped; ``capped`` lists the strings a local model was held to a
    ``maxLength`` (a tightening: every output still satisfies the original schema).
    """

    model_config = ConfigDict(frozen=True)

    engine: str
    relaxed: list[str] = Field(default_factory=list)
    compile_ms: float = Field(ge=0.0)
    cache_hit: bool = False
    fallbacks: list[str] = Field(default_factory=list)
    capped: list[str] = Field(default_factory=list)


class Matcher(Protocol):
    """The state of one constrained generation."""

    def fill_bitmask(self, bitmask: NDArray[np.int32]) -> None:
        """Write the tokens allowed next (EOS included once the output may end)."""

    def consume(self, token: int) -> bool:
        """Advance by one token; ``False`` when the token is not allowed."""


class Grammar(Protocol):
    """A compiled constraint, shared between threads; each generation takes its own matcher.

    ``relaxed`` lists what the grammar leaves out (``"<pointer>:<keyword>"``).
    """

    relaxed: list[str]

    def matcher(self) -> Matcher:
        """A fresh matcher at the start of the output."""


class Backend(Protocol):
    """One decoding engine. ``name`` is its registry key."""

    name: str

    def compile(self, constraint: Constraint, vocab: Vocab) -> Grammar:
        """Compile or raise ``EngineError`` naming the unsupported feature."""


def allocate_bitmask(vocab_size: int) -> NDArray[np.int32]:
    return np.zeros((vocab_size + 31) // 32, dtype=np.int32)


def bitmask_allows(bitmask: NDArray[np.int32], token: int) -> bool:
    return bool((int(bitmask[token >> 5]) >> (token & 31)) & 1)


class BitmaskAddress:
    """The address of the bitmask a matcher writes, looked up once per array.

    ``ndarray.ctypes.data`` costs ~3 us a call, a fifth of an average llguidance mask, and a
    generation writes into the same array every token. Holding the array keeps it alive, so
    the cached address cannot go stale.
    """

    def __init__(self) -> None:
        self._array: NDArray[np.int32] | None = None
        self._address = 0

    def __call__(self, bitmask: NDArray[np.int32]) -> int:
        if bitmask is not self._array:
            self._array, self._address = bitmask, bitmask.ctypes.data
        return self._address
