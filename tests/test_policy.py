from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from guardkit import Policy, PolicyError, load_policy
from guardkit.policy import RaiseAction, ReaskAction, RefrainAction

POLICIES = sorted((Path(__file__).parent.parent / "policies").glob("*.yaml"))


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def issues(path: Path) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.code == "policy_invalid"
    return [(i.line, ".".join(map(str, i.loc)), i.message) for i in info.value.issues]


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_shipped_policies_are_valid(path: Path) -> None:
    policy = load_policy(path)
    assert policy.output is not None
    assert policy.output.schema_.json_schema()["type"] == "object"
    assert len(policy.sha256) == 64


def test_at_least_three_policies_ship() -> None:
    assert len(POLICIES) >= 3


def test_wrong_type_names_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        id: p
        version: "1"
        actions:
          schema:
            type: reask
            max_attempts: many
        """,
    )
    assert issues(path) == [
        (
            6,
            "actions.schema.max_attempts",
            "Input should be a valid integer, unable to parse string as an integer",
        )
    ]


def test_unknown_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        id: p
        version: "1"
        checks:
          schema:
            forbid_extras: false
        """,
    )
    assert issues(path) == [(5, "checks.schema.forbid_extras", "Extra inputs are not permitted")]


def test_a_record_log_of_no_known_kind_is_refused_when_checked(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: p\nversion: "1"\nrecords:\n  log: calls.txt\n')
    ((line, loc, message),) = issues(path)
    assert (line, loc) == (4, "records.log") and "ends in .jsonl, .db" in message


def test_a_fallback_the_output_schema_refuses_is_a_policy_error(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(
        '{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}'
    )
    path = write(
        tmp_path,
        """
        id: p
        version: "1"
        output: {json_schema: s.json}
        actions:
          schema: {type: reask, then: {type: refrain, fallback: {id: 5}}}
          error: {type: refrain, fallback: {id: none}}
        """,
    )
    ((line, loc, message),) = issues(path)
    assert (line, loc) == (5, "actions.schema.then.fallback") and "id: 5 is not of type" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: p\nversion: "1"\nactoins: {}\n')
    assert issues(path) == [(3, "actoins", "Extra inputs are not permitted")]


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        id: p
        version: "1"
        timeout_s: -3
        checks:
          facts_typo: {}
        actions:
          schema: explode
        costs:
          gpt-4o: {input_per_1k: 1}
        """,
    )
    found = issues(path)
    assert [(line, loc) for line, loc, _ in found] == [
        (3, "timeout_s"),
        (5, "checks.facts_typo"),
        (7, "actions.schema"),
        (9, "costs.gpt-4o.output_per_1k"),
    ]
    messages = " | ".join(m for _, _, m in found)
    assert "unknown check 'facts_typo'; known: " in messages and "schema" in messages
    assert (
        "'explode'" in messages and "'reask'" in messages
    )  # the unknown action and the known ones


def test_action_for_check_that_does_not_exist(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: p\nversion: "1"\nactions:\n  risk: flag\n')
    assert issues(path) == [
        (4, "actions.risk", "no check named 'risk' to act on; known: error, schema")
    ]


def test_missing_schema_module_fails_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: p\nversion: "1"\noutput:\n  model: no_such_pkg.models:Thing\n')
    [(line, loc, message)] = issues(path)
    assert (line, loc) == (4, "output.model")
    assert "cannot import module 'no_such_pkg.models'" in message


def test_missing_schema_file_fails_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: p\nversion: "1"\noutput:\n  json_schema: nowhere.json\n')
    [(line, loc, message)] = issues(path)
    assert (line, loc) == (4, "output.json_schema")
    assert "cannot read JSON Schema file" in message


def test_invalid_json_schema_fails_at_load(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"type": "objekt"}')
    path = write(tmp_path, 'id: p\nversion: "1"\noutput:\n  json_schema: bad.json\n')
    [(line, loc, message)] = issues(path)
    assert (line, loc) == (4, "output.json_schema")
    assert "not a valid JSON Schema" in message


def test_model_import_path_resolves() -> None:
    policy = Policy.model_validate(
        {"id": "p", "version": "1", "output": {"model": "support.models:Order"}}
    )
    assert policy.output is not None and policy.output.schema_.model is not None
    assert policy.output.schema_.model.__name__ == "Order"


def test_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "id: [unclosed\n")
    [(line, _, message)] = issues(path)
    assert line == 2 and message.startswith("not valid YAML")


def test_a_key_written_twice_is_an_error_not_a_silent_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        id: p
        version: "1"
        checks:
          risk: {max_risk: 0.5}
        actions:
          risk: flag
          risk: raise
        checks: {}
        """,
    )
    assert issues(path) == [
        (7, "actions.risk", "duplicate key 'risk' (first written on line 6)"),
        (8, "checks", "duplicate key 'checks' (first written on line 3)"),
    ]


def test_non_utf8_bytes_are_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes('id: p\nversion: "1"\ndescription: caf\xe9\n'.encode("latin-1"))
    [(line, _, message)] = issues(path)
    assert line == 3 and message.startswith("not UTF-8 text") and "0xe9" in message


def test_not_a_mapping(tmp_path: Path) -> None:
    assert issues(write(tmp_path, "- a\n- b\n")) == [(1, "", "a policy must be a YAML mapping")]


def test_missing_file(tmp_path: Path) -> None:
    [(line, _, message)] = issues(tmp_path / "absent.yaml")
    assert line is None and message.startswith("cannot read policy")


def test_shorthand_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        id: p
        version: "2"
        actions:
          schema: {type: reask, max_attempts: 4, then: {type: refrain, fallback: "sorry"}}
          error: raise
        """,
    )
    policy = load_policy(path)
    schema_action = policy.action_for("schema")
    assert isinstance(schema_action, ReaskAction) and schema_action.max_attempts == 4
    assert isinstance(schema_action.then, RefrainAction) and schema_action.then.fallback == "sorry"
    assert isinstance(policy.action_for("error"), RaiseAction)
    assert schema_action.chain() == ["reask", "refrain"]


def test_same_meaning_same_hash() -> None:
    a = Policy.model_validate({"id": "p", "version": "1", "actions": {"error": "raise"}})
    b = Policy.model_validate({"version": "1", "id": "p", "actions": {"error": {"type": "raise"}}})
    c = Policy.model_validate({"id": "p", "version": "2"})
    assert a.sha256 == b.sha256 != c.sha256
