"""Reading an audit suite: one JSON case a line, every problem reported with its line number.

A case is ``{"id", "input" | "messages", "context"?, "expected"?, "hallucinated"?, "metadata"?}``.
``context`` holds the documents the answer must be grounded in (a string or a list);
``hallucinated`` is a reviewer's label, used for calibration figures. Unknown keys are errors,
so a misspelt ``contxt`` cannot silently audit without documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from guardkit._jsonl import DuplicateKeyError, loads
from guardkit.errors import ConfigError, format_loc

__all__ = ["Case", "Numbered", "SuiteError", "SuiteProblem", "read_suite"]


class SuiteError(ConfigError):
    """A suite line cannot be used (raised with ``--fail-fast``; otherwise skipped and recorded)."""

    code = "suite_invalid"


class Case(BaseModel):
    """One audit case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    input: str | None = Field(None, min_length=1)
    messages: list[dict[str, Any]] | None = Field(None, min_length=1)
    context: list[str] = Field(default_factory=list)
    expected: Any = None
    hallucinated: StrictBool | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("context", mode="before")
    @classmethod
    def _one_document(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("context")
    @classmethod
    def _no_blank_document(cls, value: list[str]) -> list[str]:
        if any(not doc.strip() for doc in value):
            raise ValueError("a context document is blank")
        return value

    @field_validator("messages")
    @classmethod
    def _chat_messages(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for i, message in enumerate(value or []):
            if not isinstance(message.get("role"), str) or "content" not in message:
                raise ValueError(f"message {i} needs a 'role' string and 'content'")
        return value

    @model_validator(mode="after")
    def _one_prompt(self) -> Case:
        if (self.input is None) == (self.messages is None):
            raise ValueError("give exactly one of 'input' (text) or 'messages' (chat messages)")
        return self


class SuiteProblem(BaseModel):
    """A suite line that was skipped, and why."""

    model_config = ConfigDict(frozen=True)

    line: int = Field(ge=1)
    message: str


@dataclass(frozen=True)
class Numbered:
    """A case and the line it came from."""

    line: int
    case: Case


def _parse(raw: str, line: int) -> Case:
    try:
        data = loads(raw)
    except DuplicateKeyError as exc:
        raise SuiteError(str(exc), line=line) from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"not JSON: {exc.msg} (column {exc.colno})", line=line) from exc
    except RecursionError:
        raise SuiteError("not JSON: nested too deeply", line=line) from None
    if not isinstance(data, dict):
        raise SuiteError("a case must be a JSON object", line=line)
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        message = err["msg"].removeprefix("Value error, ")
        raise SuiteError(message, line=line, loc=tuple(err["loc"])) from exc


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, f"\x00{exc.reason}"


def read_suite(
    path: str | Path, *, fail_fast: bool = False
) -> tuple[list[Numbered], list[SuiteProblem]]:
    """Every valid case in file order, and a problem per bad line (blank lines are ignored).

    With ``fail_fast`` the first bad line raises ``SuiteError`` naming file, line and field.
    """
    path = Path(path)
    if not path.is_file():
        raise SuiteError("the suite file does not exist", file=str(path))
    cases: list[Numbered] = []
    problems: list[SuiteProblem] = []
    seen: dict[str, int] = {}
    for number, raw in _lines(path):
        if not raw.strip():
            continue
        try:
            if raw.startswith("\x00"):
                raise SuiteError(f"not UTF-8 text: {raw[1:]}", line=number)
            case = _parse(raw, number)
            if case.id in seen:
                raise SuiteError(
                    f"duplicate id {case.id!r} (first on line {seen[case.id]})",
                    line=number,
                    loc=("id",),
                )
        except SuiteError as exc:
            if fail_fast:
                exc.file = str(path)
                raise
            where = f"field {format_loc(exc.loc)}: " if exc.loc else ""
            problems.append(SuiteProblem(line=number, message=where + exc.message))
            continue
        seen[case.id] = number
        cases.append(Numbered(number, case))
    if not cases:
        first = f"; line {problems[0].line}: {problems[0].message}" if problems else ""
        raise SuiteError(f"the suite has no usable cases{first}", file=str(path))
    return cases, problems
