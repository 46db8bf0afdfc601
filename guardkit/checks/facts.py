"""The facts check: every claim of the output is verified against a fact index and the call's
documents; too few supported claims, or too many contradicted ones, fail the check.

Policy section (the index and verifier paths are relative to the policy file)::

    checks:
      facts: {index: indexes/help, top_k: 5, min_support_rate: 0.8, max_contradictions: 0}
      # verifier: models/my-nli    # from guardkit models export / train, or a shipped
      #                            # model's name (guardkit models list); default: shipped
    actions:
      facts: {type: reask, max_attempts: 2, then: {type: filter, then: flag}}

A structured output is checked by what it states (``CheckContext.prose``: its validated
strings, one paragraph each), and its claims' spans point into that prose, not the JSON;
``filter`` cuts the unsupported sentences out of the fields they are in, and the schema check
judges the result again.

An answer that cites the call's documents by number ("[2]", "[1, 3]": counted from 1 in the
order they were passed, as RAG prompts list them) has each citing claim checked against the
documents it cites alone: a statement pinned on a document that does not say it fails like a
wrong statement (``citations: any`` ignores the numbers).

Remedies offered to actions: ``feedback`` quotes the contradicting evidence (for ``reask``);
``filtered_text`` is the output without the sentences holding unsupported claims (for
``filter``); ``details`` lists every claim with its verdict, confidence and citations.
The index and the verifier are loaded when the guard is built, never per call.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from guardkit.checks import (
    CheckContext,
    CheckResult,
    CheckSetup,
    model_folder,
    policy_relative,
    register_check,
)
from guardkit.checks._prose import without_spans
from guardkit.errors import GuardkitError
from guardkit.facts._manifest import MANIFEST
from guardkit.facts._scripts import Scripts
from guardkit.facts.claims import extract_claims
from guardkit.facts.index import FactIndex, check_index_folder
from guardkit.facts.verify import (
    ClaimVerdict,
    ClaimVerifier,
    VerifySettings,
    default_verifier,
    document_citations,
)

__all__ = ["FactsCheck", "FactsCheckConfig"]

_QUOTE_CHARS = 300
_EMPTY = "Your previous answer was empty. Answer using statements the reference facts support."


class FactsCheckConfig(BaseModel):
    """Settings of the facts check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: Path | None = None
    """Fact index folder (``guardkit index build``); relative paths start at the policy's folder.
    Without one, claims are checked against the documents passed with each call only."""
    top_k: int = Field(5, ge=1, le=50)
    min_support_rate: float = Field(0.8, ge=0.0, le=1.0)
    """Share of claims that must be supported for the output to pass."""
    max_contradictions: int = Field(0, ge=0)
    min_score: float = Field(0.2, ge=-1.0, le=1.0)
    support_threshold: float = Field(0.5, gt=0.0, le=1.0)
    contradict_threshold: float = Field(0.5, gt=0.0, le=1.0)
    verdict_min_score: float = Field(0.5, ge=-1.0, le=1.0)
    """Evidence less similar to a claim than this does not decide its verdict (see
    ``VerifySettings``)."""
    citations: Literal["cited", "any"] = "cited"
    """``cited``: a claim citing the call's documents by number is checked against those
    documents alone; ``any``: every claim against all the evidence, citation numbers ignored."""
    verifier: Path | None = None
    """Verifier model folder (``guardkit models export`` or ``train``); the shipped model when
    unset. Loaded, and its files' hashes checked, when the guard is built."""
    scripts: Scripts = ("latin",)
    """Scripts the verifier reads (``latin``, ``cyrillic``, ``cjk``, ``hiragana`` ...): a claim
    mostly in others is unverifiable without asking the model. The shipped models read
    English; ``null`` sends every claim to the verifier (a multilingual one of your own)."""

    _verifier_folder = field_validator("verifier")(model_folder)

    @field_validator("index")
    @classmethod
    def _resolve_index(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        path = policy_relative(value, info)
        if path is not None and not (path / MANIFEST).is_file():
            raise ValueError(
                f"no fact index at {path} (no {MANIFEST}); build one with `guardkit index build`"
            )
        if path is not None:
            try:
                check_index_folder(path)
            except GuardkitError as exc:
                raise ValueError(f"not a usable fact index: {exc}") from None
        return path

    def settings(self) -> VerifySettings:
        return VerifySettings(
            top_k=self.top_k,
            min_score=self.min_score,
            support_threshold=self.support_threshold,
            contradict_threshold=self.contradict_threshold,
            verdict_min_score=self.verdict_min_score,
            scripts=self.scripts,
        )


class FactsCheck:
    """Verify the output's claims; pass when enough are supported and few enough contradicted."""

    name = "facts"

    def __init__(self, config: FactsCheckConfig, verifier: ClaimVerifier) -> None:
        self.config = config
        self.verifier = verifier

    def run(self, ctx: CheckContext) -> CheckResult:
        prose = ctx.prose
        if ctx.structured is None and not ctx.text.strip():  # nothing said: no answer at all
            return CheckResult(
                check=self.name,
                passed=False,
                score=0.0,
                feedback=_EMPTY,
                details={"support_rate": 0.0, "empty": True, "claims": []},
            )
        claims = extract_claims(prose)
        cited = None
        if self.config.citations == "cited":
            cited = document_citations(claims, len(ctx.documents))
        verdicts = self.verifier.verify(claims, ctx.documents, cited=cited)
        counts = {
            v: sum(1 for x in verdicts if x.verdict == v)
            for v in ("supported", "contradicted", "unverifiable")
        }
        rate = counts["supported"] / len(verdicts) if verdicts else 1.0
        passed = (
            rate >= self.config.min_support_rate
            and counts["contradicted"] <= self.config.max_contradictions
        )
        details = {
            "support_rate": rate,
            **counts,
            "evidence": _evidence_sources(self.verifier, ctx.documents),
            "claims": [v.model_dump(mode="json") for v in verdicts],
        }
        if passed:
            return CheckResult(check=self.name, passed=True, score=rate, details=details)
        return CheckResult(
            check=self.name,
            passed=False,
            score=rate,
            feedback=_feedback(verdicts, len(ctx.documents) if cited is not None else None),
            filtered_text=_filtered(ctx, prose, verdicts),
            details=details,
        )


def _evidence_sources(verifier: ClaimVerifier, documents: list[str]) -> list[str]:
    """What the claims were checked against; an index is named by its content hash, for audits."""
    manifest = verifier.index.manifest if verifier.index is not None else None
    sources = [f"index:{manifest.content_sha256}"] if manifest is not None else []
    if verifier.index is not None and manifest is None:
        sources.append("index:unsaved")
    return sources + (["documents"] if documents else [])


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 3] + "..."


