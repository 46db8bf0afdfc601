"""``guardkit review``: list, inspect and decide flagged outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guardkit.errors import GuardkitError
from guardkit.policy.loader import load_policy
from guardkit.records.store import open_store
from guardkit.review.queue import ReviewQueue

app = typer.Typer(help="Human review of flagged outputs.", no_args_is_help=True)

PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="Take the queue and log from this policy.")
]
QueueOpt = Annotated[Path | None, typer.Option("--queue", help="The review queue (SQLite).")]
LogOpt = Annotated[Path | None, typer.Option("--log", help="Record log for decisions.")]


def _queue(policy: Path | None, queue: Path | None, log: Path | None) -> ReviewQueue:
    try:
        if policy is not None:
            # where the queue and log are: the risk lock (and the verifier it names) is not read
            loaded = load_policy(policy, without_lock=True)
            if loaded.review is None:
                raise typer.BadParameter(f"{policy} has no review section", param_hint="--policy")
            queue = loaded.review.queue_path
            log = log or loaded.records.log_path
        if queue is None:
            raise typer.BadParameter("give --policy or --queue")
        if not queue.exists():
            raise typer.BadParameter(f"no review queue at {queue}")
        return ReviewQueue(queue, log=open_store(log) if log is not None else None)
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("list")
def list_items(
    policy: PolicyOpt = None,
    queue: QueueOpt = None,
    status: Annotated[str | None, typer.Option(help="pending, approved or rejected.")] = None,
) -> None:
    """List review items, oldest first."""
    if status not in (None, "pending", "approved", "rejected"):
        raise typer.BadParameter("pending, approved or rejected", param_hint="--status")
    for item in _queue(policy, queue, None).list(status):  # type: ignore[arg-type]
        who = f" by {item.reviewer}" if item.reviewer else ""
        typer.echo(
            f"{item.id}\t{item.status}{who}\t{item.policy_id}\t{item.call_id}\t{item.reason or ''}"
        )


@app.command("show")
def show(item_id: int, policy: PolicyOpt = None, queue: QueueOpt = None) -> None:
    """Show one item as JSON: reason, recorded output, decision and the call's report."""
    try:
        item = _queue(policy, queue, None).get(item_id)
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(item.model_dump(mode="json"), indent=2))


def _decide(
    approve: bool,
    item_id: int,
    reviewer: str,
    note: str,
    policy: Path | None,
    queue: Path | None,
    log: Path | None,
) -> None:
    try:
        item = _queue(policy, queue, log).decide(
            item_id, approve=approve, reviewer=reviewer, note=note
        )
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{item.id} {item.status} by {item.reviewer}")


ReviewerOpt = Annotated[str, typer.Option("--reviewer", help="Who decides.")]
NoteOpt = Annotated[str, typer.Option("--note", help="Why.")]


@app.command("approve")
def approve(
    item_id: int,
    reviewer: ReviewerOpt,
    note: NoteOpt = "",
    policy: PolicyOpt = None,
    queue: QueueOpt = None,
    log: LogOpt = None,
) -> None:
    """Approve a pending item; the decision is sealed into the record log."""
    _decide(True, item_id, reviewer, note, policy, queue, log)


@app.command("reject")
def reject(
    item_id: int,
    reviewer: ReviewerOpt,
    note: NoteOpt = "",
    policy: PolicyOpt = None,
    queue: QueueOpt = None,
    log: LogOpt = None,
) -> None:
    """Reject a pending item; the decision is sealed into the record log."""
    _decide(False, item_id, reviewer, note, policy, queue, log)
