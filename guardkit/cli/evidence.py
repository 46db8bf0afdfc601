"""``guardkit evidence``: build and verify EU AI Act evidence packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guardkit.errors import GuardkitError
from guardkit.evidence.pack import build_pack, verify_pack
from guardkit.evidence.sources import LogSummary, gather

app = typer.Typer(
    help="EU AI Act evidence packs.", no_args_is_help=True, invoke_without_command=True
)


@app.callback(invoke_without_command=True)
def build(
    ctx: typer.Context,
    audit: Annotated[Path | None, typer.Option("--audit", help="Audit output folder.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Pack folder to create.")] = None,
    log: Annotated[Path | None, typer.Option("--log", help="Hash-chained record log.")] = None,
    index: Annotated[Path | None, typer.Option("--index", help="Fact index folder.")] = None,
    policy: Annotated[
        list[Path] | None, typer.Option("--policy", help="Policy files (repeat).")
    ] = None,
    lock: Annotated[
        list[Path] | None, typer.Option("--lock", help="Risk lock files (repeat).")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="Check the log's signed checkpoints with this key."),
    ] = None,
) -> None:
    """Build a pack: ``guardkit evidence --audit DIR [--log PATH] [--index DIR] --out PACK``."""
    if ctx.invoked_subcommand is not None:
        return
    if audit is None or out is None:
        typer.echo("error: --audit and --out are required", err=True)
        raise typer.Exit(2)
    try:
        evidence = gather(
            audit,
            log=log,
            index=index,
            policies=policy or [],
            locks=lock or [],
            public_key=public_key,
        )
        files = build_pack(evidence, out)
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    missing = [s.label for s in evidence.sources() if not hasattr(s, "sha256")]
    typer.echo(f"wrote {len(files)} files to {out}")
    if missing:
        typer.echo(f"marked missing: {', '.join(missing)}")
    failed = _log_failures(evidence.log_summary)
    for failure in failed:
        typer.echo(f"warning: {failure} (the pack says so in art12-record-keeping.md)", err=True)
    if failed:
        raise typer.Exit(1)


def _log_failures(summary: LogSummary | None) -> list[str]:
    """Why the record log the pack cites cannot be trusted: a pack is still written, since it
    documents the failure, but the command exits 1 so no one files it unread."""
    if summary is None:
        return []
    failures = []
    if not summary.result.ok:
        result = summary.result
        failures.append(f"the record log is TAMPERED at record {result.first_bad}: {result.reason}")
    if summary.checkpoint_problem:
        failures.append(f"the record log's checkpoints fail: {summary.checkpoint_problem}")
    return failures


@app.command("verify")
def verify(pack: Annotated[Path, typer.Argument(help="The pack folder.")]) -> None:
    """Exit 0 when every file matches MANIFEST.sha256; 1 naming each problem otherwise."""
    if not pack.is_dir():
        typer.echo(f"error: {pack} is not a folder", err=True)
        raise typer.Exit(2)
    problems = verify_pack(pack)
    for problem in problems:
        typer.echo(f"TAMPERED: {pack}/{problem}")
    if problems:
        raise typer.Exit(1)
    typer.echo(f"ok: {pack}: every file matches the manifest")
