"""Claims against evidence: top-k facts per claim, the verifier on each pair, one verdict each.

Only evidence about the same thing (similar enough to the claim) decides: a claim is
*supported* when some of it supports the claim firmly enough, *contradicted* when some of it
contradicts the claim more firmly than any supports it, and otherwise *unverifiable*. The
verdict carries its confidence and the citations a reviewer can follow (fact id, source, text,
similarity, and what the verifier said about that pair). Evidence comes from a ``FactIndex``,
from documents passed with the call, or both. A claim that cites its sources (a citation
sentence of a paper, an answer with references) is checked against those sources alone.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from guardkit._threads import one_thread_if_small
from guardkit.errors import ConfigError
from guardkit.facts._documents import DocumentFacts
from guardkit.facts._embed import Embedder, default_embedder
from guardkit.facts._ingest import FactRow
from guardkit.facts._scripts import Scripts, unread_script
from guardkit.facts.claims import Claim, extract_claims
from guardkit.facts.index import FactIndex, Hit
from guardkit.verifier._quotes import states_verbatim
from guardkit.verifier.types import VerdictProbs, Verifier

__all__ = [
    "Citation",
    "ClaimVerdict",
    "ClaimVerifier",
    "Verdict",
    "VerifySettings",
    "default_verifier",
    "document_citations",
]

Verdict = Literal["supported", "contradicted", "unverifiable"]
_STATED = VerdictProbs(supported=1.0, contradicted=0.0, not_enough_info=0.0)
_CALL_DOCUMENT = re.compile(r"document\[\d+\]\Z")
"""How the documents passed with a call are named (:func:`_document_name`)."""


def _document_name(number: int) -> str:
    """The document id and source of a call's document, numbered from 1 as answers cite them:
    "[2]" cites ``document[2]``."""
    return f"document[{number}]"


class Citation(BaseModel):
    """One piece of evidence for a claim, and the verifier's reading of the pair."""

    model_config = ConfigDict(frozen=True)

    fact_id: str
    source: str
    text: str
    score: float = Field(ge=-1.0, le=1.0)
    """Cosine similarity of the fact to the claim."""
    supported: float | None = Field(None, ge=0.0, le=1.0)
    """The verifier's reading; ``None`` for evidence below ``verdict_min_score``, which decides
    nothing and is not sent to the verifier."""
    contradicted: float | None = Field(None, ge=0.0, le=1.0)


class ClaimVerdict(BaseModel):
    """A claim, its verdict, how sure, and the evidence behind it (most decisive first)."""

    model_config = ConfigDict(frozen=True)

    claim: Claim
    verdict: Verdict
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[Citation] = Field(default_factory=list)
    unread_script: str | None = None
    """Set when the claim is written in a script the verifier does not read (``cjk``,
    ``cyrillic`` ...): unverifiable without asking the model (``VerifySettings.scripts``)."""


