"""Not-enough-info pairs as the facts check meets them: retrieved sentences that are not evidence.

In a claim check the verifier sees the top facts a search found, and most of them are on the
claim's topic without being its evidence. No training set showed it such pairs, and it called
them contradicted: at the default thresholds, 1,026 of 1,380 FoolMeTwice test claims against 699
refuted, and a contradiction probability >= 0.2 for 92 % of their (retrieved fact, claim) pairs
(``benchmarks/RESULTS.md``). Two sources of such pairs, neither touching a test split:

- CitInt train claims against what hybrid search finds for them in the abstracts that neither
  they nor any dev or test claim cite (a cited abstract's other sentences often bear on the
  claim without being marked as evidence);
- FoolMeTwice dev claims against the retrieved sentences the set ships with them, minus their
  gold evidence (FM2 dev is already a training part; its test split stays held out).

A sentence that is not marked as evidence may still bear on the claim; such noise is the price
of pairs drawn from the distribution the verifier is used on.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from guardkit.verifier.training.citint import clean_claim
from guardkit.verifier.training.examples import NOT_ENOUGH_INFO, Example

__all__ = ["citint_retrieved", "fm2_retrieved"]


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def citint_retrieved(
    root: Path, allowed_docs: dict[int, list[str]], per_claim: int, seed: int
) -> list[Example]:
    """Up to ``per_claim`` retrieved non-evidence sentences per CitInt train claim."""
    from guardkit.facts import FactIndex  # the facts package loads the embedder: only here

    cited: dict[str, set[str]] = {}
    with (root / "claims_train.jsonl").open(encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            ids = {*r.get("cited_doc_ids", []), *(r.get("evidence") or {})}
            cited.setdefault(clean_claim(r["claim"]), set()).update(str(d) for d in ids)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "sentences.jsonl"
        with source.open("w", encoding="utf-8") as fh:
            for doc_id, sentences in allowed_docs.items():
                for i, text in enumerate(sentences):
                    rec = {"id": f"{doc_id}:{i}", "text": text, "source": str(doc_id)}
                    fh.write(json.dumps(rec) + "\n")
        index = FactIndex.build([source])
    claims = sorted(cited)
    rng = random.Random(seed)
    out = []
    for claim, hits in zip(claims, index.search_many(claims, 8), strict=True):
        found = [h.text for h in hits if h.source not in cited[claim]][:5]
        for text in rng.sample(found, min(per_claim, len(found))):
            out.append(Example(text, claim, NOT_ENOUGH_INFO, "citint_retrieved"))
    return out


def fm2_retrieved(root: Path, per_claim: int, seed: int) -> list[Example]:
    """Up to ``per_claim`` shipped retrieved non-evidence sentences per FoolMeTwice dev claim."""
    rng = random.Random(seed)
    out = []
    with (root / "fm2/dataset/dev.jsonl").open(encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            gold = {_norm(e["text"]) for e in r["gold_evidence"]}
            found = list(
                dict.fromkeys(
                    " ".join(e["text"].split())
                    for e in r["retrieved_evidence"]
                    if _norm(e["text"]) not in gold
                )
            )
            for text in rng.sample(found, min(per_claim, len(found))):
                out.append(Example(text, r["text"], NOT_ENOUGH_INFO, "fm2_retrieved"))
    return out
