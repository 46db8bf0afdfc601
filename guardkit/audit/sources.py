"""Where an audit's answers come from: the embedded model, an OpenAI-compatible server, or a file
of recorded responses. A registry by name; each source is built once per worker (once per Ray
actor), so models and clients load once, and answers one case at a time through the guard.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from guardkit._jsonl import json_objects
from guardkit.audit.suite import Case
from guardkit.errors import ConfigError, ProviderError, UnknownNameError
from guardkit.guard.pipeline import CallRequest, GuardPlan, GuardResult, drive_sync, run_pipeline
from guardkit.guard.plan import make_plan
from guardkit.guard.responses import ModelResponse, read_response
from guardkit.policy.loader import load_policy
from guardkit.policy.model import Policy

__all__ = [
    "SOURCES",
    "AuditWarning",
    "CaseRunner",
    "NoReferencesWarning",
    "SourceSpec",
    "UnmatchedResponsesWarning",
    "build_runner",
    "case_messages",
    "check_source",
    "load_audit_policy",
    "warn_unreferenced",
]


@dataclass(frozen=True)
class SourceSpec:
    """Everything a worker needs to build its source; plain data, so it pickles to Ray actors."""

    kind: str
    policy: str
    model: str | None = None
    base_url: str | None = None
    responses: str | None = None
    index: str | None = None
    max_tokens: int = 512
    """Generation limit per attempt for the local model."""

    def describe(self) -> str:
        """How the answers were obtained, for the audit state and the report."""
        model = f":{self.model}" if self.model else ""
        return f"{self.kind}{model}" + (f"@{self.base_url}" if self.base_url else "")


class CaseRunner(Protocol):
    """Answers one case through the guard; raises ``GuardFailed`` when the policy gives up."""

    def run(self, case: Case) -> GuardResult[Any]:
        """The guarded result for ``case``."""
        ...


def load_audit_policy(path: str, index: str | None) -> Policy:
    """The policy; ``index`` points its ``facts`` check at a fact index (adding the check)."""
    policy = load_policy(path)
    if index is None:
        return policy
    data = policy.model_dump(mode="json")
    facts = {**data["checks"].get("facts", {}), "index": str(Path(index).resolve())}
    data["checks"] = {**data["checks"], "facts": facts}
    return Policy.model_validate(data, context={"base_dir": str(Path(path).parent)})


_SYSTEM = (
    "Answer the question in one or two short sentences, using only the documents below."
    "\n\n{documents}"
)


def case_messages(case: Case) -> list[dict[str, Any]]:
    """The chat messages of a case: as given, or the documents as a system message and the input."""
    if case.messages is not None:
        return [dict(m) for m in case.messages]
    messages: list[dict[str, Any]] = []
    if case.context:
        docs = "\n\n".join(f"[{i}] {d}" for i, d in enumerate(case.context, start=1))
        messages.append({"role": "system", "content": _SYSTEM.format(documents=docs)})
    messages.append({"role": "user", "content": case.input or ""})
    return messages


def _plan(spec: SourceSpec) -> GuardPlan:
    policy = load_audit_policy(spec.policy, spec.index)
    plan = make_plan(policy, None, function="audit", model=spec.model, sinks=[])
    # recorded answers are no live traffic: flagged ones are queued for review, never waited on
    return dataclasses.replace(plan, waits_for_review=False)


def _drive(
    plan: GuardPlan,
    case: Case,
    call: Callable[[CallRequest], ModelResponse],
    calls: int | None = None,
) -> GuardResult[Any]:
    pipeline = run_pipeline(
        plan, messages=case_messages(case), documents=case.context, model=plan.model, calls=calls
    )
    return drive_sync(pipeline, call, plan.policy.timeout_s)


class RecordedResponses:
    """Judges answers recorded earlier: attempt ``n`` gets the case's ``n``-th recorded answer.
    A reask past the last recorded answer cannot be replayed: it is passed over for its
    ``then`` (a fallback, a flag), so the case is judged as the policy would end it.

    The file has one line per case: ``{"id", "response"}`` or ``{"id", "responses": [...]}``;
    an answer is text or a provider payload (an OpenAI completion or Anthropic message as JSON).
    """

    def __init__(self, spec: SourceSpec) -> None:
        if spec.responses is None:
            raise ConfigError("--responses FILE is needed for recorded responses")
        self.plan = _plan(spec)
        self.answers = _read_responses(Path(spec.responses))

    def run(self, case: Case) -> GuardResult[Any]:
        answers = self.answers.get(case.id, [])

        def call(request: CallRequest) -> ModelResponse:
            if request.attempt > len(answers):
                raise ProviderError(
                    f"no recorded response for case {case.id!r}, attempt {request.attempt}",
                    retryable=False,
                )
            return read_response(answers[request.attempt - 1])

        # a reask past the recorded answers is passed over: the policy's fallback judges
        return _drive(self.plan, case, call, calls=max(1, len(answers)))


def _read_responses(path: Path) -> dict[str, list[Any]]:
    """Each case's recorded answers, by id: text, or a provider payload (a JSON object)."""
    file = str(path)
    out: dict[str, list[Any]] = {}
    first: dict[str, int] = {}
    for number, row in json_objects(path):
        case_id = row.get("id")
        if not isinstance(case_id, str) or not case_id.strip():
            raise ConfigError("a line needs a string 'id'", file=file, line=number, loc=("id",))
        if case_id in first:
            raise ConfigError(
                f"duplicate id {case_id!r} (first on line {first[case_id]})",
                file=file,
                line=number,
                loc=("id",),
            )
        field = "responses" if "responses" in row else "response"
        answers = row[field] if field == "responses" else [row.get("response")]
        if not isinstance(answers, list) or not answers:
            raise ConfigError(
                "needs 'response' or a non-empty 'responses' list", file=file, line=number
            )
        for i, answer in enumerate(answers):
            if not isinstance(answer, str | dict):
                where = (field, i) if field == "responses" else (field,)
                raise ConfigError(
                    "an answer is text or a provider payload (a JSON object), "
                    f"not {type(answer).__name__ if answer is not None else 'null'}",
                    file=file,
                    line=number,
                    loc=where,
                )
        first[case_id] = number
        out[case_id] = answers
    return out


