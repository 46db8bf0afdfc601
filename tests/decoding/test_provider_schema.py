"""OpenAI strict / Anthropic tool transforms on pydantic-generated and hand-written schemas."""

from __future__ import annotations

from typing import Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from guardkit.decoding import StrictSchema, to_anthropic_tool, to_openai_strict
from guardkit.errors import SchemaDefinitionError


class Address(BaseModel):
    city: str
    zip: str | None = None


class Person(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(ge=0)
    tags: set[str] = set()
    kind: Literal["a", "b"] = "a"
    address: Address | None = None
    friends: list[Person] = []


def _objects(node, found=None):
    found = [] if found is None else found
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append(node)
        for value in node.values():
            _objects(value, found)
    elif isinstance(node, list):
        for value in node:
            _objects(value, found)
    return found


def test_every_object_is_closed_and_fully_required():
    strict = to_openai_strict(Person.model_json_schema())
    objects = _objects(strict.schema_)
    assert len(objects) >= 3
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])


def test_relaxed_records_dropped_keywords_and_nullable_optionals():
    strict = to_openai_strict(Person.model_json_schema())
    assert "/properties/name:minLength" in strict.relaxed
    assert "/properties/tags:uniqueItems" in strict.relaxed
    assert "/properties/kind:optional->nullable" in strict.relaxed
    assert "/$defs/Address/properties/zip:optional->nullable" in strict.relaxed
    assert not strict.wrapped


def test_self_referencing_root_is_inlined_and_refs_resolve():
    strict = to_openai_strict(Person.model_json_schema())
    assert strict.schema_["type"] == "object"
    assert strict.schema_["properties"]["friends"]["items"] == {"$ref": "#/$defs/Person"}
    valid = {"name": "x", "age": 1, "tags": [], "kind": "a", "address": None, "friends": []}
    jsonschema.validate(valid, strict.schema_)


def test_strict_answer_restores_to_a_valid_original_instance():
    strict = to_openai_strict(Person.model_json_schema())
    answer = {
        "name": "x",
        "age": 3,
        "tags": None,
        "kind": None,
        "address": {"city": "Oslo", "zip": None},
        "friends": [
            {"name": "y", "age": 2, "tags": None, "kind": "b", "address": None, "friends": None}
        ],
    }
    jsonschema.validate(answer, strict.schema_)
    restored = strict.restore(answer)
    assert restored == {
        "name": "x",
        "age": 3,
        "address": {"city": "Oslo", "zip": None},
        "friends": [{"name": "y", "age": 2, "kind": "b", "address": None}],
    }
    Person.model_validate(restored)


def test_non_object_root_is_wrapped_and_unwrapped():
    strict = to_openai_strict({"type": "array", "items": {"type": "integer"}})
    assert strict.wrapped
    assert strict.relaxed == ["/:root-wrapped"]
    assert strict.schema_["required"] == ["value"]
    assert strict.restore({"value": [1, 2]}) == [1, 2]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "properties": {"a": {"not": {"type": "string"}}}}, "/properties/a:not"),
        (
            {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}},
            "/properties/a:oneOf->anyOf",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "format": "x"}}},
            "/properties/a:format=x",
        ),
        ({"type": "object", "minProperties": 1, "properties": {}}, "/:minProperties"),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "/:additionalProperties"),
    ],
)
def test_unsupported_keywords_are_dropped_and_recorded(schema, expected):
    strict = to_openai_strict(schema)
    assert expected in strict.relaxed


def test_all_of_is_merged():
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}},
        ]
    }
    strict = to_openai_strict(schema)
    inner = strict.schema_["properties"]["value"]
    assert set(inner["properties"]) == {"a", "b"}
    assert "allOf" not in inner


def test_response_format_shape():
    strict = to_openai_strict(Address.model_json_schema())
    fmt = strict.response_format("address")
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == strict.schema_


def test_strict_schema_is_frozen():
    strict = to_openai_strict(Address.model_json_schema())
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError
        strict.relaxed = []  # type: ignore[misc]
    assert isinstance(StrictSchema.model_validate(strict.model_dump(by_alias=True)), StrictSchema)


