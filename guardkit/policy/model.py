"""What a policy says: the output schema, the checks and their thresholds, an action per failure.

Every model forbids unknown keys, so a typo can never silently switch a check off.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from guardkit.errors import GuardkitError, PolicyError, PolicyIssue
from guardkit.schemas import OutputSchema

__all__ = [
    "ACTION_TYPES",
    "ActionSpec",
    "FilterAction",
    "FixAction",
    "FlagAction",
    "ModelPrice",
    "OutputSpec",
    "Policy",
    "RaiseAction",
    "ReaskAction",
    "RecordsConfig",
    "RefrainAction",
    "ReviewConfig",
    "cross_section_problems",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutputSpec(_Strict):
    """The output schema: a pydantic model by import path, or a JSON Schema file.

    The schema is loaded with the policy, so a missing module or file fails at load time,
    never at the first call. A relative ``json_schema`` path is read from the policy's folder.
    """

    model: str | None = None
    json_schema: str | None = None
    _schema: OutputSchema = PrivateAttr()

    @field_validator("model")
    @classmethod
    def _import_model(cls, value: str | None) -> str | None:
        if value is not None:
            _load(lambda: OutputSchema.from_model_path(value))
        return value

    @field_validator("json_schema")
    @classmethod
    def _read_schema(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _load(lambda: OutputSchema.from_file(_base_dir(info) / value))
        return value

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> OutputSpec:
        if (self.model is None) == (self.json_schema is None):
            raise ValueError("give exactly one of 'model' (import path) or 'json_schema' (file)")
        if self.model is not None:
            self._schema = OutputSchema.from_model_path(self.model)
        else:
            self._schema = OutputSchema.from_file(_base_dir(info) / str(self.json_schema))
        return self

    @property
    def schema_(self) -> OutputSchema:
        """The loaded schema, resolved when the policy was loaded."""
        return self._schema


def fallback_problems(
    actions: Mapping[str, Any], schema: OutputSchema
) -> list[tuple[tuple[str | int, ...], str]]:
    """``(loc, message)`` of each ``refrain`` fallback the output schema refuses: it is returned
    in place of the output, on exactly the path no check runs on."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, spec in actions.items():
        loc: tuple[str | int, ...] = ("actions", name)
        action: Any = spec
        while action is not None:
            fallback = getattr(action, "fallback", None)
            if getattr(action, "type", None) == "refrain" and isinstance(fallback, dict):
                _, errors = schema.validate_python(fallback)
                if errors:
                    where = ".".join(map(str, errors[0].loc)) or "the fallback"
                    message = f"this fallback is no valid output ({where}: {errors[0].message})"
                    problems.append(((*loc, "fallback"), message))
            action = getattr(action, "then", None)
            loc = (*loc, "then")
    return problems