def _citing(v: ClaimVerdict, n_documents: int | None) -> str:
    """What an unsupported claim's citation marks point at, for the reask."""
    if n_documents is None or not v.claim.cites:
        return ""
    marks = ", ".join(str(n) for n in v.claim.cites)
    missing = [n for n in v.claim.cites if n > n_documents]
    if missing:
        given = "1 document was" if n_documents == 1 else f"{n_documents} documents were"
        return f" (cites [{marks}], but only {given} given)"
    which = "which does not" if len(v.claim.cites) == 1 else "none of which"
    return f" (cites [{marks}], {which} say so)"


def _feedback(verdicts: list[ClaimVerdict], n_documents: int | None = None) -> str:
    lines = ["Some statements in your previous answer are not backed by the reference facts."]
    contradicted = [v for v in verdicts if v.verdict == "contradicted"]
    unread = [v for v in verdicts if v.unread_script is not None]
    unverifiable = [v for v in verdicts if v.verdict == "unverifiable" and v not in unread]
    if contradicted:
        lines.append("Contradicted by the references:")
        for v in contradicted:
            c = v.citations[0]
            lines.append(
                f'- "{_quote(v.claim.text)}": the reference says "{_quote(c.text)}" '
                f"(source {c.source}, fact {c.fact_id})"
            )
    if unverifiable:
        lines.append("Not supported by any reference:")
        lines += [f'- "{_quote(v.claim.text)}"{_citing(v, n_documents)}' for v in unverifiable]
    if unread:
        scripts = ", ".join(sorted({str(v.unread_script) for v in unread}))
        lines.append(f"In a script the checker cannot read ({scripts}), so not checked:")
        lines += [f'- "{_quote(v.claim.text)}"' for v in unread]
    lines.append(
        "Answer again using only statements the references support, correcting the "
        "contradicted ones; leave out what the references do not cover."
    )
    return "\n".join(lines)


def _filtered(ctx: CheckContext, text: str, verdicts: list[ClaimVerdict]) -> str | None:
    """The output without every sentence that holds an unsupported claim (cut out of the field
    it is in, for a structured output); ``None`` if nothing is left."""
    drop = sorted(
        {
            (v.claim.sentence_start, v.claim.sentence_end)
            for v in verdicts
            if v.verdict != "supported"
        }
    )
    if ctx.structured is not None:
        data = without_spans(ctx.structured, drop)
        return None if data is None else json.dumps(data, ensure_ascii=False)
    kept, cursor = [], 0
    for start, end in drop:
        kept.append(text[cursor:start] + _CUT)
        cursor = max(cursor, end)
    kept.append(text[cursor:])
    out = _tidy("".join(kept))
    return out if extract_claims(out) else None  # a greeting or marks alone is no answer


_CUT = "\x00"  # where a sentence was cut out, until the lines are tidied
_SPACES = re.compile(r"[ \t]{2,}")
_BARE_MARKER = re.compile(r"[ \t]*(?:[-*\u2022+]|\d{1,3}[.)])?[ \t]*")


def _tidy(text: str) -> str:
    """Text with sentences cut out, its lines kept: a line the cuts left empty (or a list marker
    alone) goes, blank lines that were there stay, spaces the cuts doubled become one."""
    lines = []
    for line in text.split("\n"):
        if _CUT in line:
            opened = line.startswith(_CUT)  # the line's first sentence went: no indent left
            line = _SPACES.sub(" ", line.replace(_CUT, " ")).rstrip()
            line = line.lstrip() if opened else line
            if _BARE_MARKER.fullmatch(line):
                continue
        lines.append(line)
    return "\n".join(lines).strip()


def _build(config: FactsCheckConfig, setup: CheckSetup) -> FactsCheck:
    index = FactIndex.load(config.index) if config.index is not None else None
    verifier = default_verifier(config.verifier)
    claims = ClaimVerifier(index, verifier, config.settings())
    # the embedder's files are checked and its session opened now, not at the first call
    claims.embedder.encode(["guardkit loads its models when the guard is built"])
    return FactsCheck(config, claims)


register_check("facts", FactsCheckConfig, _build)
