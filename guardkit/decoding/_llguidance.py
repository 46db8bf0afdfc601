"""llguidance: the first engine of the chain (Earley parser + lazy lexer, ~1 ms compiles).

Compact JSON (no optional whitespace), ``additionalProperties`` as the schema says. In strict
mode an unimplemented keyword is a compile error; the ``lenient`` variant drops such keywords
from the grammar and reports them, and treats ``oneOf`` as ``anyOf`` (exclusivity is left to
the final validation), which is how the chain builds its relaxed grammar.
"""

from __future__ import annotations

import re
from typing import Any

import llguidance
import llguidance.hf
import numpy as np
from numpy.typing import NDArray

from guardkit.decoding._base import BitmaskAddress, Constraint, EngineError, Grammar, Matcher
from guardkit.decoding._schema_walk import keyword_paths
from guardkit.decoding._vocab import Vocab

__all__ = ["LlguidanceBackend"]

_LIMITS = llguidance.LLParserLimits(max_grammar_size=200_000, initial_lexer_fuel=1_000_000)
# What an llguidance error message says -> the feature it names (first match wins).
_FEATURES: dict[re.Pattern[str], str] = {
    re.compile(r"Unimplemented keys: \[(?P<x>[^\]]*)\]"): r"keyword=\g<x>",
    re.compile(r"oneOf constraints are not supported"): "keyword=oneOf",
    re.compile(r"min/maxProperties only supported"): "keyword=minProperties/maxProperties",
    re.compile(r"Unknown format: (?P<x>\S+)"): r"format=\g<x>",
    re.compile(r"(?P<x>lookaround|backreference)", re.IGNORECASE): r"regex=\g<x>",
    re.compile(r"(?P<x>regex)", re.IGNORECASE): "regex",
    re.compile(r"(?P<x>too (large|big|many)|limit|fuel)", re.IGNORECASE): "size",
}


def feature_of(message: str) -> str:
    """The feature an llguidance message names, e.g. ``keyword=not`` or ``format=foo``."""
    for pattern, template in _FEATURES.items():
        found = pattern.search(message)
        if found:
            return found.expand(template).replace('"', "")
    return message.splitlines()[0][:80] if message else "unknown"


def _tokenizer(vocab: Vocab) -> Any:
    return llguidance.hf.from_tokenizer(vocab.hf, n_vocab=vocab.size, eos_token=vocab.eos_ids[0])


class _LlgMatcher:
    def __init__(self, matcher: Any) -> None:
        self._m = matcher
        self._address = BitmaskAddress()

    def fill_bitmask(self, bitmask: NDArray[np.int32]) -> None:
        self._m.unsafe_compute_mask_ptr(self._address(bitmask), bitmask.nbytes)

    def consume(self, token: int) -> bool:
        return bool(self._m.consume_token(token))


class _LlgGrammar:
    def __init__(self, template: Any, relaxed: list[str]) -> None:
        self._template = template
        self.relaxed = relaxed

    def matcher(self) -> Matcher:
        return _LlgMatcher(self._template.deep_copy())


class LlguidanceBackend:
    """Compiles JSON Schemas and regexes with llguidance."""

    def __init__(self, name: str = "llguidance", *, lenient: bool = False) -> None:
        self.name = name
        self.lenient = lenient
        self._options: dict[str, Any] = {
            "whitespace_flexible": False,
            "lenient": lenient,
            "coerce_one_of": lenient,
        }

    def compile(self, constraint: Constraint, vocab: Vocab) -> Grammar:
        tokenizer = vocab.state("llguidance", _tokenizer)
        if constraint.kind == "json_schema":
            grammar = llguidance.LLMatcher.grammar_from_json_schema(
                constraint.source,
                overrides=self._options,  # type: ignore[arg-type]
            )
        else:
            grammar = llguidance.LLMatcher.grammar_from_regex(constraint.source)
        try:
            template = llguidance.LLMatcher(tokenizer, grammar, log_level=0, limits=_LIMITS)
        except ValueError as exc:
            raise EngineError(self.name, feature_of(str(exc)), str(exc)) from exc
        if template.is_error():
            message = template.get_error()
            raise EngineError(self.name, feature_of(message), message)
        return _LlgGrammar(template, self._relaxed(constraint, template.get_grammar_warnings()))

    def _relaxed(self, constraint: Constraint, warnings: list[str]) -> list[str]:
        """Where the dropped keywords were, as ``"<pointer>:<keyword>"``."""
        if not (self.lenient or warnings):
            return []  # the usual case: no need to parse the schema again
        schema = constraint.schema_dict if constraint.kind == "json_schema" else {}
        out = [f"{p}->anyOf" for p in keyword_paths(schema, "oneOf")] if self.lenient else []
        for warning in warnings:
            feature = feature_of(warning)
            kind, _, names = feature.partition("=")
            if kind == "keyword":
                for name in names.split(","):
                    out.extend(keyword_paths(schema, name.strip()) or [f"/:{name.strip()}"])
            else:
                out.append(f"/:{feature}")
        return sorted(set(out))
