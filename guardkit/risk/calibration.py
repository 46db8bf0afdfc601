"""From a labelled file to a certified lock: read rows, split, fit the risk model, certify.

A labelled line is one JSON object with ``hallucinated`` (true when the output holds unsupported
or contradicted content) and either ``risk_components`` (as the audit's ``records.jsonl`` writes
them) or ``response`` with ``context`` (documents, a string or a list) and optionally
``question``, scored here with the verifier exactly as the risk check scores a call. Other
fields are ignored, so an audit's records file labelled by a reviewer can be used as it is; its
cases that never reached the risk check (refused or failed first: ``"risk_components": null``)
have no risk to calibrate and are left out with an ``UnscoredRowsWarning``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from guardkit._jsonl import DuplicateKeyError, loads
from guardkit.errors import ConfigError
from guardkit.policy.model import Policy
from guardkit.risk.lock import RiskLock
from guardkit.risk.model import RiskComponents, RiskModel, fit_risk_model
from guardkit.risk.score import evidence
from guardkit.risk.threshold import certify, split_indices

__all__ = ["Labelled", "UnscoredRowsWarning", "calibrate", "file_sha256", "read_labelled"]

Grounder = Callable[[Sequence[tuple[str, list[str]]]], list[RiskComponents]]
"""Scores (response, documents) pairs into components; the verifier does it in the product."""


@dataclass(frozen=True)
class Labelled:
    """One labelled output."""

    line: int
    components: RiskComponents
    hallucinated: bool


class UnscoredRowsWarning(UserWarning):
    """Labelled rows left out: cases that never reached the risk check have no risk score."""


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse(raw: str, file: str, line: int) -> dict[str, Any]:
    try:
        row = loads(raw)
    except DuplicateKeyError as exc:
        raise ConfigError(str(exc), file=file, line=line) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", file=file, line=line) from exc
    except RecursionError:
        raise ConfigError("not JSON: nested too deeply", file=file, line=line) from None
    if not isinstance(row, dict):
        raise ConfigError("a labelled line must be a JSON object", file=file, line=line)
    if "risk_components" in row and row["risk_components"] is None:
        return row  # never reached the risk check: left out whatever its label (read_labelled)
    label = row.get("hallucinated")
    if label not in (True, False) or not isinstance(label, bool | int):  # 0 and 1 count too
        raise ConfigError(
            "needs 'hallucinated': true or false (or 1 or 0)",
            file=file,
            line=line,
            loc=("hallucinated",),
        )
    if "risk_components" in row:
        return row
    response = row.get("response")
    if not isinstance(response, str) or not response.strip():
        raise ConfigError(
            "needs 'risk_components' or a non-empty 'response' string",
            file=file,
            line=line,
            loc=("response",),
        )
    if "context" not in row:
        raise ConfigError(
            "a 'response' row needs the 'context' it is judged against",
            file=file,
            line=line,
            loc=("context",),
        )
    return row


def _documents(row: dict[str, Any], file: str, line: int) -> list[str]:
    context = row.get("context", [])
    docs = [context] if isinstance(context, str) else context
    if not isinstance(docs, list) or not all(isinstance(d, str) for d in docs):
        raise ConfigError(
            "'context' must be a string or a list of strings",
            file=file,
            line=line,
            loc=("context",),
        )
    if not any(d.strip() for d in docs):
        raise ConfigError("'context' is empty", file=file, line=line, loc=("context",))
    return docs


def read_labelled(path: str | Path, grounder: Grounder | None) -> list[Labelled]:
    """Every labelled row; rows given as text are scored with ``grounder`` in one batch."""
    file = str(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    if not Path(path).is_file():
        raise ConfigError("the labelled file does not exist", file=file)
    with Path(path).open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ConfigError("not UTF-8 text", file=file, line=number) from exc
            if raw.strip():
                rows.append((number, _parse(raw, file, number)))
    if not rows:
        raise ConfigError("the labelled file has no rows", file=file)
    unscored = [n for n, r in rows if "risk_components" in r and r["risk_components"] is None]
    if unscored:
        shown = ", ".join(map(str, unscored[:10])) + (", ..." if len(unscored) > 10 else "")
        warnings.warn(
            UnscoredRowsWarning(
                f"{file}: {len(unscored)} rows have no risk (the case was refused or failed "
                f"before the risk check) and are left out (line {shown})"
            ),
            stacklevel=2,
        )
        rows = [(n, r) for n, r in rows if r.get("risk_components", {}) is not None]
    if not rows:
        raise ConfigError("no labelled row has a risk to calibrate", file=file)
    out: dict[int, RiskComponents] = {}
    to_score = [(n, r) for n, r in rows if "risk_components" not in r]
    for number, row in rows:
        if "risk_components" in row:
            try:
                out[number] = RiskComponents.model_validate(row["risk_components"])
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                loc = ("risk_components", *err["loc"])
                raise ConfigError(err["msg"], file=file, line=number, loc=loc) from exc
    if to_score:
        if grounder is None:
            raise ConfigError(
                "rows given as text need the verifier to score them", file=file, line=to_score[0][0]
            )
        pairs = [
            (r["response"], evidence(_documents(r, file, n), r.get("question")))
            for n, r in to_score
        ]
        out.update(zip((n for n, _ in to_score), grounder(pairs), strict=True))
    return [Labelled(n, out[n], bool(r["hallucinated"])) for n, r in rows]


def calibrate(
    rows: Sequence[Labelled],
    *,
    policy: Policy,
    calibration_file: str | Path,
    alpha: float,
    delta: float,
    bound: str = "binomial",
    order_fraction: float = 0.3,
    seed: int = 0,
    fit: bool = True,
    scored_with: str | None = None,
) -> RiskLock:
    """Fit the risk model on the order split, certify a threshold on the test split.

    ``scored_with`` names the verifier that scored text rows; the risk check refuses the lock
    with another one, whose scores the fitted model and threshold were not made for.
    """
    if len(rows) < 10:
        raise ConfigError(
            f"calibration needs at least 10 labelled rows, got {len(rows)}",
            file=str(calibration_file),
        )
    order_idx, test_idx = split_indices(len(rows), order_fraction, seed)
    labels = np.array([r.hallucinated for r in rows], dtype=np.int64)
    order_rows = [rows[i] for i in order_idx]
    model = RiskModel()
    if fit:
        try:
            model = fit_risk_model(
                [r.components for r in order_rows], [r.hallucinated for r in order_rows]
            )
        except ValueError as exc:
            raise ConfigError(
                f"cannot fit the risk model: {exc}",
                file=str(calibration_file),
                hint="label both faithful and hallucinated outputs, or pass --no-fit",
            ) from exc
    scores = np.array([model.risk(r.components) for r in rows])
    cert = certify(
        scores[order_idx],
        labels[order_idx],
        scores[test_idx],
        labels[test_idx],
        alpha=alpha,
        delta=delta,
        bound=bound,
    )
    return RiskLock(
        policy_id=policy.id,
        policy_version=policy.version,
        created_at=datetime.now(UTC),
        calibration_file=Path(calibration_file).name,
        calibration_sha256=file_sha256(calibration_file),
        n=len(rows),
        seed=seed,
        model=model,
        certification=cert,
        scored_with=scored_with,
    )
