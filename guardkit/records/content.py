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
from collections.abc import Callable, Sequence
from typing import Any

from guardkit.checks import CheckResult
from guardkit.records.chain import canonical_json
from guardkit.reports.model import RecordedContent

__all__ = ["ContentRecorder"]

_BUILTIN_PATTERNS: dict[str, str] = {
    "EMAIL": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "IBAN": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
    # grouped as cards print them (4-4-4-4, 4-6-5) or one run, so a card and a number after it
    # are not read as one longer number
    "CARD": r"(?<![\d-])(?:\d{4}[ -]){3}\d{4}(?![\d])|(?<![\d-])\d{4}[ -]\d{6}[ -]\d{5}(?!\d)"
    r"|(?<!\d)\d{13,19}(?!\d)",
    "IP": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
    # not a date (2024-03-31, 31/03/2024, 03-31-2024) or a span of years (2010-2015), which
    # have phone-like shapes; "(+1 555 123 4567)" and "(030) 123-4567" are redacted whole
    "PHONE": r"(?<![\w(+/.-])"
    r"(?!\d{4}-\d{2}-\d{2}(?![\d/-])|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?![\d/-])"
    r"|\d{4} ?[-/] ?\d{4}(?![\d/-]))"
    r"(?:\(?\+|\()?\d[\d ()/-]{7,}\d\b",
}


def _luhn(digits: str) -> bool:
    """The payment-card checksum: a number of card length that fails it is no card (it may
    still be redacted as a phone number, being a long run of digits)."""
    nums = [int(c) for c in digits if c.isdigit()][::-1]
    total = sum(n if i % 2 == 0 else (2 * n - 9 if n > 4 else 2 * n) for i, n in enumerate(nums))
    return total % 10 == 0


_MAY_MATCH = re.compile(r"[\d@]")
"""What a text must hold for any built-in pattern to match it."""

_REMEMBERED_CHARS = 1_000_000
"""Characters of redacted strings kept (then all forgotten at once); keyed by a digest, so no
unredacted text is held."""
_REMEMBERED_LENGTH = 2000
"""Longer strings (whole answers, documents) are redacted each time, not kept."""

_VALID = {"CARD": _luhn}
"""Matches a pattern alone cannot tell apart, confirmed before they are redacted."""


def _replacement(name: str) -> str | Callable[[re.Match[str]], str]:
    valid = _VALID.get(name)
    if valid is None:
        return f"[{name}]"
    return lambda m: f"[{name}]" if valid(m.group()) else m.group()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ContentRecorder:
    """Turns a call's messages and output into what the policy allows to be recorded."""

    def __init__(self, mode: str, extra_patterns: Sequence[str] = ()) -> None:
        self.mode = mode
        self._builtin = [
            (re.compile(p), _replacement(name)) for name, p in _BUILTIN_PATTERNS.items()
        ]
        self._custom = [
            (re.compile(p), _replacement(f"CUSTOM{i}"))
            for i, p in enumerate(extra_patterns, start=1)
        ]
        self._redacted: dict[bytes, str] = {}
        self._redacted_chars = 0

    def redact(self, text: str) -> str:
        """Replace every match with ``[NAME]``.

        Answers are remembered: an audit quotes the same facts, ids and sources case after
        case, and the patterns cost about a millisecond a record (RESULTS.md, 2026-12-08)."""
        if len(text) > _REMEMBERED_LENGTH:
            return self._redact(text)
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        done = self._redacted.get(key)
        if done is None:
            done = self._redact(text)
            if self._redacted_chars + len(done) > _REMEMBERED_CHARS:
                self._redacted, self._redacted_chars = {}, 0
            self._redacted[key] = done
            self._redacted_chars += len(done)
        return done

    def _redact(self, text: str) -> str:
        # every built-in pattern needs a digit or an "@": most quoted sentences have neither
        patterns = self._builtin + self._custom if _MAY_MATCH.search(text) else self._custom
        for pattern, replacement in patterns:
            text = pattern.sub(replacement, text)
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

    def record(
        self,
        messages: list[dict[str, Any]] | None,
        output: str | None,
        arguments: dict[str, Any] | None = None,
    ) -> RecordedContent:
        """The content part of a report; the input is ``messages``, or else ``arguments`` (a
        decorated function's, JSON values only)."""
        given: Any = messages if messages is not None else arguments
        input_sha = _sha256(canonical_json(given)) if given is not None else None
        output_sha = _sha256(output) if output is not None else None
        if self.mode == "hash":
            return RecordedContent(mode="hash", input_sha256=input_sha, output_sha256=output_sha)
        kept = arguments if messages is None else None
        if self.mode == "redact":
            # every string in a message: content may be a list of parts, a tool call's arguments
            messages = [self.scrub(m) for m in messages] if messages is not None else None
            kept = self.scrub(kept) if kept is not None else None
            output = self.redact(output) if output is not None else None
        return RecordedContent(
            mode=self.mode,
            input_sha256=input_sha,
            output_sha256=output_sha,
            messages=messages,
            arguments=kept,
            output=output,
        )