class AuditWarning(UserWarning):
    """Something in the audit's inputs that makes its figures mean less than they seem."""


class UnmatchedResponsesWarning(AuditWarning):
    """Suite cases without a recorded response (judged as failed), or responses for no case."""


class NoReferencesWarning(AuditWarning):
    """Cases whose claims a facts check can support with nothing: no index, no context."""


def warn_unreferenced(policy: Policy, cases: Sequence[Case]) -> None:
    """A ``NoReferencesWarning`` naming the cases a facts check without an index can only
    fail: with no context either, every claim of theirs is unverifiable."""
    facts = policy.check_configs.get("facts")
    if facts is None or getattr(facts, "index", None) is not None:
        return
    bare = [case.id for case in cases if not case.context]
    if bare:
        shown = ", ".join(repr(i) for i in bare[:5]) + (", ..." if len(bare) > 5 else "")
        warnings.warn(
            NoReferencesWarning(
                f"the facts check has no index and {len(bare)} of {len(cases)} cases give no "
                f"context, so none of their claims can be supported ({shown}); pass --index "
                "DIR or give each case its context"
            ),
            stacklevel=2,
        )


def _pair_up(file: str, recorded: dict[str, list[Any]], case_ids: Sequence[str]) -> None:
    if not case_ids:
        return
    missing = [i for i in case_ids if i not in recorded]
    if len(missing) == len(case_ids):
        raise ConfigError(
            f"none of the suite's {len(case_ids)} cases has a recorded response here "
            f"(suite ids such as {case_ids[0]!r}): is this the file recorded for this suite?",
            file=file,
        )
    known = set(case_ids)
    unknown = [i for i in recorded if i not in known]
    for ids, what in (
        (missing, "suite cases have no recorded response; each is judged a failed case"),
        (unknown, "recorded responses name no case of the suite and are not judged"),
    ):
        if ids:
            shown = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
            warnings.warn(
                UnmatchedResponsesWarning(f"{file}: {len(ids)} {what} ({shown})"), stacklevel=3
            )