def test_anthropic_tool_keeps_the_schema_whole():
    tool = to_anthropic_tool(Address.model_json_schema(), "answer")
    assert tool["name"] == "answer"
    assert tool["input_schema"]["properties"]["city"] == {"title": "City", "type": "string"}
    wrapped = to_anthropic_tool({"type": "string"}, "answer")
    assert wrapped["input_schema"]["properties"]["value"] == {"type": "string"}


@pytest.mark.parametrize("bad", [{"type": "nope"}, {"properties": 3}, ["not", "a", "schema"]])
def test_invalid_schema_is_a_typed_error(bad):
    with pytest.raises(SchemaDefinitionError) as info:
        to_openai_strict(bad)
    assert info.value.code == "schema_invalid"


def test_remote_ref_is_refused():
    schema = {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}
    with pytest.raises(SchemaDefinitionError, match="remote"):
        to_openai_strict(schema)


class _A(BaseModel):
    kind: Literal["a"]
    x: str = "d"  # optional, not nullable


class _B(BaseModel):
    kind: Literal["b"]
    x: str | None  # required, nullable


class _Either(BaseModel):
    item: _A | _B


@pytest.mark.parametrize(
    ("answer", "restored"),
    [
        ({"item": {"kind": "b", "x": None}}, {"item": {"kind": "b", "x": None}}),  # B needs it
        ({"item": {"kind": "a", "x": None}}, {"item": {"kind": "a"}}),  # A's null was ours
    ],
)
def test_a_union_answer_is_restored_for_the_branch_it_is_for(answer, restored):
    strict = to_openai_strict(_Either.model_json_schema())
    jsonschema.validate(answer, strict.schema_)
    assert strict.restore(answer) == restored
    _Either.model_validate(restored)


@pytest.mark.parametrize(
    ("schema", "valid"),
    [
        (  # allOf of a definition: merged, the definition still resolves
            {
                "$defs": {"Addr": {"type": "object", "properties": {"city": {"type": "string"}}}},
                "type": "object",
                "properties": {"home": {"allOf": [{"$ref": "#/$defs/Addr"}]}},
            },
            {"home": {"city": "Oslo"}},
        ),
        (  # properties beside oneOf: each branch gets them
            {
                "type": "object",
                "properties": {"kind": {"type": "string"}},
                "required": ["kind"],
                "oneOf": [
                    {
                        "properties": {"kind": {"const": "x"}, "a": {"type": "integer"}},
                        "required": ["a"],
                    },
                    {
                        "properties": {"kind": {"const": "y"}, "b": {"type": "string"}},
                        "required": ["b"],
                    },
                ],
            },
            {"kind": "x", "a": 1},
        ),
        (  # properties beside $ref: both kept
            {
                "$defs": {
                    "A": {
                        "type": "object",
                        "properties": {"a": {"type": "integer"}},
                        "required": ["a"],
                    }
                },
                "type": "object",
                "$ref": "#/$defs/A",
                "properties": {"b": {"type": "string"}},
                "required": ["b"],
            },
            {"a": 1, "b": "s"},
        ),
    ],
)
def test_composed_schemas_keep_their_valid_documents_in_strict_form(schema, valid):
    strict = to_openai_strict(schema)
    answer = {"value": valid} if strict.wrapped else valid
    jsonschema.validate(answer, strict.schema_)
    assert strict.restore(answer) == valid
    jsonschema.validate(valid, schema)


class _Cat(BaseModel):
    name: str
    lives: int = 9


class _Dog(BaseModel):
    name: str
    good: bool = True


class _Pet(BaseModel):
    pet: _Cat | _Dog


def test_an_open_branch_does_not_take_a_null_it_never_declared():
    strict = to_openai_strict(_Pet.model_json_schema())
    assert strict.restore({"pet": {"name": "Tom", "lives": None}}) == {"pet": {"name": "Tom"}}
