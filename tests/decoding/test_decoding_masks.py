"""Token-level mask checks with the real SmolLM2 tokenizer, per engine and through the chain."""

from __future__ import annotations

import json

import pytest

from guardkit.decoding import Choice, Constraint, EngineChain, Regex, output_spec
from guardkit.decoding._base import allocate_bitmask, bitmask_allows
from guardkit.decoding._llguidance import LlguidanceBackend
from guardkit.decoding._outlines_core import OutlinesCoreBackend
from guardkit.decoding._xgrammar import XgrammarBackend

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 8},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}
VALID = [{"name": "Ann", "age": 30}, {"name": "Bo", "age": 7, "tags": ["x", "y z"]}]
INVALID = [{"name": "Ann"}, {"name": "Ann", "age": "30"}, {"name": "Ann", "age": 3, "extra": 1}]
# Generous deadlines: the defaults (5 s) are for production; a loaded CI box must not flake.
BACKENDS = {
    "llguidance": LlguidanceBackend(),
    "outlines-core": OutlinesCoreBackend(timeout_s=600),
    "xgrammar": XgrammarBackend(timeout_s=600),
}
ENGINES = list(BACKENDS)


def forced(grammar, vocab, text: str) -> bool:
    """Every token of ``text`` allowed by the mask, then EOS (the MaskBench check)."""
    matcher = grammar.matcher()
    bitmask = allocate_bitmask(vocab.size)
    for token in [*vocab.encode(text), vocab.eos_ids[0]]:
        matcher.fill_bitmask(bitmask)
        if not bitmask_allows(bitmask, token):
            return False
        if token != vocab.eos_ids[0]:
            assert matcher.consume(token)
    return True


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("engine", ENGINES)
def test_valid_instances_pass_token_by_token(engine, vocab):
    grammar = BACKENDS[engine].compile(Constraint.json_schema(SCHEMA), vocab)
    for instance in VALID:
        assert forced(grammar, vocab, compact(instance)), instance


@pytest.mark.parametrize("engine", ENGINES)
def test_invalid_instances_are_masked_out(engine, vocab):
    grammar = BACKENDS[engine].compile(Constraint.json_schema(SCHEMA), vocab)
    for instance in INVALID:
        assert not forced(grammar, vocab, compact(instance)), instance


@pytest.mark.parametrize("engine", ENGINES)
def test_whitespace_is_compact(engine, vocab):
    grammar = BACKENDS[engine].compile(Constraint.json_schema(SCHEMA), vocab)
    assert not forced(grammar, vocab, '{"name": "Ann", "age": 30}')


def test_llguidance_enforces_integer_bounds(vocab):
    grammar = BACKENDS["llguidance"].compile(Constraint.json_schema(SCHEMA), vocab)
    assert not forced(grammar, vocab, '{"name":"Ann","age":151}')
    assert forced(grammar, vocab, '{"name":"Ann","age":150}')


def test_eos_only_once_the_output_is_complete(vocab):
    grammar = BACKENDS["llguidance"].compile(Constraint.json_schema(SCHEMA), vocab)
    matcher = grammar.matcher()
    bitmask = allocate_bitmask(vocab.size)
    for token in vocab.encode('{"name":"Ann"'):
        matcher.fill_bitmask(bitmask)
        assert not bitmask_allows(bitmask, vocab.eos_ids[0])
        matcher.consume(token)


def test_special_tokens_never_allowed_inside_a_string(vocab):
    grammar = BACKENDS["llguidance"].compile(Constraint.json_schema(SCHEMA), vocab)
    matcher = grammar.matcher()
    for token in vocab.encode('{"name":"'):
        matcher.consume(token)
    bitmask = allocate_bitmask(vocab.size)
    matcher.fill_bitmask(bitmask)
    im_start = vocab.hf.convert_tokens_to_ids("<|im_start|>")
    assert not bitmask_allows(bitmask, im_start)


@pytest.mark.parametrize("engine", ENGINES)
def test_choices(engine, vocab):
    spec = output_spec(Choice(options=("yes", "no", "a.b")))
    grammar = BACKENDS[engine].compile(spec.constraint, vocab)
    assert forced(grammar, vocab, "yes")
    assert forced(grammar, vocab, "a.b")
    assert not forced(grammar, vocab, "axb")
    assert not forced(grammar, vocab, "maybe")


