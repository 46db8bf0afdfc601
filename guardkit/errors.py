"""Every error guardkit raises, rooted at one class.

Each error carries a stable ``code`` (tests and docs match on it, never on the message)
and, where the problem has a place, the place: ``file``, ``line`` and ``loc`` (the path of
the field, as pydantic writes it).

    GuardkitError                      guardkit_error
    ├── ConfigError                    config_error        misuse of the API or CLI
    │   └── UnknownNameError           unknown_name        a registry has no such name
    ├── PolicyError                    policy_invalid      a policy file or object is invalid
    ├── SchemaDefinitionError          schema_invalid      an output schema cannot be used
    ├── OutputError                    output_invalid      an output does not parse or validate
    ├── ProviderError                  provider_error      the guarded call failed (retryable?)
    │   └── ProviderTimeout            provider_timeout    the guarded call timed out
    ├── GuardFailed                    guard_failed        the policy gave up; carries the report
    ├── ModelError                     model_invalid       a model folder is broken or mismatched
    └── FactIndexError                 index_invalid       a fact index is broken or mismatched
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from guardkit.reports import GuardReport

__all__ = [
    "ConfigError",
    "FactIndexError",
    "GuardFailed",
    "GuardkitError",
    "ModelError",
    "ModelRefused",
    "OutputError",
    "PolicyError",
    "PolicyIssue",
    "ProviderError",
    "ProviderTimeout",
    "ResponseTruncated",
    "SchemaDefinitionError",
    "UnknownNameError",
]

Loc = tuple[str | int, ...]


def format_loc(loc: Sequence[str | int]) -> str:
    """Write a field path the way a reader finds it in a YAML or JSON file: ``a.b[0].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class GuardkitError(Exception):
    """Root of every guardkit error; ``code`` is stable, the message is for people."""

    code: ClassVar[str] = "guardkit_error"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        loc: Sequence[str | int] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.loc: Loc = tuple(loc)
        self.hint = hint

    def where(self) -> str:
        """The place as ``file:line field``, or an empty string when there is none."""
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.loc:
            parts.append(f"field {format_loc(self.loc)}")
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return f"{text} [{self.code}]"


class ConfigError(GuardkitError):
    """The API or CLI was used in a way that cannot work."""

    code = "config_error"


class UnknownNameError(ConfigError):
    """A name was looked up in a registry that does not have it; the known names are listed."""

    code = "unknown_name"

    def __init__(self, kind: str, name: str, known: Iterable[str], **kwargs: Any) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        super().__init__(
            f"unknown {kind} {name!r}; known: {', '.join(self.known) or '(none)'}", **kwargs
        )


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy, at its place."""

    message: str
    file: str | None
    line: int | None
    loc: Loc

    def __str__(self) -> str:
        place = f"{self.file or '<policy>'}:{self.line}" if self.line else (self.file or "<policy>")
        field = f" field {format_loc(self.loc)}" if self.loc else ""
        return f"{place}:{field} {self.message}"


class PolicyError(GuardkitError):
    """A policy is invalid; ``issues`` lists every problem found, each with file, line, field."""

    code = "policy_invalid"

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = list(issues)
        first = self.issues[0]
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(first.message + more, file=first.file, line=first.line, loc=first.loc)


class SchemaDefinitionError(GuardkitError):
    """An output schema cannot be used: missing, not importable, or not a valid JSON Schema."""

    code = "schema_invalid"


class OutputError(GuardkitError):
    """An output does not parse or does not validate against its schema."""

    code = "output_invalid"


class ProviderError(GuardkitError):
    """The guarded call failed; ``retryable`` says whether trying again can help."""

    code = "provider_error"

    def __init__(self, message: str, *, retryable: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retryable = retryable


class ProviderTimeout(ProviderError):
    """The guarded call did not answer within the policy's timeout."""

    code = "provider_timeout"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, retryable=True, **kwargs)


class ModelRefused(ProviderError):
    """The provider declined to answer (a ``refusal`` in place of content)."""

    code = "model_refused"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, retryable=False, **kwargs)


class ResponseTruncated(ProviderError):
    """The provider stopped at its token limit: the answer is incomplete, never reliable.
    Asking again with the same limit would stop there again, so it is not retried."""

    code = "response_truncated"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, retryable=False, **kwargs)


class GuardFailed(GuardkitError):
    """The policy gave up on a call. The report holds the evidence: every attempt and check."""

    code = "guard_failed"

    def __init__(self, message: str, *, report: GuardReport, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.report = report


class ModelError(GuardkitError):
    """A model folder is broken: a wrong hash, a missing file, labels that do not match."""

    code = "model_invalid"


class FactIndexError(GuardkitError):
    """A fact index folder is broken, or was built with another embedding model."""

    code = "index_invalid"
