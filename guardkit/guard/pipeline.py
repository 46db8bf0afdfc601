"""The guarded call as one sans-I/O state machine, shared by every sync and async front end.

``run_pipeline`` is a generator: it yields a ``CallRequest`` whenever the model must be called
and is sent back a ``CallOutcome``; drivers (``drive_sync``, ``drive_async``) do the calling.
So reask, checks, actions and reporting are written once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from guardkit.actions import Fail, Failure, Replace, Retry, Return, decide
from guardkit.checks import Check, CheckContext, CheckResult
from guardkit.errors import (
    GuardFailed,
    ModelRefused,
    ProviderError,
    ProviderTimeout,
    ResponseTruncated,
)
from guardkit.guard.responses import ModelResponse
from guardkit.policy.model import Policy
from guardkit.providers.errors import describe_error
from guardkit.records.content import ContentRecorder
from guardkit.reports.model import (
    ActionTaken,
    Attempt,
    GuardReport,
    Outcome,
    PolicyRef,
    ReviewInfo,
    Usage,
)
from guardkit.reports.sinks import ReportSink, emit
from guardkit.review.queue import ReviewQueue
from guardkit.schemas import OutputSchema

__all__ = [
    "CallOutcome",
    "CallRequest",
    "GuardPlan",
    "GuardResult",
    "Pipeline",
    "drive_async",
    "drive_sync",
    "run_pipeline",
]

T = TypeVar("T")
Pipeline = Generator["CallRequest", "CallOutcome", "GuardResult[Any]"]


@dataclass(frozen=True)
class GuardPlan:
    """Everything fixed when a guard is created, so nothing is loaded or parsed per call."""

    policy: Policy
    policy_ref: PolicyRef
    schema: OutputSchema | None
    checks: list[Check]
    sinks: list[ReportSink]
    content: ContentRecorder
    review: ReviewQueue | None = None
    function: str | None = None
    model: str | None = None
    waits_for_review: bool = True
    """Whether a flagged call waits for a reviewer when the policy says ``wait_s``: an audit's
    flagged cases still go on the queue, but nothing waits for them."""


@dataclass(frozen=True)
class CallRequest:
    """Call the model; ``messages`` are to be appended to the original conversation."""

    attempt: int
    messages: tuple[dict[str, str], ...] = ()
    feedback: str | None = None


@dataclass(frozen=True)
class CallOutcome:
    """What one call produced: a response or the exception it raised."""

    started_at: datetime
    latency_ms: float
    response: ModelResponse | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class GuardResult(Generic[T]):
    """A guarded call's output and its report; ``output`` is ``None`` unless the policy allows."""

    output: T | None
    report: GuardReport

    @property
    def ok(self) -> bool:
        """Whether the output is a reliable completion (validated, possibly after repair)."""
        return self.report.reliable

    @property
    def outcome(self) -> Outcome:
        """How the call ended."""
        return self.report.outcome


