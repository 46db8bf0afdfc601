"""Gathering a candidate's risk components: the facts check's verdicts, grounding, repairs.

The grounding verifier is guardkit's own (``guardkit.verifier.load_verifier``), loaded once per
guard (once per Ray actor in audits), never per call. Each sentence of the output is scored
against the call's documents joined (the verifier windows long documents itself) and the least
supported sentence decides, the verifier's ``max_claim`` rule: an answer is only as grounded as
its weakest statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardkit.checks import CheckResult
from guardkit.facts._scripts import unread_script
from guardkit.risk.model import RiskComponents

if TYPE_CHECKING:
    from guardkit.verifier.types import Verifier

__all__ = [
    "RiskScorer",
    "evidence",
    "facts_unsupported",
    "last_question",
    "load_grounding_verifier",
]

_UNSUPPORTED = {"contradicted", "unverifiable", "not_enough_info", "unsupported"}


def _claim_unsupported(claim: Any) -> float | None:
    """Unsupported probability of one claim from the facts check's details.

    Read, in order of preference: ``probs`` (``supported``/``contradicted``/``not_enough_info``),
    or ``verdict`` with ``confidence`` (confidence in that verdict).
    """
    if not isinstance(claim, dict):
        return None
    probs = claim.get("probs")
    if isinstance(probs, dict) and isinstance(probs.get("supported"), int | float):
        return min(1.0, max(0.0, 1.0 - float(probs["supported"])))
    verdict, confidence = claim.get("verdict"), claim.get("confidence")
    if isinstance(verdict, str) and isinstance(confidence, int | float):
        c = min(1.0, max(0.0, float(confidence)))
        return c if verdict in _UNSUPPORTED else 1.0 - c
    return None


def facts_unsupported(result: CheckResult | None) -> float | None:
    """The least supported claim's unsupported probability, or ``None`` with no claims."""
    if result is None:
        return None
    values = [_claim_unsupported(c) for c in result.details.get("claims") or []]
    known = [v for v in values if v is not None]
    return max(known) if known else None


def evidence(documents: Sequence[str], question: str | None) -> list[str]:
    """What an answer is grounded against: each document followed by the question
    (``Question: ...``), as guardkit's verifier was trained, so a bare answer ("Delhi") can be
    judged; no documents, no evidence (a question alone supports nothing)."""
    docs = [d for d in documents if d.strip()]
    if question and question.strip():
        return [f"{d}\nQuestion: {question.strip()}" for d in docs]
    return docs


def last_question(messages: Sequence[dict[str, Any]] | None) -> str | None:
    """The text of the last user message, if it is plain text."""
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


def load_grounding_verifier(folder: Path | None) -> Verifier:
    """guardkit's verifier: the shipped model, or the model folder ``folder``."""
    from guardkit.verifier import load_verifier  # onnxruntime: loaded only when grounding is on

    return load_verifier(folder)


class RiskScorer:
    """Turns a candidate (text, documents, earlier check results, attempt) into components."""

    def __init__(
        self, verifier: Verifier | None, scripts: tuple[str, ...] | None = ("latin",)
    ) -> None:
        self.verifier = verifier
        self.scripts = scripts
        """Scripts the verifier reads: a sentence mostly in another is unsupported (1.0)
        without asking it, as the facts check leaves such claims unverifiable."""

    def grounding(self, items: Sequence[tuple[str, list[str]]]) -> list[float | None]:
        """Unsupported probability per (text, documents): the least supported of the text's
        sentences (the verifier's own ``split_claims``); ``None`` where there is nothing to judge
        against (no documents, or no verifier) or nothing to judge (empty text)."""
        return [None if w is None else w[0] for w in self.least_supported(items)]

    def least_supported(
        self, items: Sequence[tuple[str, list[str]]]
    ) -> list[tuple[float, str] | None]:
        """Per (text, documents): the least supported sentence and its unsupported probability
        (what a reask quotes), ``None`` as for ``grounding``."""
        out: list[tuple[float, str] | None] = [None] * len(items)
        if self.verifier is None:
            return out
        from guardkit._citations import states_something
        from guardkit.verifier import join_documents, split_claims  # loaded only when used

        owners: list[int] = []
        pairs: list[tuple[str, str]] = []
        for i, (text, docs) in enumerate(items):
            evidence = join_documents(docs)  # each document windowed on its own
            if states_something(text) and evidence:
                for claim in split_claims(text):
                    if self.scripts is not None and unread_script(claim, self.scripts):
                        if out[i] is None:  # the first unread sentence is the one quoted
                            out[i] = (1.0, claim)
                    else:
                        owners.append(i)
                        pairs.append((evidence, claim))
        probs = self.verifier.predict(pairs) if pairs else []
        for i, (_, claim), p in zip(owners, pairs, probs, strict=True):
            previous = out[i]
            if previous is None or p.unsupported > previous[0]:
                out[i] = (p.unsupported, claim)
        return out

    def components(
        self, text: str, evidence: list[str], facts: CheckResult | None, repairs: int
    ) -> tuple[RiskComponents, str | None]:
        """The components of one candidate, grounded against ``evidence`` (see ``evidence``),
        and its least supported sentence (``None`` when not grounded)."""
        worst = self.least_supported([(text, evidence)])[0]
        components = RiskComponents(
            facts=facts_unsupported(facts),
            grounding=None if worst is None else worst[0],
            repairs=repairs,
        )
        return components, None if worst is None else worst[1]

    def many(self, items: Sequence[tuple[str, list[str]]]) -> list[RiskComponents]:
        """Components of many first-attempt outputs judged by grounding alone (calibration)."""
        return [RiskComponents(grounding=g) for g in self.grounding(items)]