@pytest.mark.parametrize("engine", ENGINES)
def test_regex(engine, vocab):
    grammar = BACKENDS[engine].compile(
        output_spec(Regex(pattern=r"[0-9]{3}-[a-z]+")).constraint, vocab
    )
    assert forced(grammar, vocab, "123-abc")
    assert not forced(grammar, vocab, "12-abc")


def test_chain_uses_llguidance_first_and_records_it(vocab):
    compiled = EngineChain().compile(Constraint.json_schema(SCHEMA), vocab)
    assert compiled.info.engine == "llguidance"
    assert compiled.info.relaxed == []
    assert compiled.info.fallbacks == []
    assert compiled.info.compile_ms >= 0


def test_chain_falls_back_and_says_why(vocab):
    schema = {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}
    compiled = EngineChain(["llguidance", "llguidance-relaxed"]).compile(
        Constraint.json_schema(schema), vocab
    )
    assert compiled.info.engine == "llguidance-relaxed"
    assert compiled.info.relaxed == ["/:uniqueItems"]
    assert compiled.info.fallbacks == ["llguidance: keyword=uniqueItems"]
    assert forced(compiled.grammar, vocab, "[1,1]")  # relaxed: the final validation decides
    with pytest.raises(Exception, match="non-unique"):
        output_spec(schema).validate("[1,1]")


def test_chain_with_no_engine_left_is_unconstrained(vocab):
    schema = {"type": "object", "not": {"required": ["a"]}}
    compiled = EngineChain(["llguidance"]).compile(Constraint.json_schema(schema), vocab)
    assert compiled.grammar is None
    assert compiled.info.engine == "unconstrained"
    assert compiled.info.fallbacks == ["llguidance: keyword=not"]


# One instance per keyword that breaks that keyword alone.
_BREAKS = {
    "minimum": ({"type": "integer", "minimum": 5}, "3"),
    "maximum": ({"type": "integer", "maximum": 5}, "7"),
    "exclusiveMinimum": ({"type": "integer", "exclusiveMinimum": 0}, "0"),
    "exclusiveMaximum": ({"type": "integer", "exclusiveMaximum": 3}, "3"),
    "multipleOf": ({"type": "integer", "multipleOf": 3}, "4"),
    "uniqueItems": ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "[1,1]"),
    "not": ({"type": "string", "not": {"const": "x"}}, '"x"'),
    "if": (
        {
            "type": "object",
            "properties": {"k": {"type": "string"}, "v": {"type": "integer"}},
            "required": ["k", "v"],
            "if": {"properties": {"k": {"const": "a"}}},
            "then": {"properties": {"v": {"minimum": 10}}},
        },
        '{"k":"a","v":1}',
    ),
    "contains": ({"type": "array", "items": {"type": "integer"}, "contains": {"const": 5}}, "[1]"),
    "minItems": ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, "[1]"),
    "maxLength": ({"type": "string", "maxLength": 2}, '"abc"'),
    "pattern": ({"type": "string", "pattern": "^a+$"}, '"b"'),
    "maxProperties": (
        {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "integer"}},
        '{"a":1,"b":2}',
    ),
    "propertyNames": (
        {
            "type": "object",
            "propertyNames": {"pattern": "^a"},
            "additionalProperties": {"type": "integer"},
        },
        '{"b":1}',
    ),
    "dependentRequired": (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "dependentRequired": {"a": ["b"]},
        },
        '{"a":1}',
    ),
}


@pytest.mark.parametrize("engine", ["outlines-core", "xgrammar"])
def test_what_an_engine_does_not_enforce_is_reported_as_relaxed(engine, vocab):
    """The engines' tables of keywords they compile but do not enforce are true: the grammar
    accepts an instance breaking exactly those, and reports them in ``relaxed``."""
    from guardkit.decoding import _outlines_core, _xgrammar

    table = {"outlines-core": _outlines_core.IGNORED, "xgrammar": _xgrammar.IGNORED}[engine]
    for keyword, (schema, broken) in _BREAKS.items():
        grammar = BACKENDS[engine].compile(Constraint.json_schema(schema), vocab)
        assert forced(grammar, vocab, broken) is (keyword in table), keyword
        assert any(r.endswith(f":{keyword}") for r in grammar.relaxed) is (keyword in table)
