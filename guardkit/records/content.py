"""What of a call's raw input and output is kept in its report, per policy: hashes only (the
default), a redacted copy, or the text as is.

The checks' findings quote the output (the claims a facts check judged, the sentence a risk
check found least supported, the reask that quotes them): a reviewer needs them, so they are
kept in every mode, with the same redaction unless the policy stores content as is.

Redaction is pattern-based: e-mail addresses, phone numbers, IBANs, payment card numbers and IP
addresses, plus any patterns the policy adds. It lowers exposure; it is no anonymisation proof.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from guardkit.checks import CheckResult
from guardkit.records.chain import canonical_json
from guardkit.reports.model import RecordedContent

__all__ = ["ContentRecorder"]

_BUILTIN_PATTERNS: dict[str, str] = {
    "EMAIL": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "IBAN": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
    "CARD": r"\b(?:\d[ -]?){13,19}\b",
    "IP": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
    "PHONE": r"(?<!\w)\+?\d[\d ()/-]{7,}\d\b",
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ContentRecorder:
    """Turns a call's messages and output into what the policy allows to be recorded."""

    def __init__(self, mode: str, extra_patterns: Sequence[str] = ()) -> None:
        self.mode = mode
        patterns = [(name, re.compile(p)) for name, p in _BUILTIN_PATTERNS.items()]
        patterns += [(f"CUSTOM{i}", re.compile(p)) for i, p in enumerate(extra_patterns, start=1)]
        self._patterns = patterns

    def redact(self, text: str) -> str:
        """Replace every match with ``[NAME]``."""
        for name, pattern in self._patterns:
            text = pattern.sub(f"[{name}]", text)
        return text

    def scrub(self, value: Any) -> Any:
        """``value`` with every string in it redacted, unless content is stored as is."""
        if self.mode == "store":
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list | tuple):
            return type(value)(self.scrub(v) for v in value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value

    def findings(self, results: Sequence[CheckResult]) -> list[CheckResult]:
        """Check results as a report may keep them: their quotes of the output scrubbed."""
        if self.mode == "store":
            return list(results)
        return [
            r.model_copy(
                update={
                    "feedback": self.scrub(r.feedback),
                    "details": self.scrub(r.details),
                    "errors": [
                        e.model_copy(update={"message": self.redact(e.message)}) for e in r.errors
                    ],
                }
            )
            for r in results
        ]

    def record(self, messages: list[dict[str, Any]] | None, output: str | None) -> RecordedContent:
        """The content part of a report."""
        input_sha = _sha256(canonical_json(messages)) if messages is not None else None
        output_sha = _sha256(output) if output is not None else None
        if self.mode == "hash":
            return RecordedContent(mode="hash", input_sha256=input_sha, output_sha256=output_sha)
        if self.mode == "redact":
            messages = (
                [
                    {k: self.redact(v) if isinstance(v, str) else v for k, v in m.items()}
                    for m in messages or []
                ]
                if messages is not None
                else None
            )
            output = self.redact(output) if output is not None else None
        return RecordedContent(
            mode=self.mode,
            input_sha256=input_sha,
            output_sha256=output_sha,
            messages=messages,
            output=output,
        )