class VerifySettings(BaseModel):
    """How much evidence to look at and how firm the verifier must be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    top_k: int = Field(5, ge=1, le=50)
    min_score: float = Field(0.2, ge=-1.0, le=1.0)
    """Evidence less similar than this to the claim is not shown to the verifier."""
    support_threshold: float = Field(0.5, gt=0.0, le=1.0)
    contradict_threshold: float = Field(0.5, gt=0.0, le=1.0)
    verdict_min_score: float = Field(0.5, ge=-1.0, le=1.0)
    """Evidence less similar than this is shown, but neither supports nor contradicts the
    claim: a sentence about another subject says nothing about it, yet the verifier reads its
    numbers and names as a contradiction, or its wording as support. Chosen on FoolMeTwice dev
    (a fifth of its pages left out of the index) and CitInt dev, for the shipped embedder's
    cosines (``benchmarks/verdict_floor.py``)."""
    scripts: Scripts = ("latin",)
    """Scripts the verifier reads (see :mod:`guardkit.facts._scripts`): a claim mostly in
    others is unverifiable without asking the model, whose readings of text it never learnt
    are guesses. The shipped models read English; ``None`` sends every claim to the model (a
    multilingual verifier of your own)."""


class ClaimVerifier:
    """Verifies claims against an index and/or per-call documents; built once, used per call."""

    def __init__(
        self,
        index: FactIndex | None,
        verifier: Verifier,
        settings: VerifySettings | None = None,
        *,
        embedder: Embedder | None = None,
    ) -> None:
        self.index = index
        self.verifier = verifier
        self.settings = settings or VerifySettings()
        if embedder is None:
            embedder = index.embedder if index is not None else default_embedder()
        self.embedder = embedder
        self._documents = DocumentFacts(embedder)

    def verify_text(
        self, text: str, documents: Sequence[str] = (), *, citations: bool = True
    ) -> list[ClaimVerdict]:
        """Extract the claims of ``text`` and verify each; with ``citations``, a claim citing
        ``documents`` by number is checked against those (see :func:`document_citations`)."""
        claims = extract_claims(text)
        cited = document_citations(claims, len(documents)) if citations else None
        return self.verify(claims, documents, cited=cited)

    def verify(
        self,
        claims: Sequence[Claim],
        documents: Sequence[str] = (),
        *,
        cited: Sequence[Collection[str] | None] | None = None,
    ) -> list[ClaimVerdict]:
        """One verdict per claim, in order.

        ``cited``: per claim, the documents it cites, by document id or source name (``None``
        or empty: it cites none); the call's documents are ``document[1]``, ``document[2]``, ...
        Its evidence then comes from those only, since a citation is correct when the cited
        document says so, not when some other one does.
        """
        if not claims:
            return []
        if cited is not None and len(cited) != len(claims):
            raise ConfigError(
                f"{len(claims)} claims but {len(cited)} citation sets", loc=("cited",)
            )
        with one_thread_if_small(len(claims)):  # a call's few claims: threads cost more
            vectors = self.embedder.encode([c.text for c in claims])
            evidence = self._evidence([c.text for c in claims], vectors, documents, cited)
            return self.judge(claims, evidence)

    def judge(
        self,
        claims: Sequence[Claim],
        evidence: Sequence[Sequence[Hit]],
        *,
        floor: float | None = None,
    ) -> list[ClaimVerdict]:
        """One verdict per claim from evidence already found (``evidence[i]`` for
        ``claims[i]``, most similar first). Only evidence at or above ``floor`` (default:
        ``verdict_min_score``, the evidence that can decide) is sent to the verifier; a
        benchmark sweeping the floor passes a lower one."""
        if floor is None:
            floor = self.settings.verdict_min_score
        scripts = self.settings.scripts
        unread = [None if scripts is None else unread_script(c.text, scripts) for c in claims]
        read = [
            (claim, hits)
            for claim, hits, script in zip(claims, evidence, unread, strict=True)
            if script is None
        ]
        # a clause of a sentence the evidence states word for word needs no model
        known: dict[tuple[str, str], VerdictProbs] = {
            (hit.text, claim.text): _STATED
            for claim, hits in read
            for hit in hits
            if claim.sentence and hit.score >= floor and states_verbatim(hit.text, claim.sentence)
        }
        # a fact found twice (the index and the call's documents) is verified once
        unique = list(
            dict.fromkeys(
                (hit.text, claim.text)
                for claim, hits in read
                for hit in hits
                if hit.score >= floor and (hit.text, claim.text) not in known
            )
        )
        known.update(zip(unique, self.verifier.predict(unique) if unique else [], strict=True))
        return [
            self._judge(claim, [(hit, known.get((hit.text, claim.text))) for hit in hits])
            if script is None
            else ClaimVerdict(
                claim=claim,
                verdict="unverifiable",
                confidence=1.0,
                citations=[_citation(hit, None) for hit in hits],
                unread_script=script,
            )
            for claim, hits, script in zip(claims, evidence, unread, strict=True)
        ]

    def _evidence(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        documents: Sequence[str],
        cited: Sequence[Collection[str] | None] | None,
    ) -> list[list[Hit]]:
        k, floor = self.settings.top_k, self.settings.min_score
        found: list[list[Hit]] = [[] for _ in range(len(vectors))]
        if self.index is not None:  # its own search_mode
            # A claim citing only the call's documents gets nothing from the index, even
            # from an index document that happens to be called "document[1]".
            names = [set(c or ()) for c in cited] if cited is not None else None
            within = [{n for n in c if not _CALL_DOCUMENT.match(n)} for c in names or []]
            asks = [q for q in range(len(texts)) if names is None or within[q] or not names[q]]
            if asks:
                hits = self.index.search_many(
                    [texts[q] for q in asks],
                    k,
                    vectors=vectors[asks],
                    within=None if names is None else [within[q] for q in asks],
                )
                for q, h in zip(asks, hits, strict=True):
                    found[q] = h
        if documents:
            from_documents = self._document_hits(vectors, documents, cited)
            found = [a + b for a, b in zip(found, from_documents, strict=True)]
        return [_best_distinct(hits, floor, k) for hits in found]

    def _document_hits(
        self,
        vectors: np.ndarray,
        documents: Sequence[str],
        cited: Sequence[Collection[str] | None] | None,
    ) -> list[list[Hit]]:
        """The call's documents, cut into facts and embedded (once per document text, see
        :class:`DocumentFacts`).

        The ``i``-th (from 1) is ``document[i]``; a claim citing some of them gets evidence
        from those.
        """
        rows: list[FactRow] = []
        found = []
        for i, text in enumerate(documents, start=1):
            if text.strip():
                facts, facts_vectors = self._documents.facts(_document_name(i), text)
                rows += facts
                found.append(facts_vectors)
        if not rows:
            return [[] for _ in range(len(vectors))]
        sims = vectors @ np.concatenate(found).T
        out = []
        for i, q in enumerate(sims):
            names = cited[i] if cited is not None else None
            if names:
                q = np.where([r.doc_id in names or r.source in names for r in rows], q, -np.inf)
            best = [j for j in np.argsort(-q)[: self.settings.top_k] if np.isfinite(q[j])]
            out.append(
                [
                    Hit(
                        fact_id=rows[j].fact_id,
                        doc_id=rows[j].doc_id,
                        source=rows[j].source,
                        text=rows[j].text,
                        start=rows[j].start,
                        end=rows[j].end,
                        score=float(np.clip(q[j], -1.0, 1.0)),
                    )
                    for j in best
                ]
            )
        return out

    def _judge(self, claim: Claim, scored: list[tuple[Hit, VerdictProbs | None]]) -> ClaimVerdict:
        s = self.settings
        cites = [_citation(h, p) for h, p in scored]

        def far(c: Citation) -> bool:
            return c.score < s.verdict_min_score  # listed, but decides nothing

        sup = max((c.supported or 0.0 for c in cites if not far(c)), default=0.0)
        con = max((c.contradicted or 0.0 for c in cites if not far(c)), default=0.0)
        if con >= s.contradict_threshold and con > sup:
            verdict: Verdict = "contradicted"
            confidence = con
            cites.sort(key=lambda c: (far(c), -(c.contradicted or 0.0)))
        elif sup >= s.support_threshold:
            verdict, confidence = "supported", sup
            cites.sort(key=lambda c: (far(c), -(c.supported or 0.0)))
        else:
            verdict, confidence = "unverifiable", 1.0 - max(sup, con)
        return ClaimVerdict(claim=claim, verdict=verdict, confidence=confidence, citations=cites)


def _citation(hit: Hit, probs: VerdictProbs | None) -> Citation:
    return Citation(
        fact_id=hit.fact_id,
        source=hit.source,
        text=hit.text,
        score=hit.score,
        supported=None if probs is None else probs.supported,
        contradicted=None if probs is None else probs.contradicted,
    )


def document_citations(claims: Sequence[Claim], n_documents: int) -> list[set[str]] | None:
    """Per claim, the documents its citation numbers name: "[2]" is the second document passed,
    ``document[1]`` (an empty set: it cites none); ``None`` when there are no documents or no
    claim cites any, so nothing is restricted. A number beyond the documents names one that
    does not exist: the claim then has no evidence, as a citation of nothing deserves."""
    if not n_documents or not any(c.cites for c in claims):
        return None
    return [{_document_name(n) for n in c.cites} for c in claims]


def _best_distinct(hits: Sequence[Hit], floor: float, k: int) -> list[Hit]:
    """The ``k`` most similar hits at or above ``floor``, each text once.

    The same sentence often comes from the index and from the call's documents; two copies
    would take two of the ``k`` places and tell the verifier nothing new.
    """
    seen: set[str] = set()
    out: list[Hit] = []
    for hit in sorted(hits, key=lambda h: -h.score):  # stable: an exact tie keeps the index hit
        text = " ".join(hit.text.split())
        if hit.score >= floor and text not in seen:
            seen.add(text)
            out.append(hit)
    return out[:k]


def default_verifier(folder: Path | None = None) -> Verifier:
    """The shipped verifier model, or the one in ``folder`` (each loaded once per process)."""
    try:
        from guardkit.verifier import load_verifier
    except ImportError as exc:
        raise ConfigError(
            "no claim verifier is available (guardkit.verifier.load_verifier cannot be imported)",
            hint="install guardkit with its bundled verifier model",
        ) from exc
    verifier: Verifier = load_verifier(folder)
    return verifier
