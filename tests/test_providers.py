"""wrap(client) and @guard with the official SDKs against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from support.models import Order

import guardkit
from guardkit import GuardFailed, Outcome, Policy, ReliabilityLedger
from guardkit.testing import Answer
from guardkit.testing import ScriptedLLMServer as LLMServer

VALID = {"order_id": "A1", "items": [{"name": "pen", "quantity": 2, "price": 1.5}], "note": None}
PRICES = {"gpt-test": {"input_per_1k": 0.5, "output_per_1k": 1.5}}
MESSAGES = [{"role": "user", "content": "Extract the order."}]


def make_policy(**extra: Any) -> Policy:
    return Policy.model_validate({"id": "orders", "version": "1", "costs": PRICES, **extra})


def client(server: LLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def test_wrapped_client_validates_after_one_reask(
    server: LLMServer, ledger: ReliabilityLedger
) -> None:
    server.answer(
        Answer(
            '{"order_id": "A1", "items": [{"name": "pen", "quantity": "two", "price": 1.5}]}',
            input_tokens=200,
            output_tokens=40,
        ),
        Answer(json.dumps(VALID), input_tokens=300, output_tokens=50),
    )
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=Order, sinks=[ledger])
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)

    assert isinstance(result.output, Order) and result.output.items[0].quantity == 2
    report = result.report
    assert report.outcome is Outcome.REPAIRED and len(report.attempts) == 2
    assert report.attempts[0].failure == "schema"
    assert report.attempts[0].checks[0].errors[0].loc == ("items", 0, "quantity")
    assert report.usage.input_tokens == 500 and report.usage.output_tokens == 90
    assert report.cost == pytest.approx((500 * 0.5 + 90 * 1.5) / 1000)
    assert report.model == "gpt-test"
    assert report.generation["mode"] == "json_schema"

    first, second = server.requests
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["strict"] is True
    assert second["messages"][0] == MESSAGES[0]
    assert (
        second["messages"][1]["role"] == "assistant" and "two" in second["messages"][1]["content"]
    )
    assert "items.0.quantity" in second["messages"][2]["content"]

    summary = ledger.by_model()["gpt-test"]
    assert summary.calls == 1 and summary.reliable == 1
    assert summary.cost_per_reliable == pytest.approx(report.cost)


@pytest.mark.parametrize(
    "first",
    [
        "I think the order is A1",
        '{"order_id": "A1", "items": [{"name": "pen"',
        '{"order_id": "A1"}',
        "",
    ],
    ids=["prose", "truncated", "missing-field", "empty"],
)
def test_bad_answers_then_valid(server: LLMServer, first: str) -> None:
    server.answer(first, json.dumps(VALID))
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=Order, sinks=[])
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert result.ok and len(result.report.attempts) == 2


def test_server_error_is_recorded_then_retried(server: LLMServer) -> None:
    server.answer(Answer("overloaded", status=500), json.dumps(VALID))
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=Order, sinks=[])
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    error = result.report.attempts[0].error
    assert error is not None and error.type == "openai.InternalServerError" and error.retryable
    assert result.outcome is Outcome.REPAIRED


def test_a_default_clients_own_retries_are_turned_off(server: LLMServer) -> None:
    """A client as the README builds it (the SDK retries twice by default): each failed call is
    an attempt of the guard, recorded, not hidden inside the SDK's retries."""
    server.answer(
        Answer("overloaded", status=500), Answer("overloaded", status=500), json.dumps(VALID)
    )
    default = openai.OpenAI(base_url=server.base_url, api_key="test")
    assert default.max_retries == 2
    policy = make_policy(actions={"error": {"type": "reask", "max_attempts": 3}})
    result = guardkit.wrap(default, policy=policy, output=Order, sinks=[]).chat.completions.create(
        model="gpt-test", messages=MESSAGES
    )
    assert [a.error is not None for a in result.report.attempts] == [True, True, False]


def test_client_error_is_not_retried_and_not_swallowed(server: LLMServer) -> None:
    server.answer(Answer("bad request", status=400), json.dumps(VALID))
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=Order, sinks=[])
    with pytest.raises(GuardFailed) as info:
        guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert isinstance(info.value.__cause__, openai.BadRequestError)
    assert len(server.requests) == 1


def test_an_answer_cut_at_the_token_limit_is_never_reliable(server: LLMServer) -> None:
    server.answer(Answer("The refund takes five", finish_reason="length", output_tokens=7))
    policy = make_policy(actions={"error": {"type": "refrain", "fallback": "no answer"}})
    guarded = guardkit.wrap(client(server), policy=policy, sinks=[])  # text: no check to fail
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert result.outcome is Outcome.REFUSED and result.output == "no answer"
    (attempt,) = result.report.attempts
    assert attempt.error is not None and attempt.error.type == "guardkit.errors.ResponseTruncated"
    assert not attempt.error.retryable and attempt.usage is not None  # its tokens still cost


