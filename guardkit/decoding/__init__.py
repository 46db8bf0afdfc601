"""Schema enforcement while the model generates: an engine chain over token masks.

``EngineChain.compile(constraint, vocab)`` picks the first engine that compiles
(llguidance, outlines-core, xgrammar, then a relaxed llguidance grammar, else none) and
records it in a ``DecodingInfo``; ``output_spec`` turns an output type into the constraint
and the final validation; ``to_openai_strict`` / ``to_anthropic_tool`` serve hosted providers.
"""

from guardkit.decoding._base import (
    Backend,
    Constraint,
    DecodingInfo,
    EngineError,
    Grammar,
    Matcher,
)
from guardkit.decoding._vocab import Vocab
from guardkit.decoding.chain import Compiled, EngineChain, backend
from guardkit.decoding.outputs import Choice, OutputSpec, Regex, load_schema_file, output_spec
from guardkit.decoding.provider_schema import StrictSchema, to_anthropic_tool, to_openai_strict

__all__ = [
    "Backend",
    "Choice",
    "Compiled",
    "Constraint",
    "DecodingInfo",
    "EngineChain",
    "EngineError",
    "Grammar",
    "Matcher",
    "OutputSpec",
    "Regex",
    "StrictSchema",
    "Vocab",
    "backend",
    "load_schema_file",
    "output_spec",
    "to_anthropic_tool",
    "to_openai_strict",
]
