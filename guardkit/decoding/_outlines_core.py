"""outlines-core: JSON Schema -> regex -> token-level DFA index.

Compiles slowly (the index walks the whole vocabulary through the DFA: 0.1-10 s) and its
regexes fix the property order and ignore integer bounds, so it comes after llguidance; it
still compiles some schemas llguidance refuses. Compact JSON: empty whitespace pattern.
The index is built in a worker process (``_isolated``) under a deadline and a memory limit.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import outlines_core
from numpy.typing import NDArray
from outlines_core.json_schema import build_regex_from_schema

from guardkit.decoding._base import BitmaskAddress, Constraint, EngineError, Grammar, Matcher
from guardkit.decoding._isolated import Worker
from guardkit.decoding._schema_walk import ignored_paths
from guardkit.decoding._vocab import Vocab

__all__ = ["OutlinesCoreBackend"]

_MAX_REGEX_CHARS = 50_000


def worker_setup(arg: tuple[int, dict[bytes, list[int]]]) -> Any:
    """In the worker: the engine's vocabulary, built once."""
    eos, by_bytes = arg
    return outlines_core.Vocabulary(eos, by_bytes)


def worker_compile(vocabulary: Any, regex: str) -> Any:
    """In the worker: the index (pickled back to the caller)."""
    try:
        return outlines_core.Index(regex, vocabulary)
    except ValueError as exc:
        raise EngineError("outlines-core", "regex", str(exc).splitlines()[0]) from exc


def _worker(mem_bytes: int) -> Any:
    def build(vocab: Vocab) -> Worker:
        by_bytes: dict[bytes, list[int]] = {}
        for token, data in vocab.token_bytes.items():
            by_bytes.setdefault(data, []).append(token)
        setup_arg = (vocab.eos_ids[0], by_bytes)
        return Worker("outlines-core", __name__, "worker_setup", setup_arg, mem_bytes=mem_bytes)

    return build


class _OcMatcher:
    def __init__(self, guide: Any) -> None:
        self._guide = guide
        self._address = BitmaskAddress()

    def fill_bitmask(self, bitmask: NDArray[np.int32]) -> None:
        self._guide.write_mask_into(self._address(bitmask), bitmask.size, bitmask.itemsize)

    def consume(self, token: int) -> bool:
        try:
            self._guide.advance(token, return_tokens=False)
        except ValueError:
            return False
        return True


IGNORED = frozenset(
    {
        "minimum",  # integers' bounds; numbers' are enforced, yet listed too (rather too much)
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "uniqueItems",
        "not",
        "if",
        "contains",
        "maxProperties",
        "propertyNames",
        "dependentRequired",
    }
)
"""Keywords outlines-core compiles without enforcing (its grammar accepts an instance that
breaks them; ``tests/decoding/test_decoding_masks.py`` checks each): reported as relaxed."""


class _OcGrammar:
    def __init__(self, index: Any, relaxed: list[str]) -> None:
        self._index = index
        self.relaxed = relaxed

    def matcher(self) -> Matcher:
        return _OcMatcher(outlines_core.Guide(self._index))


class OutlinesCoreBackend:
    """Compiles JSON Schemas and regexes with outlines-core, within time and memory limits."""

    def __init__(
        self, name: str = "outlines-core", *, timeout_s: float = 5.0, mem_mib: int = 4096
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.mem_bytes = mem_mib << 20

    def compile(self, constraint: Constraint, vocab: Vocab) -> Grammar:
        regex = constraint.source
        if constraint.kind == "json_schema":
            try:
                regex = build_regex_from_schema(constraint.source, "")
            except (ValueError, TypeError) as exc:
                raise EngineError(self.name, _feature(str(exc)), str(exc).splitlines()[0]) from exc
        if len(regex) > _MAX_REGEX_CHARS:
            raise EngineError(self.name, "size", f"regex of {len(regex)} chars is too large")
        worker: Worker = vocab.state("outlines-core-worker", _worker(self.mem_bytes))
        relaxed = (
            ignored_paths(json.loads(constraint.source), IGNORED)
            if constraint.kind == "json_schema"
            else []
        )
        return _OcGrammar(worker.call("worker_compile", regex, self.timeout_s), relaxed)


def _feature(message: str) -> str:
    """outlines-core names the schema fragment it cannot handle; keep the keyword."""
    if message.startswith("Format "):
        return f"format={message.split()[1]}"
    if "Unsupported JSON Schema structure" in message:
        return "structure=" + message.split("structure", 1)[1].strip().split("\n")[0][:60]
    return message.splitlines()[0][:80] if message else "unknown"