def _base_dir(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base_dir", "."))


def _load(loader: Callable[[], OutputSchema]) -> OutputSchema:
    try:
        return loader()
    except GuardkitError as exc:
        raise ValueError(exc.message) from exc


class _Action(_Strict):
    type: str

    def chain(self) -> list[str]:
        """The action and its fallbacks, in order, e.g. ``['reask', 'raise']``."""
        names = [self.type]
        then = getattr(self, "then", None)
        if isinstance(then, _Action):
            names += then.chain()
        return names


class RaiseAction(_Action):
    """Give up: raise ``GuardFailed`` with the report as evidence."""

    type: Literal["raise"] = "raise"


class FlagAction(_Action):
    """Return the output, marked for human review; it never counts as reliable."""

    type: Literal["flag"] = "flag"
    reason: str | None = None


class RefrainAction(_Action):
    """Return a safe fallback instead of the output."""

    type: Literal["refrain"] = "refrain"
    fallback: str | dict[str, Any] | None = None


class ReaskAction(_Action):
    """Ask again with the errors as feedback, up to ``max_attempts`` calls in all."""

    type: Literal["reask"] = "reask"
    max_attempts: int = Field(3, ge=1, le=20)
    then: ActionSpec = Field(default_factory=RaiseAction)


class FixAction(_Action):
    """Apply the failing check's own repair (e.g. strip code fences, drop unknown keys)."""

    type: Literal["fix"] = "fix"
    then: ActionSpec = Field(default_factory=RaiseAction)


class FilterAction(_Action):
    """Keep only the parts that pass (e.g. drop unsupported sentences)."""

    type: Literal["filter"] = "filter"
    then: ActionSpec = Field(default_factory=RaiseAction)


def _shorthand(value: Any) -> Any:
    """Let ``raise`` stand for ``{type: raise}`` in policy files."""
    return {"type": value} if isinstance(value, str) else value


ActionSpec = Annotated[
    ReaskAction | FixAction | FilterAction | RefrainAction | RaiseAction | FlagAction,
    Field(discriminator="type"),
]
for _model in (ReaskAction, FixAction, FilterAction):
    _model.model_rebuild()
_ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(ActionSpec)
ACTION_TYPES = frozenset({"reask", "fix", "filter", "refrain", "raise", "flag"})


class ModelPrice(_Strict):
    """Prices in the policy's currency per 1,000 tokens."""

    input_per_1k: float = Field(ge=0)
    output_per_1k: float = Field(ge=0)


class RecordsConfig(_Strict):
    """What of each call's raw input and output is kept: hashes, a redacted copy, or as is."""

    content: Literal["hash", "redact", "store"] = "hash"
    redact_patterns: list[str] = Field(default_factory=list)
    """Extra regular expressions to redact, beyond e-mails, phones, IBANs, cards and IPs."""
    log: str | None = None
    """Hash-chained log every report is sealed into (``.db`` SQLite or ``.jsonl``)."""
    retention_days: int = Field(183, ge=183)
    """How long records are kept: at least six months (EU AI Act Art. 19 and 26(6))."""
    _log_path: Path | None = PrivateAttr(None)

    @field_validator("log")
    @classmethod
    def _known_suffix(cls, log: str | None) -> str | None:
        from guardkit.records.store import SUFFIXES  # the records package imports policies

        if log is not None and Path(log).suffix not in SUFFIXES:
            raise ValueError(f"a record log ends in {', '.join(SUFFIXES)}, not {log!r}")
        return log

    @model_validator(mode="after")
    def _resolve_log(self, info: ValidationInfo) -> RecordsConfig:
        self._log_path = _base_dir(info) / self.log if self.log is not None else None
        return self

    @property
    def log_path(self) -> Path | None:
        """The log's path, relative paths taken from the policy file's folder."""
        return self._log_path

    @field_validator("redact_patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r}: {exc}") from exc
        return patterns


class ReviewConfig(_Strict):
    """Human review of flagged outputs."""

    queue: str
    """SQLite file of the review queue, relative to the policy file."""
    wait_s: float | None = Field(None, gt=0)
    """Block a flagged call up to this long for a decision; unset: return at once, flagged."""
    _queue_path: Path = PrivateAttr()

    @model_validator(mode="after")
    def _resolve_queue(self, info: ValidationInfo) -> ReviewConfig:
        self._queue_path = _base_dir(info) / self.queue
        return self

    @property
    def queue_path(self) -> Path:
        """The queue's path, relative paths taken from the policy file's folder."""
        return self._queue_path


DEFAULT_ACTIONS: dict[str, dict[str, Any]] = {
    "error": {"type": "reask", "max_attempts": 2},
    "schema": {"type": "reask", "max_attempts": 3},
}


class Policy(_Strict):
    """A declaration of what a reliable answer is and what to do when one is not."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    version: str = Field(min_length=1)
    description: str = ""
    output: OutputSpec | None = None
    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    timeout_s: float | None = Field(None, gt=0)
    currency: str = "USD"
    costs: dict[str, ModelPrice] = Field(default_factory=dict)
    records: RecordsConfig = Field(default_factory=RecordsConfig)
    review: ReviewConfig | None = None
    _check_configs: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    @field_validator("actions", mode="before")
    @classmethod
    def _expand_shorthand(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: _expand(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _validate_checks(self, info: ValidationInfo) -> Policy:
        configs, problems = cross_section_problems(self.checks, self.actions, info.context)
        lock = getattr(configs.get("risk"), "locked", None)
        calibrated = None if lock is None else (lock.policy_id, lock.policy_version)
        if calibrated is not None and calibrated != (self.id, self.version):
            # another version may judge differently, so the guarantee is not carried over
            problems.append(
                (
                    ("checks", "risk", "lock"),
                    f"the risk lock was calibrated for policy {calibrated[0]!r} version "
                    f"{calibrated[1]!r}, not {self.id!r} version {self.version!r}; "
                    "run guardkit calibrate for this policy",
                )
            )
        if self.output is not None:
            problems += fallback_problems(self.actions, self.output.schema_)
        if problems:
            raise PolicyError([PolicyIssue(msg, None, None, loc) for loc, msg in problems])
        self._check_configs = configs
        return self

    @property
    def check_configs(self) -> dict[str, BaseModel]:
        """Each configured check's validated settings, in policy order."""
        return dict(self._check_configs)

    def action_for(
        self, failure: str
    ) -> ReaskAction | FixAction | FilterAction | RefrainAction | RaiseAction | FlagAction:
        """The action for a failure kind (``error``, ``schema`` or a check name)."""
        if failure in self.actions:
            return self.actions[failure]
        default = DEFAULT_ACTIONS.get(failure, {"type": "raise"})
        action: ActionSpec = _ACTION_ADAPTER.validate_python(default)
        return action

    @property
    def sha256(self) -> str:
        """Hash of the policy's canonical JSON with its output schema's content (the file a
        ``json_schema`` path names can change): same meaning, same hash."""
        data = self.model_dump(mode="json")
        if self.output is not None:
            data["output_schema"] = self.output.schema_.json_schema()
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def cross_section_problems(
    checks: Mapping[str, Any], actions: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> tuple[dict[str, BaseModel], list[tuple[tuple[str | int, ...], str]]]:
    """Validate ``checks`` sections by their models, and that actions name real checks."""
    from guardkit.checks import validate_check_configs

    configs, problems = validate_check_configs(checks, context)
    known = {"error", "schema", *checks}
    for name in sorted(set(actions) - known):
        problems.append(
            (
                ("actions", name),
                f"no check named {name!r} to act on; known: {', '.join(sorted(known))}",
            )
        )
    return configs, problems


def _expand(value: Any) -> Any:
    value = _shorthand(value)
    if isinstance(value, dict) and "then" in value:
        return {**value, "then": _expand(value["then"])}
    return value
