"""xgrammar: pushdown automaton with precomputed context-independent tokens.

Compiles more keywords than llguidance, but some of its masks admit invalid instances
(the final validation catches them), so it comes after llguidance and outlines-core.
Compact JSON (``any_whitespace=False``, ``separators=(",", ":")``); ``strict_mode=False`` so
that extra properties are forbidden only where the schema says so. Compiles run in a worker
process (``_isolated``) under a deadline and a memory limit; the grammar comes back as JSON.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
import xgrammar
from numpy.typing import NDArray

from guardkit.decoding._base import Constraint, Grammar, Matcher
from guardkit.decoding._isolated import Worker
from guardkit.decoding._schema_walk import ignored_paths
from guardkit.decoding._vocab import Vocab

__all__ = ["XgrammarBackend"]


def worker_setup(tokenizer_json: str) -> Any:
    """In the worker: the grammar compiler for this tokenizer, built once."""
    info = xgrammar.TokenizerInfo.deserialize_json(tokenizer_json)
    return xgrammar.GrammarCompiler(info, max_threads=1, cache_enabled=False)


def worker_compile(compiler: Any, constraint: tuple[str, str]) -> str:
    """In the worker: the compiled grammar, serialised."""
    kind, source = constraint
    if kind == "json_schema":
        compiled = compiler.compile_json_schema(
            source, any_whitespace=False, separators=(",", ":"), strict_mode=False
        )
    else:
        compiled = compiler.compile_regex(source)
    return str(compiled.serialize_json())


def _state(mem_bytes: int) -> Any:
    def build(vocab: Vocab) -> tuple[Any, Worker]:
        info = xgrammar.TokenizerInfo.from_huggingface(
            vocab.hf, vocab_size=vocab.size, stop_token_ids=list(vocab.eos_ids)
        )
        worker = Worker(
            "xgrammar", __name__, "worker_setup", info.serialize_json(), mem_bytes=mem_bytes
        )
        return info, worker

    return build


class _XgrMatcher:
    def __init__(self, matcher: Any) -> None:
        self._m = matcher
        self._view: tuple[NDArray[np.int32], torch.Tensor] | None = None

    def fill_bitmask(self, bitmask: NDArray[np.int32]) -> None:
        if self._view is None or self._view[0] is not bitmask:  # one tensor view per array
            self._view = (bitmask, torch.from_numpy(bitmask.reshape(1, -1)))
        self._m.fill_next_token_bitmask(self._view[1], 0)

    def consume(self, token: int) -> bool:
        return bool(self._m.accept_token(token))


IGNORED = frozenset({"uniqueItems", "not", "if", "contains", "dependentRequired"})
"""Keywords xgrammar compiles without enforcing (``tests/decoding/test_decoding_masks.py``
checks each): reported as relaxed."""


class _XgrGrammar:
    def __init__(self, compiled: Any, relaxed: list[str]) -> None:
        self._compiled = compiled
        self.relaxed = relaxed

    def matcher(self) -> Matcher:
        return _XgrMatcher(xgrammar.GrammarMatcher(self._compiled))


class XgrammarBackend:
    """Compiles JSON Schemas and regexes with xgrammar, within time and memory limits."""

    def __init__(
        self, name: str = "xgrammar", *, timeout_s: float = 5.0, mem_mib: int = 4096
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.mem_bytes = mem_mib << 20

    def compile(self, constraint: Constraint, vocab: Vocab) -> Grammar:
        info, worker = vocab.state("xgrammar-worker", _state(self.mem_bytes))
        payload = worker.call(
            "worker_compile", (constraint.kind, constraint.source), self.timeout_s
        )
        relaxed = (
            ignored_paths(json.loads(constraint.source), IGNORED)
            if constraint.kind == "json_schema"
            else []
        )
        return _XgrGrammar(xgrammar.CompiledGrammar.deserialize_json(payload, info), relaxed)
