"""Free strings get a ``maxLength`` for generation; the capped schema only narrows the original."""

from __future__ import annotations

import jsonschema

from guardkit.decoding._schema_walk import cap_strings

SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},  # a property named like a keyword is a name, not a keyword
        "day": {"type": "string", "format": "date"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "essay": {"type": "string", "minLength": 300},
        "short": {"type": "string", "maxLength": 5},
        "tags": {"type": "array", "items": {"type": "string"}},
        "pick": {"type": "string", "enum": ["a", "b"]},
    },
    "default": {"type": "string"},
    "$defs": {"note": {"type": "string"}},
}


def test_only_unbounded_free_strings_are_capped():
    capped, where = cap_strings(SCHEMA, 128)
    assert where == [
        "/$defs/note",
        "/properties/essay",
        "/properties/tags/items",
        "/properties/type",
    ]
    props = capped["properties"]
    assert props["type"]["maxLength"] == 128 and props["tags"]["items"]["maxLength"] == 128
    assert props["essay"]["maxLength"] == 300  # never below the schema's own minLength
    assert props["short"]["maxLength"] == 5
    for untouched in ("day", "code", "pick"):
        assert props[untouched] == SCHEMA["properties"][untouched]
    assert capped["default"] == {"type": "string"}  # data, not a subschema
    assert "maxLength" not in SCHEMA["properties"]["type"]  # the original is not modified


def test_every_instance_of_the_capped_schema_is_an_instance_of_the_original():
    capped, _ = cap_strings(SCHEMA, 4)
    instance = {"type": "abcd", "tags": ["x"], "essay": "e" * 300}
    assert jsonschema.Draft202012Validator(capped).is_valid(instance)
    assert jsonschema.Draft202012Validator(SCHEMA).is_valid(instance)
    too_long = {"type": "abcde"}
    assert not jsonschema.Draft202012Validator(capped).is_valid(too_long)
    assert jsonschema.Draft202012Validator(SCHEMA).is_valid(too_long)


def test_a_schema_without_free_strings_is_returned_equal():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert cap_strings(schema, 64) == (schema, [])
