"""TEST-ONLY doubles for risk plumbing tests; product code never uses them."""

from __future__ import annotations

from collections.abc import Sequence

from guardkit.verifier.types import VerdictProbs


class WordOverlapVerifier:
    """Test double: a claim is supported in proportion to its words found in the evidence."""

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[VerdictProbs]:
        out = []
        for evidence, claim in pairs:
            words = [w.strip(".,?!").lower() for w in claim.split()]
            known = set(evidence.lower().replace(".", " ").split())
            share = sum(w in known for w in words) / max(1, len(words))
            s = min(0.98, max(0.02, share))
            out.append(
                VerdictProbs(supported=s, contradicted=(1 - s) / 2, not_enough_info=(1 - s) / 2)
            )
        return out
