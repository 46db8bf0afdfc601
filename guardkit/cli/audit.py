"""``guardkit audit``: run a suite through a guarded model and write the reliability report."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from guardkit.audit import AuditConfig, AuditWarning, SourceSpec, run_audit
from guardkit.cli._warnings import shown_as_lines
from guardkit.errors import GuardkitError

_STDERR = Console(stderr=True)


class _Bar:
    """A rich progress bar with ETA and the running reliable-completion rate."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("auditing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rcr {task.fields[rcr]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=_STDERR,
        )
        self._task = self._progress.add_task("audit", total=None, rcr="n/a")
        self._started = False

    def update(self, done: int, total: int, reliable: int) -> None:
        if not self._started:  # shown once cases run: an input error stays one line
            self._progress.start()
            self._started = True
        rcr = f"{reliable / done:.1%}" if done else "n/a"
        self._progress.update(self._task, completed=done, total=total, rcr=rcr)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._started:
            self._progress.stop()


def _source(
    model: str | None, base_url: str | None, responses: Path | None
) -> tuple[str, str | None]:
    """Source kind and model name from ``--model KIND[:NAME]`` or ``--responses``."""
    if (model is None) == (responses is None):
        raise typer.BadParameter("give exactly one of --model or --responses")
    if responses is not None:
        return "responses", None
    assert model is not None
    kind, _, name = model.partition(":")
    if base_url is not None and kind != "openai":
        raise typer.BadParameter("--base-url goes with --model openai:NAME")
    return kind, name or None


def audit(
    suite: Annotated[Path, typer.Argument(help="Suite JSONL: one case a line.")],
    policy: Annotated[Path, typer.Option(help="Policy YAML file.")],
    out: Annotated[Path, typer.Option(help="Output folder for records and reports.")],
    model: Annotated[
        str | None, typer.Option(help="'local' (embedded model) or 'openai:NAME'.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible base URL for --model openai:NAME.")
    ] = None,
    max_tokens: Annotated[
        int, typer.Option(min=1, help="Generation limit per attempt for --model local.")
    ] = 512,
    responses: Annotated[
        Path | None, typer.Option(help="Recorded responses JSONL to judge instead of a model.")
    ] = None,
    index: Annotated[
        Path | None, typer.Option(help="Fact index folder for the facts check.")
    ] = None,
    engine: Annotated[str, typer.Option(help="Engine: local or ray.")] = "local",
    workers: Annotated[int, typer.Option(min=1, help="Parallel workers (threads or actors).")] = 1,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted audit in --out.")] = False,
    fail_fast: Annotated[
        bool, typer.Option(help="Stop at the first malformed suite line.")
    ] = False,
) -> None:
    """Audit a suite; exit 0 when the audit ran (whatever the cases' outcomes), 2 on bad input."""
    kind, name = _source(model, base_url, responses)
    spec = SourceSpec(
        kind=kind,
        policy=str(policy),
        model=name,
        base_url=base_url,
        responses=str(responses) if responses else None,
        index=str(index) if index else None,
        max_tokens=max_tokens,
    )
    config = AuditConfig(
        suite=suite,
        out=out,
        source=spec,
        engine=engine,
        workers=workers,
        resume=resume,
        fail_fast=fail_fast,
    )
    try:
        with shown_as_lines(AuditWarning), _Bar() as bar:
            report = run_audit(config, bar)
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        typer.echo(f"interrupted; records so far are in {out}; rerun with --resume", err=True)
        raise typer.Exit(130) from None
    low, high = report.rcr_ci
    rcr = "n/a" if report.rcr is None else f"{report.rcr:.1%}"
    typer.echo(
        f"{report.cases} cases, {report.reliable} reliable, rcr {rcr} [{low:.1%}, {high:.1%}]"
    )
    for problem in report.skipped_lines:
        typer.echo(f"skipped {suite}:{problem.line}: {problem.message}", err=True)
    typer.echo(f"report: {out / 'report.json'} and {out / 'report.html'}")