def _only_attempt(payload: dict[str, Any]) -> Any:
    """The one attempt of a guarded call returning ``payload``, which the policy refuses."""

    @guardkit.guard(policy=make_policy(), sinks=[])
    def ask() -> dict[str, Any]:
        return payload

    with pytest.raises(GuardFailed) as info:
        ask()
    (attempt,) = info.value.report.attempts
    return attempt


def test_a_refusal_is_a_failed_attempt_not_an_empty_answer() -> None:
    refusal = {
        "model": "gpt-test",
        "choices": [
            {
                "message": {"content": None, "refusal": "I can't help with that."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6},
    }

    attempt = _only_attempt(refusal)
    assert attempt.error is not None and "I can't help with that." in attempt.error.message
    assert attempt.error.type == "guardkit.errors.ModelRefused" and attempt.cost is not None


def test_a_streamed_or_anthropic_refusal_is_a_failed_attempt() -> None:
    from types import SimpleNamespace as NS

    from guardkit.providers.openai import _join_chunks

    chunks = [
        NS(model="m", usage=None, choices=[NS(delta=NS(content=None, refusal="I can't"))]),
        NS(model="m", usage=None, choices=[NS(delta=NS(content=None, refusal=" help."))]),
    ]
    assert _join_chunks(chunks).refusal == "I can't help."
    message = {
        "type": "message",
        "model": "claude-test",
        "content": [{"type": "text", "text": ""}],
        "stop_reason": "refusal",
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }

    error = _only_attempt(message).error
    assert error is not None and error.type == "guardkit.errors.ModelRefused"


def _validation_error() -> Exception:
    try:
        Order.model_validate({})
    except Exception as exc:  # pydantic.ValidationError, a ValueError
        return exc
    raise AssertionError("an empty order validated")


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (KeyError("k"), False),
        (ValueError("v"), False),
        (IndexError("i"), False),
        (json.JSONDecodeError("cut short", "{", 1), True),
        (_validation_error(), True),  # the answer parsed by the caller: another may parse
        (ConnectionError("reset"), True),
        (RuntimeError("an SDK's own error"), True),
    ],
)
def test_programming_errors_are_not_retried(exc: Exception, retryable: bool) -> None:
    calls = []
    policy = make_policy(actions={"error": {"type": "reask", "max_attempts": 2}})

    @guardkit.guard(policy=policy, sinks=[])
    def ask() -> str:
        calls.append(1)
        raise exc

    with pytest.raises(GuardFailed) as info:
        ask()
    assert info.value.report.attempts[0].error.retryable is retryable
    assert len(calls) == (2 if retryable else 1)


def test_timeout_is_retried_per_policy(server: LLMServer) -> None:
    server.answer(Answer(json.dumps(VALID), delay_s=1.0), json.dumps(VALID))
    policy = make_policy(timeout_s=0.3)
    guarded = guardkit.wrap(client(server), policy=policy, output=Order, sinks=[])
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    error = result.report.attempts[0].error
    # the whole call is bounded by the policy; the SDK's read timeout may fire first
    assert error is not None and error.retryable
    assert error.type in ("guardkit.errors.ProviderTimeout", "openai.APITimeoutError")
    assert result.ok and len(result.report.attempts) == 2


def test_streaming_is_buffered_and_validated(server: LLMServer) -> None:
    server.answer(
        Answer('{"order_id": 1}'), Answer(json.dumps(VALID), input_tokens=7, output_tokens=9)
    )
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=Order, sinks=[])
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    assert result.output == Order.model_validate(VALID)
    assert (
        result.report.attempts[1].usage is not None
        and result.report.attempts[1].usage.output_tokens == 9
    )
    assert result.report.generation["stream"] == "buffered"
    assert server.requests[0]["stream_options"] == {"include_usage": True}


def test_structured_outputs_can_be_turned_off(server: LLMServer) -> None:
    server.answer(json.dumps(VALID))
    guarded = guardkit.wrap(
        client(server), policy=make_policy(), output=Order, structured_outputs=False, sinks=[]
    )
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert result.ok and "response_format" not in server.requests[0]


def test_an_answer_to_the_callers_own_response_format_is_not_reshaped(
    server: LLMServer,
) -> None:
    server.answer(json.dumps({"value": [1, 2]}))  # the strict wrapping, not asked for here
    schema = {"type": "array", "items": {"type": "integer"}}
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=schema, sinks=[])
    with pytest.raises(GuardFailed):  # an object is no array: it is judged as it came
        guarded.chat.completions.create(
            model="gpt-test", messages=MESSAGES, response_format={"type": "json_object"}
        )
    assert server.requests[0]["response_format"] == {"type": "json_object"}


