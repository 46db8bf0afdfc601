"""The fast metaschema check gives ``check_schema``'s verdict, draft by draft."""

from __future__ import annotations

import jsonschema
import numpy as np
import pytest

from guardkit.decoding import Constraint, EngineChain
from guardkit.decoding import chain as chain_module
from guardkit.decoding._base import BitmaskAddress
from guardkit.decoding._metaschema import _meta_validator, first_error
from guardkit.errors import SchemaDefinitionError

D2020 = "https://json-schema.org/draft/2020-12/schema"
D4 = "http://json-schema.org/draft-04/schema#"
D7 = "http://json-schema.org/draft-07/schema#"

SCHEMAS = [
    True,
    {},
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}, "required": ["a"]},
    {"type": "nope"},
    {"type": ["string", "null"], "maxLength": -1},
    {"properties": {"$ref": {"type": "string"}, "$dynamicRef": {"const": 1}}},
    {"$defs": {"x": {"type": "string"}}, "$ref": "#/$defs/x"},
    {"$defs": {"x": {"type": 5}}},
    {"definitions": {"x": {"minimum": "zero"}}},
    {"definitions": {"x": {"type": "string"}}, "items": {"$ref": "#/definitions/x"}},
    {"dependencies": {"a": ["b"], "c": {"required": ["d"]}}},
    {"dependencies": {"a": [1]}},
    {"dependentRequired": {"a": ["b", "b"]}},
    {"dependentSchemas": {"a": {"type": "bad"}}},
    {"prefixItems": [{"type": "string"}], "items": False, "contains": {"const": 1}},
    {"prefixItems": {"type": "string"}},
    {"anyOf": []},
    {"oneOf": [{"type": "string"}, {"not": {"enum": "x"}}]},
    {"if": {"const": 1}, "then": {"required": "a"}},
    {"unevaluatedProperties": {"type": "wrong"}},
    {"pattern": "[a-"},
    {"patternProperties": {"(": {}}},
    {"propertyNames": {"pattern": "^[a-z]+$"}, "format": "email"},
    {"$ref": "not a uri reference because of spaces and ^"},
    {"$anchor": "1bad"},
    {"contentSchema": {"type": 3}},
    {"$schema": 1.5, "type": "string"},
    {"$schema": D2020, "type": "object", "properties": {"a": {"type": "array", "minItems": -2}}},
    {"$schema": D4, "type": "object", "properties": {"a": {"type": "integer", "minimum": 1}}},
    {"$schema": D4, "exclusiveMinimum": 3},
    {"$schema": D4, "required": []},
    {"$schema": D7, "if": {"type": "string"}, "then": {"minLength": 2}},
    {"$schema": D7, "contains": {"type": "nah"}},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_same_verdict_as_check_schema(schema):
    declared = schema.get("$schema", "") if isinstance(schema, dict) else ""
    cls = jsonschema.validators.validator_for(schema if isinstance(declared, str) else {})
    try:
        cls.check_schema(schema)
        expected_valid = isinstance(declared, str)
    except jsonschema.SchemaError:
        expected_valid = False
    assert (first_error(schema) is None) == expected_valid


def test_draft_2020_12_is_checked_against_the_flattened_metaschema():
    validator = _meta_validator(jsonschema.Draft202012Validator)
    assert validator.schema["$id"] == "urn:guardkit:metaschema:2020-12"
    assert "allOf" not in validator.schema
    assert _meta_validator(jsonschema.Draft202012Validator) is validator  # built once


def test_invalid_schema_error_points_at_the_field(vocab):
    schema = {"type": "object", "properties": {"a": {"type": "array", "minItems": -2}}}
    with pytest.raises(SchemaDefinitionError) as info:
        EngineChain(["llguidance"]).compile(Constraint.json_schema(schema), vocab)
    assert info.value.code == "schema_invalid"
    assert info.value.loc == ("properties", "a", "minItems")


def test_non_string_dollar_schema_is_a_schema_error(vocab):
    with pytest.raises(SchemaDefinitionError) as info:
        EngineChain(["llguidance"]).compile(Constraint.json_schema({"$schema": 2}), vocab)
    assert info.value.loc == ("$schema",)


def test_a_valid_schema_is_walked_once_and_an_invalid_one_every_time(monkeypatch):
    walks: list[object] = []

    def counting(schema):
        walks.append(schema)
        return first_error(schema)

    monkeypatch.setattr(chain_module, "first_error", counting)
    valid = Constraint.json_schema({"type": "object", "title": "walked once"})
    invalid = Constraint.json_schema({"type": "object", "minProperties": -1})
    for _ in range(3):
        chain_module.check_schema(valid)
        with pytest.raises(SchemaDefinitionError):
            chain_module.check_schema(invalid)
    assert len(walks) == 4  # the valid one once, the invalid one each of three times


def test_bitmask_address_follows_the_array():
    address = BitmaskAddress()
    first, second = np.zeros(4, dtype=np.int32), np.zeros(4, dtype=np.int32)
    assert address(first) == first.ctypes.data
    assert address(first) == first.ctypes.data
    assert address(second) == second.ctypes.data
