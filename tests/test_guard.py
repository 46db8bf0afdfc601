"""The decorator on plain functions: every return type, reask, actions, errors, reports."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
from typing import Any

import pytest
from pydantic import BaseModel
from support.models import Order

import guardkit
from guardkit import GuardFailed, Outcome, Policy, ReliabilityLedger
from guardkit.errors import ConfigError

VALID = {"order_id": "A1", "items": [{"name": "pen", "quantity": 2, "price": 1.5}]}


def policy(**actions: Any) -> Policy:
    return Policy.model_validate(
        {
            "id": "orders",
            "version": "1",
            "actions": actions,
            "costs": {"gpt-test": {"input_per_1k": 1.0, "output_per_1k": 2.0}},
        }
    )


def replies(*texts: Any) -> Any:
    """A fake model that returns the given replies in turn (raising those that are exceptions)."""
    queue = list(texts)

    def next_reply() -> Any:
        item = queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    return next_reply


def test_valid_text_first_time_is_reliable(ledger: ReliabilityLedger) -> None:
    @guardkit.guard(policy(), output=Order, sinks=[ledger])
    def ask() -> str:
        return json.dumps(VALID)

    result = ask()
    assert result.ok and result.outcome is Outcome.RELIABLE
    assert isinstance(result.output, Order) and result.output.items[0].quantity == 2
    report = result.report
    assert len(report.attempts) == 1 and report.attempts[0].failure is None
    assert [c.check for c in report.checks] == ["schema"]
    assert report.function.endswith("ask") and report.policy.id == "orders"
    assert ledger.summary().reliable == 1


@pytest.mark.parametrize(
    ("bad", "error_type"),
    [
        ("not json at all", "json_invalid"),
        ('{"order_id": "A1", "items": [', "json_truncated"),
        (
            '{"order_id": "A1", "items": [{"name": "pen", "quantity": "two", "price": 1}]}',
            "int_parsing",
        ),
        ('{"order_id": "A1", "items": [], "colour": "red"}', "extra_forbidden"),
        ("", "empty"),
        ('{"items": []}', "missing"),
    ],
)
def test_bad_output_is_reasked_with_the_errors(bad: str, error_type: str) -> None:
    seen: list[list[dict[str, str]]] = []
    answers = replies(bad, json.dumps(VALID))

    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask(messages: list[dict[str, str]]) -> str:
        seen.append(list(messages))
        return answers()

    result = ask([{"role": "user", "content": "order please"}])
    assert result.outcome is Outcome.REPAIRED and result.output == Order.model_validate(VALID)
    first = result.report.attempts[0]
    assert first.failure == "schema"
    assert error_type in [e.type for e in first.checks[0].errors]
    assert [len(m) for m in seen] == [1, 3]
    assert seen[1][1] == {"role": "assistant", "content": bad}
    assert (
        seen[1][2]["role"] == "user"
        and "not valid for the required JSON schema" in seen[1][2]["content"]
    )
    assert [a.action for a in result.report.actions] == ["reask"]


def test_feedback_parameter_gets_the_feedback() -> None:
    got: list[str | None] = []
    answers = replies("{}", json.dumps(VALID))

    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask(question: str, feedback: str | None = None) -> str:
        got.append(feedback)
        return answers()

    assert ask("q").ok
    assert got[0] is None and got[1] is not None and "order_id" in got[1]


def test_feedback_survives_a_retry_after_an_error() -> None:
    got: list[str | None] = []
    answers = replies("{}", ConnectionError("reset"), json.dumps(VALID))

    retrying = policy(
        schema={"type": "reask", "max_attempts": 4}, error={"type": "reask", "max_attempts": 4}
    )

    @guardkit.guard(retrying, output=Order, sinks=[])
    def ask(question: str, feedback: str | None = None) -> str:
        got.append(feedback)
        return answers()

    assert ask("q").ok
    assert got[0] is None and got[1] is not None and got[2] == got[1]  # asked again as before


def test_exhausted_reasks_raise_with_evidence() -> None:
    @guardkit.guard(policy(schema={"type": "reask", "max_attempts": 3}), output=Order, sinks=[])
    def ask() -> str:
        return "nope"

    with pytest.raises(GuardFailed) as info:
        ask()
    report = info.value.report
    assert info.value.code == "guard_failed"
    assert report.outcome is Outcome.FAILED and len(report.attempts) == 3
    assert [a.action for a in report.actions] == ["reask", "reask", "raise"]
    assert all(a.output_chars == 4 for a in report.attempts)


def test_fix_strips_fences_and_extra_keys_and_counts_as_repaired() -> None:
    fenced = "Sure! ```json\n" + json.dumps({**VALID, "extra": 1}) + "\n``` Hope it helps."

    @guardkit.guard(policy(schema="fix"), output=Order, sinks=[])
    def ask() -> str:
        return fenced

    result = ask()
    assert result.outcome is Outcome.REPAIRED and result.output == Order.model_validate(VALID)
    assert len(result.report.attempts) == 1 and [a.action for a in result.report.actions] == ["fix"]
    (schema_before,) = result.report.attempts[0].before_repair  # what the fix repaired
    assert not schema_before.passed and schema_before.errors


@pytest.mark.parametrize(
    "two",
    [
        f"Either {json.dumps(VALID)} or {json.dumps({**VALID, 'order_id': 'B2'})}",
        f"```json\n{json.dumps(VALID)}\n```\nor\n```json\n{json.dumps(VALID)}\n```",
    ],
)
def test_fix_does_not_pick_one_of_two_documents(two: str) -> None:
    """Nor a fragment of one broken document (tests below)."""

    @guardkit.guard(policy(schema={"type": "fix", "then": "raise"}), output=Order, sinks=[])
    def ask() -> str:
        return two

    with pytest.raises(GuardFailed):
        ask()


@pytest.mark.parametrize(
    ("answer", "repaired"),
    [
        ('{"order_id": "A1", "items": [{"name": "pen", "quantity": 2, "price": 1.5}, {"na', None),
        ('{"order_id": "A1", "items": oops, "x": {"order_id": "B", "items": []}}', None),
        (f"Here it is: {json.dumps(VALID)} [1]", VALID),  # a citation mark is no document
        (f"As noted [see above]: {json.dumps(VALID)}", VALID),
        (f"Here it is {{as requested}}: {json.dumps(VALID)}", VALID),  # braces in prose
    ],
)
def test_fix_never_returns_a_fragment_of_a_broken_answer(
    answer: str, repaired: dict[str, Any] | None
) -> None:
    @guardkit.guard(policy(schema={"type": "fix", "then": "raise"}), output=Order, sinks=[])
    def ask() -> str:
        return answer

    if repaired is None:
        with pytest.raises(GuardFailed):
            ask()
    else:
        result = ask()
        assert result.outcome is Outcome.REPAIRED and result.output == Order.model_validate(VALID)


def test_fix_that_cannot_repair_falls_through_to_then() -> None:
    @guardkit.guard(
        policy(schema={"type": "fix", "then": {"type": "refrain", "fallback": "n/a"}}),
        output=Order,
        sinks=[],
    )
    def ask() -> str:
        return '{"order_id": 5}'

    result = ask()
    assert result.outcome is Outcome.REFUSED and result.output == "n/a" and not result.ok


def test_each_refusal_gets_its_own_copy_of_the_fallback() -> None:
    fallback = {"order_id": "none", "items": []}
    refrain = policy(schema={"type": "refrain", "fallback": fallback})

    @guardkit.guard(refrain, output=Order, sinks=[])
    def ask() -> str:
        return "not json"

    first = ask()
    assert isinstance(first.output, Order)  # typed as a valid output is
    first.output.order_id = "edited by the caller"
    assert ask().output == Order.model_validate(fallback)
    assert refrain.actions["schema"].fallback == fallback


def test_a_fallback_the_output_schema_refuses_is_refused_when_the_guard_is_built() -> None:
    bad = policy(schema={"type": "reask", "then": {"type": "refrain", "fallback": {"x": 1}}})
    with pytest.raises(ConfigError, match="this fallback is no valid output") as info:
        guardkit.guard(bad, output=Order, sinks=[])
    assert info.value.loc == ("actions", "schema", "then", "fallback")


def test_flag_never_returns_an_invalid_output_as_valid() -> None:
    @guardkit.guard(policy(schema={"type": "flag", "reason": "review"}), output=Order, sinks=[])
    def ask() -> str:
        return '{"order_id": 5}'

    result = ask()
    assert result.outcome is Outcome.FLAGGED and result.output is None and not result.ok
    assert result.report.actions[0].detail == "review"


def test_call_raising_is_recorded_and_retried() -> None:
    answers = replies(ConnectionError("reset by peer"), json.dumps(VALID))

    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask() -> str:
        return answers()

    result = ask()
    assert result.outcome is Outcome.REPAIRED
    error = result.report.attempts[0].error
    assert error is not None and error.type == "ConnectionError" and error.retryable
    assert result.report.attempts[0].failure == "error"


def test_call_raising_is_never_swallowed() -> None:
    @guardkit.guard(policy(error={"type": "reask", "max_attempts": 2}), output=Order, sinks=[])
    def ask() -> str:
        raise RuntimeError("upstream 503")

    with pytest.raises(GuardFailed) as info:
        ask()
    assert isinstance(info.value.__cause__, RuntimeError)
    assert [a.error.type for a in info.value.report.attempts if a.error] == [
        "RuntimeError",
        "RuntimeError",
    ]


def test_programming_errors_are_not_retried() -> None:
    calls = []

    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask() -> str:
        calls.append(1)
        raise TypeError("bad argument")

    with pytest.raises(GuardFailed):
        ask()
    assert len(calls) == 1


def test_timeout_is_a_failed_attempt_then_retried() -> None:
    slow = {"first": True}

    @guardkit.guard(policy().model_copy(update={"timeout_s": 0.2}), output=Order, sinks=[])
    def ask() -> str:
        if slow.pop("first", False):
            time.sleep(1.0)
        return json.dumps(VALID)

    result = ask()
    assert result.outcome is Outcome.REPAIRED
    error = result.report.attempts[0].error
    assert error is not None and error.type == "guardkit.errors.ProviderTimeout" and error.retryable


def test_a_timeout_the_call_raises_itself_is_reported_as_its_own() -> None:
    @guardkit.guard(policy().model_copy(update={"timeout_s": 5}), output=Order, sinks=[])
    def ask() -> str:
        raise TimeoutError("upstream said 504")

    with pytest.raises(GuardFailed) as info:
        ask()
    error = info.value.report.attempts[0].error
    assert error is not None and error.type == "TimeoutError"
    assert error.message == "upstream said 504"


def test_unsupported_return_type_is_a_typed_error() -> None:
    @guardkit.guard(policy(error="raise"), output=Order, sinks=[])
    def ask() -> int:
        return 42

    with pytest.raises(GuardFailed) as info:
        ask()
    assert isinstance(info.value.__cause__, ConfigError)
    assert "returned int" in str(info.value.__cause__)


def test_dict_return_is_the_output_itself() -> None:
    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask() -> dict[str, Any]:
        return VALID

    assert ask().output == Order.model_validate(VALID)


def test_openai_shaped_dict_and_usage_cost() -> None:
    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask() -> dict[str, Any]:
        return {
            "model": "gpt-test-2024",
            "choices": [{"message": {"content": json.dumps(VALID)}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 500},
        }

    report = ask().report
    assert report.model == "gpt-test-2024"
    assert report.usage.input_tokens == 1000 and report.usage.output_tokens == 500
    assert report.cost == pytest.approx(1.0 + 1.0)


def test_text_output_without_schema() -> None:
    @guardkit.guard(Policy(id="free", version="1"), sinks=[])
    def ask() -> str:
        return "hello"

    result = ask()
    assert result.output == "hello" and result.ok and result.report.checks == []


def test_json_schema_dict_output() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "maximum": 3}},
        "required": ["n"],
    }
    answers = replies('{"n": 7}', '{"n": 2}')

    @guardkit.guard(policy(), output=schema, sinks=[])
    def ask() -> str:
        return answers()

    result = ask()
    assert result.output == {"n": 2}
    assert result.report.attempts[0].checks[0].errors[0].loc == ("n",)


_COMPOSED = {
    "allOf": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]},
        ]
    },
    "base and oneOf": {
        "type": "object",
        "properties": {"kind": {"type": "string"}},
        "oneOf": [
            {"properties": {"kind": {"const": "x"}, "a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"kind": {"const": "y"}, "b": {"type": "string"}}, "required": ["b"]},
        ],
    },
    "ref beside properties": {
        "$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}}},
        "$ref": "#/$defs/A",
        "properties": {"b": {"type": "string"}},
    },
    "ref as a branch": {
        "$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}}},
        "allOf": [{"$ref": "#/$defs/A"}, {"properties": {"b": {"type": "string"}}}],
    },
}


_COMPOSED["model used alone and optional"] = {
    "$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}}},
    "type": "object",
    "properties": {
        "first": {"$ref": "#/$defs/A"},
        "second": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]},
    },
}
_COMPOSED["draft-07"] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
}
_COMPOSED["if and then"] = {
    "type": "object",
    "properties": {"kind": {"type": "string"}},
    "if": {"properties": {"kind": {"const": "x"}}},
    "then": {"properties": {"a": {"type": "integer"}}},
}
_COMPOSED["pattern properties"] = {
    "type": "object",
    "properties": {"a": {"type": "integer"}},
    "patternProperties": {"^x_": {"type": "integer"}},
}
_COMPOSED["draft-07 allOf"] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "allOf": [
        {"properties": {"a": {"type": "integer"}}},
        {"properties": {"b": {"type": "string"}}},
    ],
}
_COMPOSED["a property named properties"] = {
    "type": "object",
    "properties": {"properties": {"type": "integer"}, "a": {"type": "integer"}},
}


_GOOD: dict[str, dict[str, Any]] = {
    "a property named properties": {"properties": 1, "a": 2},
    "if and then": {"kind": "x", "a": 1},
    "pattern properties": {"a": 1, "x_1": 2},
}


@pytest.mark.parametrize("name", list(_COMPOSED))
def test_composed_schemas_accept_their_keys_and_forbid_others(name: str) -> None:
    schema = _COMPOSED[name]
    good: dict[str, Any] = {"a": 1, "b": "s"} if "oneOf" not in schema else {"kind": "x", "a": 1}
    bad = {**good, "c": 0}
    if name == "model used alone and optional":  # the extra key inside the referenced model
        good = {"first": {"a": 1}, "second": {"a": 2}}
        bad = {"first": {"a": 1, "c": 0}, "second": {"a": 2}}
    elif name in _GOOD:
        good = _GOOD[name]
        bad = {**good, "c": 0}
    answers = replies(json.dumps(bad), json.dumps(good))

    @guardkit.guard(policy(), output=schema, sinks=[])
    def ask() -> str:
        return answers()

    result = ask()
    assert result.output == good and len(result.report.attempts) == 2
    (error,) = result.report.attempts[0].checks[0].errors
    assert error.type == "extra_forbidden" and "'c'" in error.message

    @guardkit.guard(policy(schema="fix"), output=schema, sinks=[])
    def ask_fixed() -> str:
        return json.dumps(bad)

    fixed = ask_fixed()  # the fix drops only the undeclared key
    assert fixed.outcome is Outcome.REPAIRED and fixed.output == good


def test_a_sync_call_under_a_timeout_sees_the_callers_context_variables() -> None:
    import contextvars

    tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
    timed = Policy.model_validate({"id": "t", "version": "1", "timeout_s": 5})

    @guardkit.guard(timed, sinks=[])
    def ask() -> str:
        return f"tenant {tenant.get()}"

    token = tenant.set("acme")
    try:
        assert ask().output == "tenant acme"
    finally:
        tenant.reset(token)


@pytest.mark.parametrize(
    ("schema", "bad", "message"),
    [
        (
            {"type": "object", "properties": {"score": {"type": "number", "maximum": 1}}},
            '{"score": NaN}',
            "NaN is not JSON",
        ),
        ({"type": "array"}, "[Infinity, -Infinity]", "Infinity is not JSON"),
        ({"type": "array"}, "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ({"type": "string", "format": "date"}, '"yesterday"', "is not a 'date'"),
        ({"type": "string", "format": "email"}, '"nobody"', "is not a 'email'"),
        ({"type": "string", "pattern": "^[A-Z]{3}$"}, '"ABC\\n"', "does not match"),
        ({"type": "string", "pattern": "^[^]$]+$"}, '"a$b"', "does not match"),
        ({"type": "object"}, '{"n": 1e400}', "too large for a number"),
    ],
)
def test_what_json_schema_refuses_is_never_returned(
    schema: dict[str, Any], bad: str, message: str
) -> None:
    @guardkit.guard(policy(schema={"type": "fix", "then": "raise"}), output=schema, sinks=[])
    def ask() -> str:
        return bad

    with pytest.raises(GuardFailed) as info:
        ask()
    (error,) = info.value.report.attempts[0].checks[0].errors
    assert message in error.message


def test_what_json_schema_allows_is_returned() -> None:
    schema = {
        "type": "object",
        "default": {"$ref": "#/not/a/schema"},  # data, not a reference
        "properties": {
            "code": {"type": "string", "pattern": "^[^]$]+$"},
            "inner": {"$id": "http://example.com/inner", "$defs": {"X": {}}, "$ref": "#/$defs/X"},
        },
    }

    @guardkit.guard(policy(), output=schema, sinks=[])
    def ask() -> str:
        return '{"code": "abc", "inner": 1}'

    assert ask().output == {"code": "abc", "inner": 1}


def test_a_format_pydantic_reads_its_own_way_is_no_extra_key() -> None:
    import datetime

    class Event(BaseModel):
        when: datetime.datetime

    class Plan(BaseModel):
        event: Event | None = None

    @guardkit.guard(policy(), output=Plan, sinks=[])
    def ask() -> str:
        return '{"event": {"when": "2024-01-01T10:00:00"}}'  # no timezone: pydantic takes it

    assert ask().ok


def test_a_pydantic_float_refuses_nan_too() -> None:
    class Score(BaseModel):
        score: float

    @guardkit.guard(policy(), output=Score, sinks=[])
    def ask() -> str:
        return '{"score": NaN}'

    with pytest.raises(GuardFailed):
        ask()


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"properties": {"a": {"$ref": "#/$defs/Nowhere"}}}, "unresolvable $ref"),
        (
            functools.reduce(
                lambda s, _: {"type": "object", "properties": {"a": s}}, range(400), {}
            ),
            "nested too deeply",
        ),
    ],
)
def test_a_schema_that_cannot_judge_outputs_is_refused_when_defined(
    schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(guardkit.errors.SchemaDefinitionError, match=re.escape(message)):
        guardkit.guard(policy(), output=schema, sinks=[])


async def test_async_function_with_reask() -> None:
    answers = replies("{", json.dumps(VALID))

    @guardkit.guard(policy(), output=Order, sinks=[])
    async def ask(messages: list[dict[str, str]]) -> str:
        await asyncio.sleep(0)
        return answers()

    result = await ask([{"role": "user", "content": "x"}])
    assert result.outcome is Outcome.REPAIRED and len(result.report.attempts) == 2


async def test_async_timeout_cancels_and_retries() -> None:
    first = {"slow": True}

    @guardkit.guard(policy().model_copy(update={"timeout_s": 0.1}), output=Order, sinks=[])
    async def ask() -> str:
        if first.pop("slow", False):
            await asyncio.sleep(5)
        return json.dumps(VALID)

    result = await ask()
    assert result.ok and result.report.attempts[0].error is not None
    assert result.report.attempts[0].error.type == "guardkit.errors.ProviderTimeout"


async def test_an_async_call_raising_timeout_itself_is_no_guard_timeout() -> None:
    @guardkit.guard(policy().model_copy(update={"timeout_s": 5}), output=Order, sinks=[])
    async def ask() -> str:
        raise TimeoutError("upstream said 504")

    with pytest.raises(GuardFailed) as info:
        await ask()
    error = info.value.report.attempts[0].error
    assert error is not None and (error.type, error.message) == (
        "TimeoutError",
        "upstream said 504",
    )


async def test_ledger_safe_under_asyncio(ledger: ReliabilityLedger) -> None:
    @guardkit.guard(policy(), output=Order, sinks=[ledger], model="gpt-test")
    async def ask(i: int) -> str:
        await asyncio.sleep(0)
        return json.dumps(VALID) if i % 4 else "bad"

    results = await asyncio.gather(*(ask(i) for i in range(40)), return_exceptions=True)
    assert sum(isinstance(r, GuardFailed) for r in results) == 10
    summary = ledger.summary()
    assert summary.calls == 40 and summary.reliable == 30
    assert summary.outcomes == {"reliable": 30, "failed": 10}


def test_report_is_one_json_log_event(caplog: pytest.LogCaptureFixture) -> None:
    @guardkit.guard(policy(), output=Order)
    def ask() -> str:
        return json.dumps(VALID)

    with caplog.at_level(logging.INFO, logger="guardkit.reports"):
        result = ask()
    [record] = [r for r in caplog.records if r.name == "guardkit.reports"]
    event = json.loads(record.getMessage())
    assert event["event"] == "guard_report" and event["call_id"] == result.report.call_id
    assert (
        event["outcome"] == "reliable" and event["policy"]["sha256"] == result.report.policy.sha256
    )


def test_failing_sink_warns_and_never_breaks_the_call() -> None:
    class Broken:
        def write(self, report: guardkit.GuardReport) -> None:
            raise OSError("disk full")

    @guardkit.guard(policy(), output=Order, sinks=[Broken()])
    def ask() -> str:
        return json.dumps(VALID)

    with pytest.warns(guardkit.reports.GuardkitSinkWarning, match="disk full"):
        assert ask().ok


def test_bad_output_argument() -> None:
    with pytest.raises(ConfigError, match="pydantic model class or a JSON Schema dict"):
        guardkit.guard(policy(), output=42)  # type: ignore[arg-type]


def test_a_schema_check_without_a_schema_is_an_error_not_dropped() -> None:
    configured = Policy.model_validate(
        {"id": "p", "version": "1", "checks": {"schema": {"strict_types": True}}}
    )

    with pytest.raises(ConfigError, match="the schema check needs an output schema"):
        guardkit.guard(configured, sinks=[])(lambda: "not JSON at all")


def test_report_stages_and_hashes() -> None:
    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask() -> str:
        return json.dumps(VALID)

    report = ask().report
    assert set(report.stages_ms) == {"generate", "check.schema", "total"}
    assert (
        report.attempts[0].output_sha256 is not None and len(report.attempts[0].output_sha256) == 64
    )
    assert report.finished_at >= report.started_at


def test_litellm_shaped_response() -> None:
    class Message:
        content = json.dumps(VALID)

    class Choice:
        message = Message()
        finish_reason = "stop"

    class LiteUsage:
        prompt_tokens, completion_tokens = 12, 4

    class ModelResponse:  # the class name litellm's completion() returns
        model = "gpt-test"
        choices = (Choice(),)
        usage = LiteUsage()

    @guardkit.guard(policy(), output=Order, sinks=[])
    def ask() -> Any:
        return ModelResponse()

    report = ask().report
    assert report.outcome is Outcome.RELIABLE and report.usage.input_tokens == 12


def test_the_grammar_schema_is_closed_as_the_check_judges() -> None:
    """A constrained decoder allows extra keys unless additionalProperties is false; the schema
    it decodes under is closed wherever a grammar can say so."""
    from guardkit.checks.schema import grammar_schema

    grammar = grammar_schema(Order.model_json_schema())
    assert grammar["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in grammar["$defs"].values())
    composed = {
        "type": "object",
        "properties": {"kind": {"type": "string"}},
        "anyOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {}}}],
        "allOf": [{"properties": {"c": {"type": "integer"}}}],
    }
    grammar = grammar_schema(composed)
    assert "additionalProperties" not in grammar  # its keys come from the branches too
    assert all("additionalProperties" not in b for b in [*grammar["anyOf"], *grammar["allOf"]])
    part = {  # a definition merged as an allOf part stays open: closed it refuses "b"
        "$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}}},
        "type": "object",
        "properties": {"b": {"type": "integer"}},
        "allOf": [{"$ref": "#/$defs/A"}],
    }
    assert "additionalProperties" not in grammar_schema(part)["$defs"]["A"]
    union = {"anyOf": [{"properties": {"a": {"type": "integer"}}}, {"type": "null"}]}
    assert grammar_schema(union)["anyOf"][0]["additionalProperties"] is False  # an alternative


def test_the_invoice_policy_refuses_a_number_written_as_text() -> None:
    """Its description: wrong types are never accepted (strict types, even for output=)."""

    class Total(BaseModel):
        order_id: str
        total: float

    invoice = guardkit.load_policy("policies/invoice-extraction.yaml")

    @guardkit.guard(invoice, output=Total, sinks=[])
    def ask() -> str:
        return '{"order_id": "A1", "total": "12.50"}'

    with pytest.raises(GuardFailed):
        ask()
