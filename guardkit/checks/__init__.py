"""Checks: one small protocol, one module per check, a registry by name.

A check reads the candidate output of an attempt and returns a typed ``CheckResult``. New checks
(facts, risk, a team's own) are new modules that call ``register_check``; third-party packages
can register through the ``guardkit.checks`` entry-point group. The guard never changes.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo

from guardkit._shipped import shipped_folder, shipped_verifiers
from guardkit.checks._prose import prose_of
from guardkit.errors import GuardkitError, UnknownNameError
from guardkit.schemas import FieldError, OutputSchema

if TYPE_CHECKING:
    from guardkit.policy.model import Policy

__all__ = [
    "Check",
    "CheckContext",
    "CheckResult",
    "CheckSetup",
    "CheckType",
    "build_checks",
    "known_checks",
    "policy_relative",
    "register_check",
    "validate_check_configs",
]


def policy_relative(value: Path | None, info: ValidationInfo) -> Path | None:
    """A path from a check's settings, read from the policy's folder when the loader passes it
    (``base_dir`` context), otherwise from the working directory: a policy works from anywhere."""
    if value is None:
        return None
    return Path((info.context or {}).get("base_dir", ".")) / value


def model_folder(value: Path | None, info: ValidationInfo) -> Path | None:
    """A check's ``verifier`` folder (see :func:`policy_relative`) or a shipped model's folder
    name (a folder of that name beside the policy wins). It must hold a model: a typo is a
    policy error, found by ``guardkit policy check``, not at the first call."""
    from guardkit.verifier.manifest import read_manifest  # pydantic only: no model is loaded

    path = policy_relative(value, info)
    if value is None or path is None:
        return None
    shipped = None if path.exists() else shipped_folder(value)
    if shipped is not None:
        path = shipped
    elif not (path / "manifest.json").is_file():
        names = ", ".join(shipped_verifiers())
        raise ValueError(f"no model folder at {path} (no manifest.json); shipped: {names}")
    try:
        read_manifest(path)
    except GuardkitError as exc:
        raise ValueError(f"not a usable verifier: {exc}") from None
    return path


@dataclass
class CheckContext:
    """What a check sees: the candidate output and what the call was given."""

    text: str
    value: Any
    attempt: int
    schema: OutputSchema | None = None
    messages: list[dict[str, Any]] | None = None
    documents: list[str] = field(default_factory=list)
    """Reference documents passed with the call (``guardkit_documents=[...]``)."""
    results: list[CheckResult] = field(default_factory=list)
    """Results of the checks that ran before this one on the same candidate."""

    @property
    def prose(self) -> str:
        """What the output states, for checks that read its claims: the text, or, once the
        schema check has validated a structured value, that value's strings of three words or
        more (all its strings if it has none), one paragraph each. JSON keys and brackets are
        no claims, nor are labels such as ``"billing"`` or references such as ``"doc 1"``."""
        return self.text if self.structured is None else prose_of(self.structured)

    @property
    def structured(self) -> Any:
        """A structured output as the JSON data the schema validated (the schema check has
        passed and the value is not a plain string), else ``None``. The data is read from the
        text, so its keys are the schema's (a pydantic model's aliases, no computed fields)."""
        validated = any(r.check == "schema" and r.passed for r in self.results)
        if self.schema is None or not validated or isinstance(self.value, str):
            return None
        try:
            return json.loads(self.text)
        except ValueError:  # the schema check read it more leniently: the model's own dump
            if isinstance(self.value, BaseModel):
                return self.value.model_dump(mode="json", by_alias=True)
            return self.value


class CheckResult(BaseModel):
    """A check's verdict. ``fixed_text`` and ``filtered_text`` are remedies actions may use."""

    model_config = ConfigDict(frozen=True)

    check: str
    passed: bool
    score: float | None = Field(None, ge=0.0, le=1.0)
    errors: list[FieldError] = Field(default_factory=list)
    feedback: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    latency_ms: float = Field(0.0, ge=0.0)
    value: Any = Field(None, exclude=True)
    fixed_text: str | None = Field(None, exclude=True)
    filtered_text: str | None = Field(None, exclude=True)


@runtime_checkable
class Check(Protocol):
    """The contract every check meets: a name and one method."""

    name: str

    def run(self, ctx: CheckContext) -> CheckResult:
        """Judge the candidate in ``ctx``; never raise for a bad output, report it."""
        ...


@dataclass(frozen=True)
class CheckSetup:
    """What a check may need when it is built, once per guard (never per call)."""

    policy: Policy
    schema: OutputSchema | None


@dataclass(frozen=True)
class CheckType:
    """A registered check: its settings model and how to build it from them."""

    name: str
    config: type[BaseModel]
    build: Callable[[Any, CheckSetup], Check]


_REGISTRY: dict[str, CheckType] = {}
_PLUGINS_LOADED = False
_LOCK = threading.Lock()


def register_check(
    name: str, config: type[BaseModel], build: Callable[[Any, CheckSetup], Check]
) -> None:
    """Make a check available to policies under ``checks: {name: {...}}``."""
    _REGISTRY[name] = CheckType(name, config, build)


def _load_plugins() -> None:
    """Import built-in checks and entry points once; a broken plugin warns, never breaks."""
    global _PLUGINS_LOADED
    with _LOCK:
        if _PLUGINS_LOADED:
            return
        _PLUGINS_LOADED = True
        import guardkit.checks.facts
        import guardkit.checks.risk
        import guardkit.checks.schema  # noqa: F401

        for ep in entry_points(group="guardkit.checks"):
            try:
                ep.load()
            except Exception as exc:  # a third party's bug must not break guardkit
                warnings.warn(
                    f"guardkit check plugin {ep.name!r} failed to load: {exc}", stacklevel=2
                )


def known_checks() -> list[str]:
    """Names of every registered check."""
    _load_plugins()
    return sorted(_REGISTRY)


def _lookup(name: str) -> CheckType:
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("check", name, _REGISTRY) from None


def validate_check_configs(
    raw: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> tuple[dict[str, BaseModel], list[tuple[tuple[str | int, ...], str]]]:
    """Validate each ``checks`` section with its model; collect every problem with its loc.

    ``context`` is the policy's validation context (``base_dir``: the policy file's folder, so
    a check can resolve relative paths in its settings).
    """
    _load_plugins()
    configs: dict[str, BaseModel] = {}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, section in raw.items():
        if name not in _REGISTRY:
            known = ", ".join(sorted(_REGISTRY))
            problems.append((("checks", name), f"unknown check {name!r}; known: {known}"))
            continue
        try:
            configs[name] = _REGISTRY[name].config.model_validate(
                section or {}, context=dict(context or {})
            )
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                problems.append((("checks", name, *err["loc"]), err["msg"]))
    return configs, problems


def build_checks(policy: Policy, schema: OutputSchema | None) -> list[Check]:
    """The checks a guard runs, in order: the schema check first whenever there is a schema."""
    setup = CheckSetup(policy=policy, schema=schema)
    configs = policy.check_configs
    # first, whether the policy configures it or not; configured without a schema, it fails
    # to build (a check the policy asks for is never dropped in silence)
    names = ["schema"] if schema is not None or "schema" in configs else []
    names += [name for name in configs if name != "schema"]
    checks = []
    for name in names:
        kind = _lookup(name)
        config = configs.get(name) or kind.config()
        checks.append(kind.build(config, setup))
    return checks
