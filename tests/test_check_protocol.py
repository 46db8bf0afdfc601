"""A new check is a new module: registered by name, configured by its own model, no guard edits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from support.models import Order

import guardkit
from guardkit import CheckContext, CheckResult, Outcome, Policy, PolicyError
from guardkit.checks import _REGISTRY, CheckSetup, known_checks
from guardkit.checks._prose import prose_of, without_spans

VALID = {"order_id": "A1", "items": [{"name": "pen", "quantity": 2, "price": 1.5}]}


class MentionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_hits: int = 1


class MentionsCheck:
    """Passes when the order id appears in the reference documents; filter drops the note."""

    name = "mentions"

    def __init__(self, config: MentionsConfig) -> None:
        self.config = config

    def run(self, ctx: CheckContext) -> CheckResult:
        assert [r.check for r in ctx.results] == ["schema"]
        hits = sum(ctx.value.order_id in doc for doc in ctx.documents)
        passed = hits >= self.config.min_hits
        return CheckResult(
            check=self.name,
            passed=passed,
            score=min(1.0, hits / self.config.min_hits),
            feedback=None if passed else "use an order id from the documents",
            filtered_text=None if passed else json.dumps({**VALID, "order_id": "DOC-7"}),
        )


@pytest.fixture
def mentions() -> Iterator[None]:
    guardkit.register_check("mentions", MentionsConfig, lambda cfg, setup: MentionsCheck(cfg))
    yield
    del _REGISTRY["mentions"]


def make_policy(**actions: object) -> Policy:
    return Policy.model_validate(
        {"id": "p", "version": "1", "checks": {"mentions": {"min_hits": 1}}, "actions": actions}
    )


def test_registered_check_runs_after_schema_and_sees_documents(mentions: None) -> None:
    assert "mentions" in known_checks()

    @guardkit.guard(make_policy(), output=Order, sinks=[])
    def ask() -> str:
        return json.dumps(VALID)

    result = ask(guardkit_documents=["Order A1 shipped."])
    assert result.outcome is Outcome.RELIABLE
    assert [c.check for c in result.report.checks] == ["schema", "mentions"]


def test_failing_custom_check_uses_its_action(mentions: None) -> None:
    @guardkit.guard(make_policy(mentions="filter"), output=Order, sinks=[])
    def ask() -> str:
        return json.dumps(VALID)

    result = ask(guardkit_documents=["Order DOC-7 shipped."])
    assert result.outcome is Outcome.REPAIRED and result.output.order_id == "DOC-7"
    assert [(a.failure, a.action) for a in result.report.actions] == [("mentions", "filter")]


def test_flag_returns_the_schema_valid_value(mentions: None) -> None:
    @guardkit.guard(make_policy(mentions="flag"), output=Order, sinks=[])
    def ask() -> str:
        return json.dumps(VALID)

    result = ask(guardkit_documents=[])
    assert result.outcome is Outcome.FLAGGED and result.output == Order.model_validate(VALID)


def test_check_settings_validated_by_the_checks_model(mentions: None) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.model_validate({"id": "p", "version": "1", "checks": {"mentions": {"min_hitz": 2}}})
    [issue] = info.value.issues
    assert issue.loc == ("checks", "mentions", "min_hitz")


def test_documents_must_be_strings() -> None:
    @guardkit.guard(Policy(id="p", version="1"), sinks=[])
    def ask() -> str:
        return "x"

    for wrong, message in [
        ("one string", "must be a list of strings, not str"),
        ((d for d in ["a generator"]), "must be a list of strings, not generator"),
        ({"a": "dict"}, "must be a list of strings, not dict"),
        (5, "must be a list of strings, not int"),
        (["fine", 5], r"guardkit_documents\[1\] must be a string, not int"),
    ]:
        with pytest.raises(guardkit.ConfigError, match=message):
            ask(guardkit_documents=wrong)
    assert ask(guardkit_documents=("a", "tuple")).ok


def test_setup_is_built_once_per_guard(mentions: None) -> None:
    built: list[CheckSetup] = []

    def build(cfg: MentionsConfig, setup: CheckSetup) -> MentionsCheck:
        built.append(setup)
        return MentionsCheck(cfg)

    guardkit.register_check("mentions", MentionsConfig, build)

    @guardkit.guard(make_policy(), output=Order, sinks=[])
    def ask() -> str:
        return json.dumps(VALID)

    for _ in range(3):
        ask(guardkit_documents=["A1"])
    assert len(built) == 1 and built[0].schema is not None


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        return str(Path((info.context or {}).get("base_dir", ".")) / value)


def test_check_settings_see_the_policy_folder(tmp_path: Path) -> None:
    guardkit.register_check(
        "needs_file", FileConfig, lambda cfg, setup: MentionsCheck(MentionsConfig())
    )
    try:
        (tmp_path / "p.yaml").write_text(
            'id: p\nversion: "1"\nchecks:\n  needs_file: {path: data.txt}\n'
        )
        config = guardkit.load_policy(tmp_path / "p.yaml").check_configs["needs_file"]
        assert isinstance(config, FileConfig) and config.path == str(tmp_path / "data.txt")
    finally:
        del _REGISTRY["needs_file"]


def test_flagged_text_output_is_returned_for_review(mentions: None) -> None:
    policy = Policy.model_validate(
        {"id": "p", "version": "1", "checks": {"mentions": {}}, "actions": {"mentions": "flag"}}
    )

    class Text(MentionsCheck):
        def run(self, ctx: CheckContext) -> CheckResult:
            return CheckResult(check="mentions", passed=False)

    guardkit.register_check("mentions", MentionsConfig, lambda cfg, setup: Text(cfg))

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return "free text"

    result = ask()
    assert result.outcome is Outcome.FLAGGED and result.output == "free text"


class _Answer(BaseModel):
    answer: str
    topic: str
    facts: list[str]
    count: int


def test_prose_is_the_text_or_a_validated_values_statements() -> None:
    """Checks that read claims read ``ctx.prose``: the text itself, or, once the schema check
    has passed, the value's strings that can state something, one paragraph each."""
    text = '{"answer": "It opens at 9.", "topic": "hours", "facts": ["Entry is free on Sundays."]}'
    value = _Answer(
        answer="It opens at 9.", topic="hours", facts=["Entry is free on Sundays.", "Yes"], count=3
    )
    schema_passed = CheckResult(check="schema", passed=True)
    plain = CheckContext(text="It opens at 9.", value="It opens at 9.", attempt=1)
    assert plain.prose == "It opens at 9."
    structured = CheckContext(
        text=text,
        value=value,
        attempt=1,
        schema=object(),
        results=[schema_passed],  # type: ignore[arg-type]
    )
    assert structured.prose == "It opens at 9.\n\nEntry is free on Sundays."  # not "hours", "Yes"
    unvalidated = CheckContext(text=text, value=text, attempt=1, schema=object())  # type: ignore[arg-type]
    assert unvalidated.prose == text  # before the schema check passes, the text as it is