@dataclass
class _Call:
    """Mutable state of one guarded call."""

    plan: GuardPlan
    documents: list[str]
    messages: list[dict[str, Any]] | None
    arguments: dict[str, Any] | None = None
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.perf_counter)
    attempts: list[Attempt] = field(default_factory=list)
    actions: list[ActionTaken] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    model: str | None = None
    last_error: BaseException | None = None
    last_text: str | None = None
    generation: dict[str, Any] = field(default_factory=dict)

    def evaluate(
        self, text: str, attempt: int
    ) -> tuple[list[CheckResult], Any, CheckResult | None]:
        """Run the checks in order on one candidate; stop at the first that fails.

        Returns the results, the last *validated* value (the text itself when there is no
        schema; ``None`` while the schema check has not passed) and the failing result.
        """
        ctx = CheckContext(
            text=text,
            value=text,
            attempt=attempt,
            schema=self.plan.schema,
            messages=self.messages,
            documents=self.documents,
        )
        validated: Any = text if self.plan.schema is None else None
        results: list[CheckResult] = []
        for check in self.plan.checks:
            t0 = time.perf_counter()
            result = check.run(ctx)
            ms = (time.perf_counter() - t0) * 1000
            result = result.model_copy(update={"latency_ms": ms})
            self.stages[f"check.{check.name}"] += ms
            results.append(result)
            ctx.results = list(results)
            if not result.passed:
                return results, validated, result
            if result.value is not None:
                ctx.value = validated = result.value
        return results, validated, None

    def record(
        self,
        outcome: CallOutcome,
        number: int,
        checks: list[CheckResult],
        failure: str | None,
        before_repair: list[CheckResult] | None = None,
    ) -> None:
        response = outcome.response
        if response is not None and response.generation:
            self.generation.update(response.generation)
        usage = response.usage if response else None
        model = (response.model if response else None) or self.model or self.plan.model
        self.model = model or self.model
        text = response.text if response else None
        self.attempts.append(
            Attempt(
                number=number,
                started_at=outcome.started_at,
                latency_ms=outcome.latency_ms,
                output_sha256=hashlib.sha256(text.encode()).hexdigest()
                if text is not None
                else None,
                output_chars=len(text or ""),
                error=describe_error(outcome.error) if outcome.error is not None else None,
                usage=usage,
                cost=_price(self.plan.policy, model, usage),
                checks=checks,
                before_repair=before_repair or [],
                failure=failure,
            )
        )
        self.stages["generate"] += outcome.latency_ms

    def report(
        self, outcome: Outcome, checks: list[CheckResult], review: ReviewInfo | None = None
    ) -> GuardReport:
        """Build the call's report and hand it to the sinks."""
        report = self.build(outcome, checks, review)
        emit(report, self.plan.sinks)
        return report

    def build(
        self, outcome: Outcome, checks: list[CheckResult], review: ReviewInfo | None
    ) -> GuardReport:
        usage = sum((a.usage for a in self.attempts if a.usage), Usage())
        # a call's cost is known when every attempt's is: priced, or failed before any answer
        # (nothing billed); one answer without a price (or without usage) makes it unknown
        known = [a.cost if a.cost is not None else 0.0 for a in self.attempts if _costed(a)]
        cost = sum(known) if len(known) == len(self.attempts) else None
        stages = dict(self.stages)
        stages["total"] = (time.perf_counter() - self.clock) * 1000
        return GuardReport(
            call_id=self.call_id,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
            function=self.plan.function,
            model=self.model,
            policy=self.plan.policy_ref,
            attempts=[
                a.model_copy(
                    update={
                        "checks": self.plan.content.findings(a.checks),
                        "before_repair": self.plan.content.findings(a.before_repair),
                    }
                )
                for a in self.attempts
            ],
            checks=self.plan.content.findings(checks),
            actions=self.actions,
            outcome=outcome,
            stages_ms=stages,
            usage=usage,
            cost=cost,
            currency=self.plan.policy.currency,
            generation=self.generation,
            content=self.plan.content.record(self.messages, self.last_text, self.arguments),
            review=review,
        )

    def reviewed(self, output: Any, checks: list[CheckResult]) -> GuardResult[Any]:
        """Hold a flagged call until a reviewer decides; approved: returned; else refused."""
        queue, policy = self.plan.review, self.plan.policy
        assert queue is not None and policy.review is not None and policy.review.wait_s
        item = queue.wait(
            queue.submit(self.build(Outcome.FLAGGED, checks, None)).id, policy.review.wait_s
        )
        info = ReviewInfo(id=item.id, status=item.status, reviewer=item.reviewer, note=item.note)
        if item.status == "approved":
            return GuardResult(output=output, report=self.report(Outcome.FLAGGED, checks, info))
        return GuardResult(output=None, report=self.report(Outcome.REFUSED, checks, info))


def _costed(attempt: Attempt) -> bool:
    """Whether an attempt's cost is known: it was priced, or it failed with no answer at all
    (a truncated or refused answer was generated, and billed, even when it came unpriced)."""
    no_answer = attempt.output_sha256 is None and attempt.usage is None
    # a timeout may have cut an answer already being generated (and billed): unknown
    cut = attempt.error is not None and "Timeout" in attempt.error.type
    return attempt.cost is not None or (attempt.error is not None and no_answer and not cut)


