"""Bad input: invalid schemas, unsupported keywords, deep recursion, huge schemas."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from guardkit.decoding import (
    Constraint,
    EngineChain,
    EngineError,
    backend,
    load_schema_file,
    output_spec,
)
from guardkit.errors import OutputError, SchemaDefinitionError, UnknownNameError


@pytest.mark.parametrize(
    "schema",
    [{"type": "nope"}, {"properties": 3}, {"required": "a"}, {"minimum": "zero"}],
)
def test_invalid_json_schema_is_refused_before_any_engine(schema, vocab):
    with pytest.raises(SchemaDefinitionError) as info:
        EngineChain().compile(Constraint.json_schema(schema), vocab)
    assert info.value.code == "schema_invalid"


@pytest.mark.parametrize(
    ("schema", "feature"),
    [
        ({"type": "object", "not": {"required": ["a"]}}, "keyword=not"),
        ({"type": "array", "uniqueItems": True}, "keyword=uniqueItems"),
        ({"type": "string", "format": "no-such-format"}, "format=no-such-format"),
    ],
)
def test_unsupported_keyword_names_the_engine_and_feature(schema, feature, vocab):
    with pytest.raises(EngineError) as info:
        backend("llguidance").compile(Constraint.json_schema(schema), vocab)
    assert info.value.engine == "llguidance"
    assert info.value.feature == feature
    assert info.value.code == "schema_unsupported"
    assert isinstance(info.value, SchemaDefinitionError)


def test_outlines_core_names_its_feature(vocab):
    with pytest.raises(EngineError) as info:
        backend("outlines-core").compile(
            Constraint.json_schema({"type": "string", "format": "no-such-format"}), vocab
        )
    assert (info.value.engine, info.value.feature) == ("outlines-core", "format=no-such-format")


def _nested(levels: int) -> dict:
    schema: dict = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def test_deep_nesting_is_a_typed_error_in_bounded_time(vocab):
    start = time.perf_counter()
    with pytest.raises(SchemaDefinitionError, match="deeper than"):
        EngineChain().compile(Constraint.json_schema(_nested(5000)), vocab)
    assert time.perf_counter() - start < 5


def test_recursive_ref_compiles(vocab):
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["v"],
            }
        },
        "$ref": "#/$defs/node",
    }
    compiled = EngineChain().compile(Constraint.json_schema(tree), vocab)
    assert compiled.info.engine == "llguidance"


def test_huge_schema_is_a_typed_error_in_bounded_time(vocab):
    huge = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string", "description": "x" * 200} for i in range(6000)},
    }
    start = time.perf_counter()
    with pytest.raises(SchemaDefinitionError, match="exceeds"):
        EngineChain().compile(Constraint.json_schema(huge), vocab)
    assert time.perf_counter() - start < 5


def test_large_enum_within_limits_compiles_or_fails_typed_in_bounded_time(vocab):
    schema = {"type": "string", "enum": [f"value-{i}" for i in range(20000)]}
    start = time.perf_counter()
    compiled = EngineChain(["llguidance", "outlines-core"]).compile(
        Constraint.json_schema(schema), vocab
    )
    assert compiled.info.engine in {"llguidance", "outlines-core", "unconstrained"}
    assert time.perf_counter() - start < 30


def test_unknown_engine_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        EngineChain(["llguidance", "magic"])
    assert info.value.code == "unknown_name"
    assert "xgrammar" in info.value.known


def test_schema_file_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": ', encoding="utf-8")
    with pytest.raises(SchemaDefinitionError) as info:
        load_schema_file(bad)
    assert info.value.file == str(bad)
    with pytest.raises(SchemaDefinitionError):
        load_schema_file(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(SchemaDefinitionError, match="object"):
        load_schema_file(tmp_path / "list.json")


def test_final_validation_is_typed_with_the_location():
    spec = output_spec({"type": "object", "properties": {"a": {"type": "integer"}}})
    assert spec.validate('{"a": 1}') == {"a": 1}
    with pytest.raises(OutputError) as info:
        spec.validate('{"a": "x"}')
    assert info.value.loc == ("a",)
    with pytest.raises(OutputError, match="not JSON"):
        spec.validate('{"a": ')


def test_unsupported_output_type_is_a_config_error():
    from guardkit.errors import ConfigError

    with pytest.raises(ConfigError):
        output_spec(3.5)
