"""Citation-Integrity claims against their cited evidence sentences (SciFact/MultiVerS format).

A claim with ``evidence`` is paired with its rationale sentences (SUPPORT -> supported, REFUTE ->
contradicted); a claim with empty ``evidence`` is paired with the abstract of its first cited
document (not enough info). Citation markers such as ``[<|multi_cit|>,7]`` are removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from guardkit.verifier.training.examples import (
    CONTRADICTED,
    NOT_ENOUGH_INFO,
    SUPPORTED,
    Example,
)

__all__ = ["citint_pairs", "clean_claim", "load_corpus"]

_CITE = re.compile(r"\s*\[[^\]]*<\|[a-z_]+\|>[^\]]*\]|\s*<\|[a-z_]+\|>")


def clean_claim(text: str) -> str:
    """The claim without citation markers."""
    return re.sub(r"\s+", " ", _CITE.sub("", text)).strip()


def load_corpus(root: Path) -> dict[int, dict[str, Any]]:
    """``doc_id`` -> corpus row."""
    with (root / "corpus.jsonl").open(encoding="utf-8") as fh:
        return {int(r["doc_id"]): r for r in map(json.loads, fh)}


def citint_pairs(root: Path, split: str) -> list[Example]:
    """(evidence, claim) pairs of one claims file: ``train``, ``dev`` or ``test``."""
    corpus = load_corpus(root)
    out: list[Example] = []
    with (root / f"claims_{split}.jsonl").open(encoding="utf-8") as fh:
        for claim_row in map(json.loads, fh):
            claim = clean_claim(claim_row["claim"])
            if not claim:
                continue
            evidence = claim_row.get("evidence") or {}
            for doc_id, sets in evidence.items():
                abstract = corpus.get(int(doc_id), {}).get("abstract", [])
                for ev in sets:
                    text = " ".join(abstract[i] for i in ev["sentences"] if i < len(abstract))
                    label = SUPPORTED if ev["label"] == "SUPPORT" else CONTRADICTED
                    if text:
                        out.append(Example(text, claim, label, "citint"))
            if not evidence:
                for doc_id in claim_row.get("cited_doc_ids", [])[:1]:
                    abstract = corpus.get(int(doc_id), {}).get("abstract", [])
                    if abstract:
                        out.append(Example(" ".join(abstract), claim, NOT_ENOUGH_INFO, "citint"))
    return out