def test_strict_nulls_for_optional_fields_are_restored(server: LLMServer) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name"],
    }
    server.answer('{"name": "Ada", "age": null}')
    guarded = guardkit.wrap(client(server), policy=make_policy(), output=schema, sinks=[])
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert result.output == {"name": "Ada"}
    sent = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert sent["required"] == ["name", "age"] and sent["additionalProperties"] is False


def test_other_client_attributes_pass_through(server: LLMServer) -> None:
    raw = client(server)
    guarded = guardkit.wrap(raw, policy=make_policy(), output=Order, sinks=[])
    assert guarded.base_url == raw.base_url
    assert guarded.chat.completions.with_raw_response is not None


async def test_async_client(server: LLMServer) -> None:
    server.answer("nope", json.dumps(VALID))
    raw = openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    guarded = guardkit.wrap(raw, policy=make_policy(), output=Order, sinks=[])
    result = await guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert result.ok and len(result.report.attempts) == 2
    await raw.close()


async def test_async_streaming(server: LLMServer) -> None:
    server.answer(json.dumps(VALID))
    raw = openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    guarded = guardkit.wrap(raw, policy=make_policy(), output=Order, sinks=[])
    result = await guarded.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    assert result.outcome is Outcome.RELIABLE
    await raw.close()


def test_decorated_function_returning_chat_completion(server: LLMServer) -> None:
    server.answer("{", json.dumps(VALID))
    raw = client(server)

    @guardkit.guard(policy=make_policy(), output=Order, sinks=[])
    def extract(messages: list[dict[str, str]]) -> Any:
        return raw.chat.completions.create(model="gpt-test", messages=messages)

    result = extract(list(MESSAGES))
    assert result.outcome is Outcome.REPAIRED
    assert len(server.requests[1]["messages"]) == 3
    assert result.report.cost is not None


def test_decorated_function_returning_anthropic_message(server: LLMServer) -> None:
    server.answer(
        Answer("not json", input_tokens=10, output_tokens=3),
        Answer(json.dumps(VALID), input_tokens=20, output_tokens=6),
    )
    raw = anthropic.Anthropic(base_url=server.anthropic_url, api_key="test", max_retries=0)

    @guardkit.guard(policy=make_policy(), output=Order, sinks=[], model="claude-test")
    def extract(messages: list[dict[str, str]]) -> Any:
        return raw.messages.create(model="claude-test", max_tokens=256, messages=messages)

    result = extract(list(MESSAGES))
    assert result.output == Order.model_validate(VALID)
    assert result.report.usage.input_tokens == 30 and result.report.usage.output_tokens == 9
    assert result.report.model == "claude-test" and result.report.cost is None  # no price listed
    assert server.requests[1]["path"] == "/v1/messages"


async def test_async_anthropic_message(server: LLMServer) -> None:
    server.answer(json.dumps(VALID))
    raw = anthropic.AsyncAnthropic(base_url=server.anthropic_url, api_key="test", max_retries=0)

    @guardkit.guard(policy=make_policy(), output=Order, sinks=[])
    async def extract(messages: list[dict[str, str]]) -> Any:
        return await raw.messages.create(model="claude-test", max_tokens=256, messages=messages)

    assert (await extract(list(MESSAGES))).outcome is Outcome.RELIABLE
    await raw.close()


def test_wrap_names_what_it_guards_when_given_another_client() -> None:
    raw = anthropic.Anthropic(api_key="test", max_retries=0)
    with pytest.raises(guardkit.errors.ConfigError, match="OpenAI-compatible clients") as err:
        guardkit.wrap(raw, policy=make_policy())
    assert "@guardkit.guard" in (err.value.hint or "")


def test_guard_failed_says_why() -> None:
    @guardkit.guard(policy=make_policy(), sinks=[])
    def ask() -> object:
        return 42  # no response type guardkit reads

    with pytest.raises(GuardFailed, match=r"error failed on attempt 1: .*ConfigError: .*int"):
        ask()


def test_timeout_s_bounds_a_stream_that_keeps_dripping(server: LLMServer) -> None:
    """A slow stream is cut at the policy's bound and asked again (the bound is on the whole
    call, streaming included)."""
    import time

    server.answer(Answer(json.dumps(VALID), delay_s=2.0), json.dumps(VALID))
    policy = make_policy(timeout_s=0.5)
    guarded = guardkit.wrap(client(server), policy=policy, output=Order, sinks=[])
    started = time.perf_counter()
    result = guarded.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    assert result.ok and len(result.report.attempts) == 2
    assert result.report.attempts[0].error is not None
    assert time.perf_counter() - started < 2.0


