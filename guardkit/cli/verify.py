"""``guardkit verify``: verdicts for the claims of a text, or for a JSONL file of claims.

With ``--claims``, each input line is an object with ``claim`` (other fields are kept; one named
like an added field is kept as ``given_<name>``, e.g. CitInt's gold ``evidence``); each
output line adds ``verdict`` (supported / contradicted / unverifiable), ``confidence`` and
``evidence`` (``fact_id``, ``source``, ``text``, ``score``, and the verifier's ``supported`` and
``contradicted``), and ``unread_script`` for a claim in a script the verifier does not read
(``cjk``, ``cyrillic`` ...: unverifiable unasked). Claims are verified whole, not split,
without their citation marks ("[3]", ``<|cit|>``). ``--document FILE`` (repeatable) adds
documents to check against, as a RAG answer's context, with or without an index; in ``--text``,
a claim citing them by number ("[2]": the second ``--document``) is checked against those it
cites. A line that names what its claim cites (``sources`` or ``cited_doc_ids``, as in
SciFact-style claim files such as CitInt's: document ids or source names of the index) is
checked against those documents only, unless ``--whole-index``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from guardkit._files import check_writable, write_atomic
from guardkit._jsonl import encodable, json_objects
from guardkit.cli.index import typed_errors
from guardkit.errors import ConfigError
from guardkit.facts import FactIndex
from guardkit.facts import verify as facts_verify
from guardkit.facts.claims import Claim, without_citation_marks
from guardkit.facts.verify import ClaimVerdict, ClaimVerifier, VerifySettings

__all__ = ["verify"]

_BATCH = 256


class FailOn(StrEnum):
    """Which verdicts make ``verify`` exit 1, for scripts and CI jobs."""

    contradicted = "contradicted"
    unsupported = "unsupported"
    """Contradicted or unverifiable."""


_FAILING: dict[FailOn, tuple[str, ...]] = {
    FailOn.contradicted: ("contradicted",),
    FailOn.unsupported: ("contradicted", "unverifiable"),
}


def verify(
    index: Annotated[Path | None, typer.Option("--index", help="Fact index folder.")] = None,
    document: Annotated[
        list[Path] | None,
        typer.Option(
            "--document",
            help="A text file to check against, as RAG context (repeatable); "
            "in --text, \\[n] cites the n-th.",
        ),
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="Text whose claims to verify.")] = None,
    claims: Annotated[
        Path | None, typer.Option("--claims", help="JSONL file, one {'claim': ...} a line.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSONL output (with --claims).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="Evidence facts per claim.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    whole_index: Annotated[
        bool,
        typer.Option(
            "--whole-index",
            help="Search the whole index even for claims whose line names what they cite.",
        ),
    ] = False,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 (after the output) if a claim is contradicted, or not supported.",
        ),
    ] = None,
) -> None:
    """Verify claims against a fact index and/or documents: a verdict, a confidence and
    evidence for each."""
    with typed_errors():
        if (text is None) == (claims is None):
            raise ConfigError("give exactly one of --text or --claims")
        if index is None and not document:
            raise ConfigError("give --index DIR, --document FILE or both")
        documents = [_read_document(path) for path in document or []]
        if text is not None and (not text.strip() or not encodable(text)):
            raise ConfigError("--text must be non-empty text")
        if text is not None and out is not None:
            raise ConfigError("--out is for --claims; --text prints its verdicts (--json for JSON)")
        if out is not None:
            check_writable(out)
            if claims is not None and out.resolve() == claims.resolve():
                raise ConfigError(
                    "--out is the --claims file: it would be overwritten", file=str(out)
                )
        if claims is not None and out is None:
            raise ConfigError("--claims needs --out FILE.jsonl")
        records = _read_claims(claims) if claims is not None else []
        cited = [None if whole_index else cites for _, _, cites in records]
        checker = ClaimVerifier(
            FactIndex.load(index) if index is not None else None,
            facts_verify.default_verifier(),
            VerifySettings(top_k=k),
        )
        if text is not None:
            verdicts = checker.verify_text(text, documents)
            _print_text(verdicts, as_json)
            if not verdicts:
                typer.echo("no claims: nothing in the text states a fact to check", err=True)
            _exit_if_failing(fail_on, verdicts)
            return
        assert out is not None
        lines, found = [], []
        for lo in range(0, len(records), _BATCH):
            batch = records[lo : lo + _BATCH]
            verdicts = checker.verify(
                [_whole(r["claim"]) for _, r, _ in batch],
                documents,
                cited=cited[lo : lo + _BATCH],
            )
            lines += [
                json.dumps(_row(r, v), ensure_ascii=False)
                for (_, r, _), v in zip(batch, verdicts, strict=True)
            ]
            found += verdicts
        _warn_unknown_sources(claims, records, cited, checker)
        write_atomic(out, "\n".join(lines) + "\n")
    summary: dict[str, Any] = {"claims": len(records), **_counts(found), "out": str(out)}
    typer.echo(
        json.dumps(summary) if as_json else " ".join(f"{k_}={v}" for k_, v in summary.items())
    )
    _exit_if_failing(fail_on, found)


def _counts(verdicts: Sequence[ClaimVerdict]) -> dict[str, int]:
    found = [v.verdict for v in verdicts]
    return {name: found.count(name) for name in ("supported", "contradicted", "unverifiable")}


def _exit_if_failing(fail_on: FailOn | None, verdicts: Sequence[ClaimVerdict]) -> None:
    """Exit 1, saying why on stderr, when ``--fail-on`` names a verdict some claim got."""
    if fail_on is None:
        return
    failing = [v for v in verdicts if v.verdict in _FAILING[fail_on]]
    if failing:
        unread = sum(v.unread_script is not None for v in failing)
        why = f" ({unread} in a script the verifier does not read)" if unread else ""
        typer.echo(f"{len(failing)} of {_claims(len(verdicts))} {fail_on.value}{why}", err=True)
        raise typer.Exit(1)


def _claims(n: int) -> str:
    return "1 claim" if n == 1 else f"{n} claims"


_CITATION_FIELDS = ("sources", "cited_doc_ids")
"""Where a claim line names the documents it cites: guardkit's own name, then SciFact's."""


def _read_claims(path: Path) -> list[tuple[int, dict[str, Any], set[str] | None]]:
    """``(line, record, cited sources or None)`` per claim."""
    records = [(n, row, _cited(row, path, n)) for n, row in json_objects(path, ("claim",))]
    if not records:
        raise ConfigError("no claims in the file", file=str(path))
    return records


def _cited(row: dict[str, Any], path: Path, line: int) -> set[str] | None:
    for field in _CITATION_FIELDS:
        value = row.get(field)
        if value is None:
            continue
        if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip() for v in value
        ):
            raise ConfigError(
                f"field {field!r} must be a list of source names or ids",
                file=str(path),
                line=line,
                loc=(field,),
            )
        return {str(v) for v in value} or None  # an empty list cites nothing
    return None


def _warn_unknown_sources(
    path: Path | None,
    records: list[tuple[int, dict[str, Any], set[str] | None]],
    cited: list[set[str] | None],
    checker: ClaimVerifier,
) -> None:
    """One warning line for claims whose cited documents are all missing from the index."""
    index = checker.index
    if index is None or not any(cited):
        return
    lines = [
        n
        for (n, _, _), cites in zip(records, cited, strict=True)
        if cites and not index.holds_any(cites)
    ]
    if lines:
        shown = ", ".join(map(str, lines[:5])) + (
            f" and {len(lines) - 5} more" if len(lines) > 5 else ""
        )
        typer.echo(
            f"warning: {path}: {len(lines)} claims cite nothing the index holds (line {shown}): "
            "unverifiable, without evidence",
            err=True,
        )


def _read_document(path: Path) -> str:
    """A ``--document`` file's text (UTF-8), refused with its name if unreadable or empty."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the document: {exc.strerror}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    if not text.strip():
        raise ConfigError("the document is empty", file=str(path))
    return text