def _price(policy: Policy, model: str | None, usage: Usage | None) -> float | None:
    """Cost of one attempt: the longest cost-table key the model id starts with sets the price."""
    if usage is None or model is None:
        return None
    keys = [k for k in policy.costs if model == k or model.startswith(k)]
    if not keys:
        return None
    price = policy.costs[max(keys, key=len)]
    return (
        usage.input_tokens * price.input_per_1k + usage.output_tokens * price.output_per_1k
    ) / 1000


def run_pipeline(
    plan: GuardPlan,
    *,
    messages: list[dict[str, Any]] | None = None,
    documents: list[str] | None = None,
    generation: dict[str, Any] | None = None,
    model: str | None = None,
    calls: int | None = None,
    arguments: dict[str, Any] | None = None,
) -> Generator[CallRequest, CallOutcome, GuardResult[Any]]:
    """The guarded call: ask, check, act, until an output is returned or the policy gives up.

    ``calls``: how many times the model can be called at all (answers recorded earlier): a
    reask past them is passed over for its ``then``, as when its own attempts are used up.
    ``arguments``: what the call was given, recorded as its input when there are no messages.
    """
    call = _Call(plan=plan, documents=list(documents or []), messages=messages, arguments=arguments)
    call.generation = dict(generation or {})
    call.model = model
    request = CallRequest(attempt=1)
    while True:
        outcome = _unfinished_as_error((yield request))
        number = request.attempt
        used: frozenset[str] = frozenset()
        repaired = number > 1
        text = outcome.response.text if outcome.response else None
        if outcome.error is not None:
            call.last_error = outcome.error
            call.record(outcome, number, [], "error")
            failure = Failure(
                "error",
                number,
                None,
                None,
                error=describe_error(outcome.error),
                last_call=calls is not None and number >= calls,
            )
            checks: list[CheckResult] = []
            tried, decision = decide(plan.policy.action_for("error"), failure)
        else:
            assert text is not None
            before: list[CheckResult] = []
            while True:
                call.last_text = text
                checks, value, failed = call.evaluate(text, number)
                if failed is None:
                    call.record(outcome, number, checks, None, before)
                    final = Outcome.REPAIRED if repaired else Outcome.RELIABLE
                    return GuardResult(output=value, report=call.report(final, checks))
                failure = Failure(
                    failed.check,
                    number,
                    text,
                    value,
                    result=failed,
                    used=used,
                    last_call=calls is not None and number >= calls,
                )
                tried, decision = decide(plan.policy.action_for(failed.check), failure)
                if not isinstance(decision, Replace):
                    break
                call.actions.append(
                    ActionTaken(
                        failure=failed.check,
                        action=tried[-1],
                        attempt=number,
                        detail=_passed_over(tried) or None,
                    )
                )
                text, used, repaired = decision.text, used | {decision.remedy}, True
                before += checks
            call.record(outcome, number, checks, failure.kind, before)
        detail = decision.detail if isinstance(decision, Return) else None
        passed_over = _passed_over(tried)
        if passed_over:
            detail = f"{detail}; {passed_over}" if detail else passed_over
        call.actions.append(
            ActionTaken(failure=failure.kind, action=tried[-1], attempt=number, detail=detail)
        )
        if isinstance(decision, Retry):
            request = CallRequest(
                attempt=number + 1,
                messages=request.messages + decision.messages,
                # a plain retry (after an error) asks again as the last attempt did, feedback kept
                feedback=decision.feedback if decision.feedback is not None else request.feedback,
            )
            continue
        if isinstance(decision, Return):
            waits = (
                plan.waits_for_review
                and plan.review is not None
                and plan.policy.review
                and plan.policy.review.wait_s
            )
            if decision.outcome is Outcome.FLAGGED and waits:
                return call.reviewed(decision.output, checks)
            output = decision.output
            if decision.outcome is Outcome.REFUSED and plan.schema and isinstance(output, dict):
                output = plan.schema.validate_python(output)[0]  # a fallback, typed as outputs are
            return GuardResult(output=output, report=call.report(decision.outcome, checks))
        assert isinstance(decision, Fail)
        report = call.report(Outcome.FAILED, checks)
        # chained to the error that ended the call, not to one an earlier attempt recovered from
        cause = call.last_error if failure.kind == "error" else None
        raise GuardFailed(decision.message, report=report) from cause


