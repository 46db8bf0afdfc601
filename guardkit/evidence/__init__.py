"""Compliance evidence: an EU AI Act evidence pack built from audits, record logs and manifests."""

from guardkit.evidence.pack import MANIFEST, build_pack, verify_pack
from guardkit.evidence.sources import Evidence, Missing, Source, gather

__all__ = ["MANIFEST", "Evidence", "Missing", "Source", "build_pack", "gather", "verify_pack"]