def test_without_spans_cuts_sentences_out_of_the_fields_they_are_in() -> None:
    value = {"a": "It opens at 9. It has a zoo.", "n": 2, "b": [{"c": "Entry is free. Cafe."}]}
    prose = prose_of(value)
    assert prose == "It opens at 9. It has a zoo.\n\nEntry is free. Cafe."
    zoo = prose.index("It has a zoo.")
    cafe = prose.index("Cafe.")
    cut = without_spans(value, [(zoo, zoo + 13), (cafe, cafe + 5)])
    assert cut == {"a": "It opens at 9.", "n": 2, "b": [{"c": "Entry is free."}]}
    assert value["a"] == "It opens at 9. It has a zoo."  # the value itself is left alone
    assert without_spans(value, [(0, len(prose))]) is None
    # a field nothing is cut from stays as written; a list item cut whole leaves the list
    steps = {"intro": "Do this:\nfirst, then second.", "steps": ["Open the lid.", "Add the zoo."]}
    zoo = prose_of(steps).index("Add the zoo.")
    assert without_spans(steps, [(zoo, zoo + 12)]) == {
        "intro": "Do this:\nfirst, then second.",
        "steps": ["Open the lid."],
    }
    # references and labels beside a sentence are no claims; alone, short strings are read
    cited = {"answer": "It opens at 9 am.", "sources": ["1", "doc 2", "https://x.org/a-2024"]}
    assert prose_of(cited) == "It opens at 9 am."
    assert prose_of({"answer": "Paris", "n": 3}) == "Paris"
