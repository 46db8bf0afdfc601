"""The ``guardkit`` command line: one typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from guardkit._signals import exit_on_terminate
from guardkit._version import __version__
from guardkit.cli import audit, calibrate
from guardkit.cli import evidence as _evidence
from guardkit.cli import generate as _generate
from guardkit.cli import index as _index
from guardkit.cli import log as _log
from guardkit.cli import models as _models
from guardkit.cli import policy as _policy
from guardkit.cli import review as _review
from guardkit.cli import score as _score
from guardkit.cli import verify as _verify

app = typer.Typer(
    name="guardkit",
    help="Guardrails and reliability evidence around LLM calls.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(_policy.app, name="policy")
app.add_typer(_index.app, name="index")
app.command("verify")(_verify.verify)
app.command("audit")(audit.audit)
app.command("calibrate")(calibrate.calibrate)
app.add_typer(_log.app, name="log")
app.add_typer(_review.app, name="review")
app.add_typer(_evidence.app, name="evidence")
app.command("generate")(_generate.generate)
app.add_typer(_models.app, name="models")
app.command("score")(_score.score)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"guardkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Guardrails and reliability evidence around LLM calls."""


def main() -> None:
    """Console entry point."""
    exit_on_terminate()
    app()
