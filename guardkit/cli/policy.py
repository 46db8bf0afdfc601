"""``guardkit policy``: validate policy files before they reach production."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guardkit.errors import PolicyError
from guardkit.policy.loader import load_policy

app = typer.Typer(help="Work with policy files.", no_args_is_help=True)


@app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="Policy YAML files to validate.")],
) -> None:
    """Validate policy files; exit 0 when all are valid, 2 otherwise, listing every error."""
    failed = 0
    for file in files:
        try:
            policy = load_policy(file)
        except PolicyError as exc:
            failed += 1
            for issue in exc.issues:
                typer.echo(f"error: {issue}", err=True)
            continue
        typer.echo(f"ok: {file} ({policy.id} {policy.version})")
    if failed:
        typer.echo(f"{failed} of {len(files)} policy files invalid", err=True)
        raise typer.Exit(2)
