"""Reading JSONL input files with errors that name the file, line and field."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from guardkit.errors import ConfigError

__all__ = ["DuplicateKeyError", "encodable", "json_objects", "loads"]


class DuplicateKeyError(ValueError):
    """A JSON object names one key twice: JSON leaves the meaning open and Python's ``json``
    keeps the last value silently, so a line that says two things is refused instead."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} appears twice in one object (at any depth)")
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKeyError(key)
        found[key] = value
    return found


def loads(text: str) -> Any:
    """``json.loads``, refusing an object with a key twice (``DuplicateKeyError``)."""
    return json.loads(text, object_pairs_hook=_unique)


def encodable(text: str) -> bool:
    """Whether ``text`` is real Unicode text: JSON allows escapes of half a surrogate pair."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_objects(path: Path, required: Sequence[str] = ()) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line as ``(line number, object)``; ``required`` fields: non-empty text."""
    if not path.is_file():
        raise ConfigError("input file does not exist", file=str(path))
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ConfigError(
                    f"not UTF-8 text (byte {exc.start + 1} of the line)", file=str(path), line=n
                ) from exc
            if not line.strip():
                continue
            try:
                row = loads(line)
            except DuplicateKeyError as exc:
                raise ConfigError(str(exc), file=str(path), line=n) from None
            except json.JSONDecodeError as exc:
                raise ConfigError(f"not valid JSON: {exc.msg}", file=str(path), line=n) from exc
            except RecursionError as exc:
                raise ConfigError(
                    "not valid JSON: nested too deeply", file=str(path), line=n
                ) from exc
            if not isinstance(row, dict):
                raise ConfigError("each line must be a JSON object", file=str(path), line=n)
            for key in required:
                if key not in row:
                    raise ConfigError(f"missing field {key!r}", file=str(path), line=n, loc=(key,))
                if not isinstance(row[key], str) or not row[key].strip():
                    raise ConfigError(
                        f"field {key!r} must be a non-empty string",
                        file=str(path),
                        line=n,
                        loc=(key,),
                    )
                if not encodable(row[key]):
                    raise ConfigError(
                        f"field {key!r} holds a lone surrogate escape (such as \\ud800), not text",
                        file=str(path),
                        line=n,
                        loc=(key,),
                    )
            if not encodable(json.dumps(row, ensure_ascii=False)):  # escapes of half a pair
                raise ConfigError(
                    "a field holds a lone surrogate escape (such as \\ud800), not text",
                    file=str(path),
                    line=n,
                )
            yield n, row