def _whole(text: str) -> Claim:
    checked = without_citation_marks(text) or text
    return Claim(text=checked, start=0, end=len(text), sentence_start=0, sentence_end=len(text))


def _evidence(v: ClaimVerdict) -> list[dict[str, Any]]:
    """The evidence, the facts that decided first; ``supported`` and ``contradicted`` are the
    verifier's reading (``null`` for facts too far from the claim to decide)."""
    return [
        {
            "fact_id": c.fact_id,
            "source": c.source,
            "text": c.text,
            "score": round(c.score, 6),
            "supported": None if c.supported is None else round(c.supported, 6),
            "contradicted": None if c.contradicted is None else round(c.contradicted, 6),
        }
        for c in v.citations
    ]


def _row(record: dict[str, Any], v: ClaimVerdict) -> dict[str, Any]:
    """The input line with the verdict added; an input field of the same name (SciFact-style
    files carry their gold ``evidence``) is kept as ``given_<name>``."""
    added: dict[str, Any] = {
        "verdict": v.verdict,
        "confidence": round(v.confidence, 6),
        "evidence": _evidence(v),
    }
    if v.unread_script is not None:
        added["unread_script"] = v.unread_script
    kept = {f"given_{k}" if k in _ADDED else k: value for k, value in record.items()}
    return kept | added


_ADDED = frozenset({"verdict", "confidence", "evidence", "unread_script"})
"""The fields ``verify`` writes: an input line's own are kept as ``given_<name>``."""


def _print_text(verdicts: list[ClaimVerdict], as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "claim": v.claim.text,
                        "start": v.claim.start,
                        "end": v.claim.end,
                        "cites": list(v.claim.cites),
                        "verdict": v.verdict,
                        "confidence": v.confidence,
                        "evidence": _evidence(v),
                    }
                    | ({"unread_script": v.unread_script} if v.unread_script else {})
                    for v in verdicts
                ],
                ensure_ascii=False,
            )
        )
        return
    for v in verdicts:
        typer.echo(f"{v.verdict:<12} {v.confidence:.2f}  {v.claim.text}")
        if v.unread_script is not None:
            typer.echo(
                f"             (in {v.unread_script} script, which the verifier does not read)"
            )
        if v.citations:
            c = v.citations[0]
            typer.echo(f"             [{c.source} {c.fact_id}] {c.text}")
