from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from guardkit.facts import FactIndex, default_embedder
from guardkit.verifier.types import VerdictProbs

torch.set_num_threads(1)

KB = [
    '{"id": "returns", "text": "Items can be returned within 30 days of delivery. Refunds are '
    'issued to the original payment method within 5 business days.", "source": "help/returns"}',
    '{"id": "shipping", "text": "Standard shipping takes 3 to 5 business days. Express shipping '
    'costs 15 dollars and arrives the next day.", "source": "help/shipping"}',
    '{"id": "warranty", "text": "All laptops carry a two-year warranty. The warranty does not '
    'cover accidental damage.", "lang": "en"}',
]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "of", "to", "and", "is", "are", "in", "within", "all", "does", "do"}


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class LexicalVerifier:
    """Test-only verifier (word overlap): exercises the plumbing, never the product default.

    Supported when the claim's content words all occur in the evidence; contradicted when most
    do but a number or a negation differs; otherwise not enough info.
    """

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[VerdictProbs]:
        out = []
        for evidence, claim in pairs:
            ev, cl = _words(evidence), _words(claim)
            overlap = len(ev & cl) / max(1, len(cl))
            numbers_differ = {w for w in cl if w.isdigit()} - {w for w in ev if w.isdigit()}
            negation_differs = ("not" in ev) != ("not" in cl)
            if overlap >= 0.99:
                probs = (0.9, 0.05, 0.05)
            elif overlap >= 0.5 and (numbers_differ or negation_differs):
                probs = (0.05, 0.9, 0.05)
            else:
                probs = (0.05, 0.05, 0.9)
            out.append(
                VerdictProbs(supported=probs[0], contradicted=probs[1], not_enough_info=probs[2])
            )
        return out


class HashingEmbedder:
    """A tiny real embedder (hashed bag of words) under another model id: cheap, deterministic."""

    model_id = "tests/hashing-bow"
    dim = 64
    sha256 = hashlib.sha256(b"tests/hashing-bow").hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in _WORD.findall(text.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


@pytest.fixture(scope="session")
def kb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "kb.jsonl"
    path.write_text("\n".join(KB) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def saved_index(kb_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The KB indexed with the real bundled embedder, saved once per session."""
    folder = tmp_path_factory.mktemp("indexes") / "help"
    FactIndex.build([kb_file], embedder=default_embedder()).save(folder)
    return folder


@pytest.fixture
def hashing() -> HashingEmbedder:
    return HashingEmbedder()
