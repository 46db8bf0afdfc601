"""Fact indexes and claim checks: the reference a guarded answer's claims are verified against.

index = FactIndex.build(["help.jsonl", "returns.md"]); index.save("indexes/help")
checker = ClaimVerifier(FactIndex.load("indexes/help"), default_verifier())
for v in checker.verify_text(answer):
    v.verdict, v.confidence, v.citations[0].fact_id if v.citations else None
"""

from guardkit.facts._embed import Embedder, MiniLMEmbedder, default_embedder
from guardkit.facts._embed_onnx import OnnxEmbedder
from guardkit.facts._ingest import Document, SkippedDocumentsWarning, read_source
from guardkit.facts._lexical import SearchMode
from guardkit.facts._manifest import IndexManifest
from guardkit.facts._vectors import AUTO_THRESHOLD, IndexParams
from guardkit.facts.claims import Claim, extract_claims
from guardkit.facts.index import FactIndex, Hit, IndexType
from guardkit.facts.verify import (
    Citation,
    ClaimVerdict,
    ClaimVerifier,
    Verdict,
    VerifySettings,
    default_verifier,
)

__all__ = [
    "AUTO_THRESHOLD",
    "Citation",
    "Claim",
    "ClaimVerdict",
    "ClaimVerifier",
    "Document",
    "Embedder",
    "FactIndex",
    "Hit",
    "IndexManifest",
    "IndexParams",
    "IndexType",
    "MiniLMEmbedder",
    "OnnxEmbedder",
    "SearchMode",
    "SkippedDocumentsWarning",
    "Verdict",
    "VerifySettings",
    "default_embedder",
    "default_verifier",
    "extract_claims",
    "read_source",
]
