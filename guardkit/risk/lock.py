"""The policy lock file: a certified risk threshold and the evidence it was certified on.

``guardkit calibrate`` writes it; the ``risk`` check reads it (``checks: {risk: {lock: FILE}}``)
and reports state its guarantee. It pins the calibration set by sha256, so a reader can tell
exactly which labelled data the guarantee stands on. Written atomically (temporary file and
rename), so a crash never leaves half a lock behind.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardkit._files import write_atomic
from guardkit.errors import ConfigError
from guardkit.risk.model import RiskModel
from guardkit.risk.threshold import Certification

__all__ = ["RiskLock", "read_lock", "write_lock"]


class RiskLock(BaseModel):
    """What ``guardkit calibrate`` certified for one policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["guardkit.risk-lock"] = "guardkit.risk-lock"
    version: Literal[1] = 1
    policy_id: str
    policy_version: str
    created_at: datetime
    calibration_file: str
    calibration_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    n: int = Field(ge=1)
    """Labelled rows used (order split plus test split)."""
    seed: int
    model: RiskModel
    certification: Certification
    scored_with: str | None = None
    """The verifier (name and manifest sha256) that scored the rows given as text; ``None`` when
    every row came with its risk components."""

    @property
    def threshold(self) -> float | None:
        """The certified threshold (``None``: nothing may be accepted)."""
        return self.certification.threshold

    @property
    def guarantee(self) -> str:
        """The guarantee in one sentence, with the calibration set it stands on."""
        return (
            f"{self.certification.statement()} Calibration set sha256 "
            f"{self.calibration_sha256[:12]}..., n={self.n}."
        )


def write_lock(lock: RiskLock, path: str | Path) -> None:
    """Write the lock as JSON, atomically."""
    write_atomic(Path(path), lock.model_dump_json(indent=2) + "\n")


def read_lock(path: str | Path) -> RiskLock:
    """Read and validate a lock file; every problem is a ``ConfigError`` naming file and field."""
    file = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the risk lock: {exc.strerror}", file=file) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", file=file, line=exc.lineno) from exc
    try:
        return RiskLock.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ConfigError(f"invalid risk lock: {err['msg']}", file=file, loc=err["loc"]) from exc