def _unfinished_as_error(outcome: CallOutcome) -> CallOutcome:
    """A reply that is no answer (a refusal) or only part of one (cut at the token limit) is a
    failed attempt, whatever the checks would say of its text; its usage is still counted."""
    response = outcome.response
    if outcome.error is not None or response is None:
        return outcome
    if response.refusal:
        error: ProviderError = ModelRefused(f"the model declined to answer: {response.refusal}")
    elif response.truncated:
        error = ResponseTruncated("the answer stopped at the provider's token limit")
    else:
        return outcome
    return replace(outcome, error=error)


def _passed_over(tried: list[str]) -> str:
    """The actions the policy passed over before the deciding one, each with why."""
    return "; ".join(f"{t} (passed over)" for t in tried[:-1])


def _now() -> tuple[datetime, float]:
    return datetime.now(UTC), time.perf_counter()


def drive_sync(
    pipeline: Generator[CallRequest, CallOutcome, GuardResult[Any]],
    call: Callable[[CallRequest], ModelResponse],
    timeout_s: float | None = None,
) -> GuardResult[Any]:
    """Run the pipeline, calling the model synchronously."""
    request = next(pipeline)
    while True:
        started, t0 = _now()
        try:
            response = _call_with_timeout(call, request, timeout_s)
            outcome = CallOutcome(started, (time.perf_counter() - t0) * 1000, response=response)
        except Exception as exc:
            outcome = CallOutcome(started, (time.perf_counter() - t0) * 1000, error=exc)
        try:
            request = pipeline.send(outcome)
        except StopIteration as stop:
            result: GuardResult[Any] = stop.value
            return result


def _call_with_timeout(
    call: Callable[[CallRequest], ModelResponse], request: CallRequest, timeout_s: float | None
) -> ModelResponse:
    """Sync calls cannot be cancelled: past the timeout the call is abandoned to its thread.
    The call runs in a copy of the caller's context, so context variables (a request id, a
    tenant) read the same on that thread; thread-locals cannot follow it."""
    if timeout_s is None:
        return call(request)
    context = contextvars.copy_context()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="guardkit-call")
    future = pool.submit(context.run, call, request)
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        if future.done():  # the call raised TimeoutError itself (an upstream 504): its own
            raise
        raise ProviderTimeout(f"the guarded call did not return within {timeout_s} s") from None
    finally:
        pool.shutdown(wait=False)


async def drive_async(
    pipeline: Generator[CallRequest, CallOutcome, GuardResult[Any]],
    call: Callable[[CallRequest], Awaitable[ModelResponse]],
    timeout_s: float | None = None,
) -> GuardResult[Any]:
    """Run the pipeline, awaiting the model; a timeout cancels the pending call."""
    request = next(pipeline)
    while True:
        started, t0 = _now()
        limit = asyncio.timeout(timeout_s)
        try:
            async with limit:
                response = await call(request)
            outcome = CallOutcome(started, (time.perf_counter() - t0) * 1000, response=response)
        except TimeoutError as exc:
            error: BaseException = exc  # the call's own TimeoutError (an upstream 504) stays
            if limit.expired():
                error = ProviderTimeout(f"the guarded call did not return within {timeout_s} s")
            outcome = CallOutcome(started, (time.perf_counter() - t0) * 1000, error=error)
        except Exception as exc:
            outcome = CallOutcome(started, (time.perf_counter() - t0) * 1000, error=exc)
        try:
            request = pipeline.send(outcome)
        except StopIteration as stop:
            result: GuardResult[Any] = stop.value
            return result
