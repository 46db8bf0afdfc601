"""``guardkit calibrate``: certify a risk threshold on labelled data and write the policy lock."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from guardkit.checks.risk import RiskCheckConfig
from guardkit.cli._warnings import shown_as_lines
from guardkit.errors import ConfigError, GuardkitError
from guardkit.policy.loader import load_policy
from guardkit.policy.model import Policy
from guardkit.risk import (
    PVALUES,
    RiskComponents,
    RiskScorer,
    UnscoredRowsWarning,
    load_grounding_verifier,
    read_labelled,
    write_lock,
)
from guardkit.risk.calibration import calibrate as certify_lock


class _Grounder:
    """Scores text rows with the verifier, loaded only if some row needs it, and remembers
    which verifier it was (for the lock)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: str | None = None

    def __call__(self, items: Sequence[tuple[str, list[str]]]) -> list[RiskComponents]:
        from guardkit.verifier import verifier_identity  # onnxruntime: only when rows need it

        scored = RiskScorer(load_grounding_verifier(self.folder)).many(items)
        self.used = verifier_identity(self.folder)
        return scored


def _rows_needed(alpha: float, delta: float) -> int:
    """Error-free accepted rows for the binomial bound to reach ``alpha`` at ``delta``:
    the least n with (1 - alpha)^n <= delta."""
    return math.ceil(math.log(delta) / math.log(1.0 - alpha))


def _policy_verifier(policy: Policy) -> Path | None:
    """The verifier the policy's risk check scores with, so the lock is fitted on the same."""
    risk = policy.check_configs.get("risk")
    return risk.verifier if isinstance(risk, RiskCheckConfig) else None


def calibrate(
    labelled: Annotated[Path, typer.Option(help="Labelled JSONL ('hallucinated' per line).")],
    policy: Annotated[Path, typer.Option(help="The policy the lock is for.")],
    alpha: Annotated[
        float,
        typer.Option(help="Highest hallucination rate among accepted (0 < alpha < 1)."),
    ] = 0.05,
    delta: Annotated[
        float,
        typer.Option(help="Allowed chance the guarantee fails (0 < delta < 1)."),
    ] = 0.1,
    out: Annotated[
        Path | None, typer.Option(help="Lock file (default: POLICY with .lock.json).")
    ] = None,
    bound: Annotated[str, typer.Option(help=f"p-value: {', '.join(PVALUES)}.")] = "binomial",
    seed: Annotated[int, typer.Option(help="Seed of the order/test split.")] = 0,
    fit: Annotated[
        bool, typer.Option(help="Fit the risk model on the order split (else use scores as is).")
    ] = True,
    verifier: Annotated[
        Path | None,
        typer.Option(
            help="Verifier folder for text rows (default: the policy's risk check's, else shipped)."
        ),
    ] = None,
) -> None:
    """Choose the loosest risk threshold keeping accepted hallucinations <= alpha w.p. 1 - delta."""
    for name, value in (("alpha", alpha), ("delta", delta)):
        if not 0.0 < value < 1.0:
            raise typer.BadParameter(f"{name} must be strictly between 0 and 1, got {value}")
    target = out or policy.with_suffix(".lock.json")
    try:
        loaded = load_policy(policy, without_lock=True)  # the lock is what this writes
        grounder = _Grounder(verifier or _policy_verifier(loaded))
        with shown_as_lines(UnscoredRowsWarning):
            rows = read_labelled(labelled, grounder)
        lock = certify_lock(
            rows,
            policy=loaded,
            calibration_file=labelled,
            alpha=alpha,
            delta=delta,
            bound=bound,
            seed=seed,
            fit=fit,
            scored_with=grounder.used,
        )
        if lock.threshold is None:
            raise ConfigError(
                f"{lock.certification.statement()} Even with no hallucination among them, "
                f"{_rows_needed(alpha, delta)} accepted test-split rows are needed; the lock "
                "was not written",
                file=str(labelled),
                hint="label more outputs, or allow a larger alpha or delta",
            )
        write_lock(lock, target)
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    cert = lock.certification
    typer.echo(lock.guarantee)
    typer.echo(
        f"threshold {cert.threshold}; test split: {cert.accepted} of {cert.n_test} accepted, "
        f"{cert.errors} hallucinated, upper bound {cert.ucb:.4f}"
    )
    typer.echo(f"lock: {target}  (use it with  checks: {{risk: {{lock: {target.name}}}}})")
