"""The ``risk`` check: accept a candidate only when its hallucination risk is low enough.

Policy section::

    checks:
      facts: {...}                            # optional; its claim verdicts feed the score
      risk: {max_risk: 0.2, lock: policy.lock.json}

``lock`` is the file ``guardkit calibrate`` writes: a threshold certified by learn-then-test and
the fitted risk model; with it, the result states the guarantee. ``max_risk`` alone is a plain
threshold with no guarantee; with both, the stricter applies. A relative ``lock`` path is read
from the policy's folder when the policy loader passes it (``base_dir`` context), otherwise from
the working directory. The lock is read when the policy is loaded, so a missing or broken lock
fails there, with its file and field.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from guardkit.checks import (
    CheckContext,
    CheckResult,
    CheckSetup,
    model_folder,
    register_check,
)
from guardkit.errors import GuardkitError
from guardkit.facts._scripts import Scripts
from guardkit.risk.lock import RiskLock, read_lock
from guardkit.risk.model import RiskModel
from guardkit.risk.score import RiskScorer, evidence, last_question, load_grounding_verifier

__all__ = ["RiskCheck", "RiskCheckConfig"]

_FEEDBACK = (
    "Your previous answer contained statements that the provided documents do not support "
    "(risk {risk:.2f} > {threshold:.2f}).{worst}\nAnswer again using only facts stated in the "
    "documents; say so when they do not contain the answer."
)
_WORST = '\nThe least supported:\n- "{sentence}"'


class RiskCheckConfig(BaseModel):
    """Settings of the risk check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_risk: float | None = Field(None, ge=0.0, le=1.0)
    """Accept when the risk is at most this (no guarantee unless it comes from a lock)."""
    lock: str | None = None
    """Lock file from ``guardkit calibrate``: certified threshold and fitted risk model."""
    grounding: bool = True
    """Score the output against the call's documents with guardkit's verifier."""
    verifier: Path | None = None
    """Verifier model folder (relative to the policy's folder); the shipped model when unset."""
    scripts: Scripts = ("latin",)
    """Scripts the verifier reads, as for the facts check: a sentence mostly in another counts
    as unsupported without asking the model; ``null`` asks it about every sentence."""
    _lock: RiskLock | None = PrivateAttr(None)

    _verifier_folder = field_validator("verifier")(model_folder)

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo) -> RiskCheckConfig:
        if self.max_risk is None and self.lock is None:
            raise ValueError("give 'max_risk', 'lock' (from guardkit calibrate), or both")
        if self.lock is not None and not (info.context or {}).get("without_lock"):
            base = Path((info.context or {}).get("base_dir", "."))
            try:
                self._lock = read_lock(base / self.lock)
            except GuardkitError as exc:
                raise ValueError(str(exc)) from exc
            self._same_verifier(self._lock)
        return self

    def _same_verifier(self, lock: RiskLock) -> None:
        """A lock fitted on another verifier's scores certifies nothing for this one's: refused
        when the policy is read, so `guardkit policy check` says so."""
        if lock.scored_with is None or not self.grounding:
            return
        from guardkit.verifier import verifier_identity  # reads one manifest, no model

        try:
            current = verifier_identity(self.verifier)
        except GuardkitError as exc:  # a folder without a readable manifest: a policy error
            raise ValueError(str(exc)) from exc
        if current != lock.scored_with:
            raise ValueError(
                f"the risk lock was fitted on scores of {lock.scored_with}; this policy's risk "
                f"check scores with {current} (run guardkit calibrate again to fit the lock "
                "on this verifier's scores)"
            )

    @property
    def locked(self) -> RiskLock | None:
        """The lock, read when the policy was loaded."""
        return self._lock

    @property
    def threshold(self) -> float:
        """The threshold that applies: the stricter of ``max_risk`` and the lock's (a lock that
        certified nothing gives -1: no risk is low enough)."""
        limits = [] if self.max_risk is None else [self.max_risk]
        if self._lock is not None:
            certified = self._lock.threshold
            limits.append(-1.0 if certified is None else certified)
        return min(limits)


class RiskCheck:
    """Score the candidate's risk and compare it with the policy's threshold.

    ``score`` is ``1 - risk`` (higher is better, as for every check); ``details`` hold the risk,
    the threshold applied (``None`` when a lock certified none: nothing passes), the components
    and the guarantee, stated only when the lock's certified threshold is the one applied.
    """

    name = "risk"

    def __init__(self, config: RiskCheckConfig, scorer: RiskScorer) -> None:
        self.config = config
        self.scorer = scorer
        lock = config.locked
        self.model = lock.model if lock is not None else RiskModel()
        certified = (
            lock is not None and lock.threshold is not None and config.threshold == lock.threshold
        )
        self.guarantee = lock.guarantee if lock is not None and certified else None

    def run(self, ctx: CheckContext) -> CheckResult:
        facts = next((r for r in ctx.results if r.check == "facts"), None)
        grounds = evidence(ctx.documents, last_question(ctx.messages))
        components, worst = self.scorer.components(ctx.prose, grounds, facts, ctx.attempt - 1)
        risk = self.model.risk(components)
        threshold = self.config.threshold
        passed = risk <= threshold
        details = {
            "risk": risk,
            "threshold": threshold if threshold >= 0 else None,
            "components": components.model_dump(),
            "judged": components.judged,
            "guarantee": self.guarantee,
            "least_supported": worst,
        }
        feedback = None
        if not passed:
            quoted = _WORST.format(sentence=worst) if worst else ""
            feedback = _FEEDBACK.format(risk=risk, threshold=max(threshold, 0.0), worst=quoted)
        return CheckResult(
            check=self.name, passed=passed, score=1.0 - risk, details=details, feedback=feedback
        )


def _build(config: RiskCheckConfig, setup: CheckSetup) -> RiskCheck:
    # a lock for another policy, version or verifier is refused by the policy's validation
    verifier = load_grounding_verifier(config.verifier) if config.grounding else None
    return RiskCheck(config, RiskScorer(verifier, config.scripts))


register_check("risk", RiskCheckConfig, _build)