class OpenAICompatible:
    """Calls an OpenAI-compatible server through ``guardkit.wrap``, as an application would."""

    def __init__(self, spec: SourceSpec) -> None:
        import openai

        from guardkit.providers.openai import wrap

        if not spec.model:
            raise ConfigError("--model openai:NAME needs a model name after 'openai:'")
        self.model = spec.model
        policy = load_audit_policy(spec.policy, spec.index)
        api_key = os.environ.get("OPENAI_API_KEY", "unused")
        inner = openai.OpenAI(base_url=spec.base_url, api_key=api_key, max_retries=0)
        self.client = wrap(inner, policy, sinks=[])

    def run(self, case: Case) -> GuardResult[Any]:
        result = self.client.chat.completions.create(
            model=self.model, messages=case_messages(case), guardkit_documents=case.context
        )
        assert isinstance(result, GuardResult)  # a sync client returns, never awaits
        return result


class EmbeddedModel:
    """The embedded local model (SmolLM2-135M-Instruct), decoding under the policy's schema.

    Constrained decoding keeps the output in the schema's language; the guard still validates
    every answer and runs every check, exactly as for a remote model.
    """

    def __init__(self, spec: SourceSpec) -> None:
        from guardkit.generation import load_local_model  # torch: imported only when chosen

        self.plan = _plan(spec)
        schema = self.plan.schema.json_schema() if self.plan.schema is not None else None
        self.generate = load_local_model(
            schema, max_new_tokens=spec.max_tokens, forbid_extra=_forbids_extra(self.plan)
        )

    def run(self, case: Case) -> GuardResult[Any]:
        messages = case_messages(case)

        def call(request: CallRequest) -> ModelResponse:
            return self.generate([*messages, *request.messages])

        return _drive(self.plan, case, call)


def _forbids_extra(plan: GuardPlan) -> bool:
    """Whether the plan's schema check refuses keys the schema does not declare."""
    from guardkit.checks.schema import SchemaCheck

    return any(isinstance(c, SchemaCheck) and c.config.forbid_extra for c in plan.checks)


SOURCES: dict[str, Callable[[SourceSpec], CaseRunner]] = {
    "local": EmbeddedModel,
    "openai": OpenAICompatible,
    "responses": RecordedResponses,
}


def check_source(spec: SourceSpec, case_ids: Sequence[str] = ()) -> None:
    """What can be checked about a source without loading a model (the recorded responses
    file is read, parsed and paired with the suite's ``case_ids``), so a bad one stops the
    audit before its folder is written. Cases and responses that do not pair up are named in
    an ``UnmatchedResponsesWarning``; a file pairing with no case at all is an error."""
    if spec.kind not in SOURCES:
        raise UnknownNameError("model source", spec.kind, SOURCES)
    if spec.kind == "responses":
        if spec.responses is None:
            raise ConfigError("--responses FILE is needed for recorded responses")
        _pair_up(spec.responses, _read_responses(Path(spec.responses)), case_ids)
    if spec.kind == "openai" and not spec.model:
        raise ConfigError("--model openai:NAME needs a model name after 'openai:'")


def build_runner(spec: SourceSpec) -> CaseRunner:
    """The source named by ``spec.kind``; unknown names list the known ones."""
    try:
        factory = SOURCES[spec.kind]
    except KeyError:
        raise UnknownNameError("model source", spec.kind, SOURCES) from None
    return factory(spec)