def test_streamed_tool_call_arguments_are_the_answer() -> None:
    from types import SimpleNamespace as NS

    from guardkit.providers.openai import _join_chunks

    def chunk(index: int, arguments: str | None = None, content: str | None = None) -> NS:
        calls = [NS(index=0, function=NS(arguments=arguments))] if arguments else None
        delta = NS(content=content, refusal=None, tool_calls=calls)
        return NS(model="m", usage=None, choices=[NS(index=index, delta=delta)])

    chunks = [chunk(0, '{"order_id": '), chunk(1, content="other"), chunk(0, '"A1"}')]
    assert _join_chunks(chunks).text == '{"order_id": "A1"}'  # choice 0, tool arguments


@pytest.mark.parametrize(
    ("payload", "text", "refusal"),
    [
        (  # content as a list of parts
            {"choices": [{"message": {"content": [{"type": "text", "text": "Hi."}]}}]},
            "Hi.",
            None,
        ),
        (  # tool arguments as an object
            {"choices": [{"message": {"tool_calls": [{"function": {"arguments": {"a": 1}}}]}}]},
            '{"a": 1}',
            None,
        ),
        (  # stopped by the content filter
            {"choices": [{"message": {"content": "To reset"}, "finish_reason": "content_filter"}]},
            "To reset",
            "the provider's content filter stopped the answer",
        ),
        (  # Anthropic: text before the tool_use block is no part of the answer
            {
                "type": "message",
                "content": [
                    {"type": "text", "text": "Sure, here it is:"},
                    {"type": "tool_use", "input": {"a": 1}},
                ],
            },
            '{"a": 1}',
            None,
        ),
    ],
)
def test_response_shapes_are_read_as_text(
    payload: dict[str, Any], text: str, refusal: object
) -> None:
    from guardkit.guard.responses import read_response

    response = read_response(payload)
    assert response.text == text and response.refusal == refusal


def test_guard_failed_is_chained_to_the_error_that_ended_the_call(server: LLMServer) -> None:
    server.answer(Answer("overloaded", status=500), "not json", "not json")
    policy = make_policy(actions={"schema": {"type": "reask", "max_attempts": 2, "then": "raise"}})
    guarded = guardkit.wrap(client(server), policy=policy, output=Order, sinks=[])
    with pytest.raises(GuardFailed) as info:
        guarded.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert str(info.value).startswith("schema failed on attempt 2")
    assert info.value.__cause__ is None  # the 500 of attempt 1 was recovered from


def test_a_calls_cost_is_unknown_when_an_answer_is_unpriced_and_zero_when_none_came() -> None:
    def completion(model: str, content: str) -> dict[str, Any]:
        usage = {"prompt_tokens": 1000, "completion_tokens": 1000}
        return {"model": model, "choices": [{"message": {"content": content}}], "usage": usage}

    answers = iter(
        [completion("unpriced-model", "not json"), completion("gpt-test", json.dumps(VALID))]
    )

    @guardkit.guard(policy=make_policy(), output=Order, sinks=[])
    def ask(messages: list[dict[str, str]] | None = None) -> dict[str, Any]:
        return next(answers)

    partial = ask().report
    assert [a.cost for a in partial.attempts] == [None, 2.0] and partial.cost is None

    @guardkit.guard(policy=make_policy(), sinks=[])
    def down() -> str:
        raise ConnectionError("503")

    with pytest.raises(GuardFailed) as info:
        down()
    assert info.value.report.cost == 0.0  # nothing answered, nothing billed


def test_a_sync_stream_past_the_bound_is_closed_not_left_reading() -> None:
    import threading
    import time
    from types import SimpleNamespace as NS

    closed = threading.Event()

    class Drip:
        def __iter__(self) -> Any:
            for _ in range(20):
                time.sleep(0.1)
                yield NS(model="m", usage=None, choices=[NS(index=0, delta=NS(content="x"))])

        def close(self) -> None:
            closed.set()

    completions = NS(create=lambda **_: Drip())
    fake = NS(chat=NS(completions=completions))
    guarded = guardkit.wrap(fake, policy=make_policy(timeout_s=0.3), sinks=[])
    with pytest.raises(GuardFailed) as info:
        guarded.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    assert closed.wait(1.0)  # the worker closed the stream within a chunk of the bound
    assert info.value.report.cost is None  # what it generated before the cut was billed


def test_a_billed_answer_without_usage_has_an_unknown_cost() -> None:
    cut = {
        "model": "gpt-test",
        "choices": [{"message": {"content": "x" * 50}, "finish_reason": "length"}],
    }
    assert _only_attempt(cut).error is not None

    @guardkit.guard(policy=make_policy(), sinks=[])
    def ask() -> dict[str, Any]:
        return cut

    with pytest.raises(GuardFailed) as info:
        ask()
    assert info.value.report.cost is None  # an answer came: its price is not known to be 0
