"""``guardkit log``: verify, sign and inspect hash-chained record logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guardkit.errors import GuardkitError
from guardkit.records.chain import ChainRecord, verify_records
from guardkit.records.signing import (
    checkpoint,
    generate_keys,
    load_private_key,
    load_public_key,
    verify_checkpoints,
)
from guardkit.records.store import open_store

app = typer.Typer(help="Tamper-evident record logs.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="The log (.db or .jsonl).")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="Check signed checkpoints with this key.")
    ] = None,
) -> None:
    """Exit 0 when the log is intact, 1 naming the first bad record, 2 on bad input."""
    try:
        store = open_store(path, create=False)
        result = verify_records(store.records())
        key = load_public_key(public_key) if public_key is not None else None
    except (GuardkitError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if not result.ok:
        typer.echo(f"TAMPERED: {path}: record {result.first_bad}: {result.reason}")
        raise typer.Exit(1)
    records = [r for r in store.records() if isinstance(r, ChainRecord)]
    checked, problem = verify_checkpoints(records, key)
    if problem is not None:
        typer.echo(f"TAMPERED: {path}: {problem}")
        raise typer.Exit(1)
    signed = ""
    if key is not None:
        signed = f", {checked} signed checkpoints verified"
    elif checked:
        signed = f", {checked} checkpoints agree with it (signatures not checked: no --public-key)"
    typer.echo(f"ok: {path}: {result.records} records intact, head {result.head_sha256}{signed}")


@app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Folder for signing.key and signing.pub.")],
) -> None:
    """Create an ed25519 key pair for signed checkpoints."""
    out.mkdir(parents=True, exist_ok=True)
    private, public = out / "signing.key", out / "signing.pub"
    if private.exists():
        raise _fail(f"{private} exists; refusing to overwrite a signing key")
    generate_keys(private, public)
    typer.echo(f"wrote {private} (keep it secret) and {public}")


@app.command("checkpoint")
def sign(
    path: Annotated[Path, typer.Argument(help="The log (.db or .jsonl).")],
    key: Annotated[Path, typer.Option("--key", help="ed25519 private key (PEM).")],
) -> None:
    """Append a signed checkpoint over every record so far."""
    try:
        record = checkpoint(open_store(path, create=False), load_private_key(key))
    except (GuardkitError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"checkpoint at record {record.seq} over {record.data['count']} records")
