"""guardkit's grounded verifier: does the evidence support, contradict or say nothing about a claim?

The runtime needs only onnxruntime, tokenizers and pysbd (no torch). Training and export live in
:mod:`guardkit.verifier.training` and :mod:`guardkit.verifier.export` and need torch.

>>> from guardkit.verifier import load_verifier
>>> v = load_verifier()  # the shipped int8 model, loaded once per process
>>> v.predict([("Paris is the capital of France.", "France's capital is Paris.")])[0].label
'supported'
"""

from __future__ import annotations

import threading
from pathlib import Path

from guardkit._shipped import SHIPPED_MODELS, shipped_folder
from guardkit.errors import ModelError
from guardkit.verifier._negations import READING
from guardkit.verifier._windows import join_documents
from guardkit.verifier.runtime import OnnxVerifier
from guardkit.verifier.scoring import ClaimScore, ResponseScore, score_responses, split_claims
from guardkit.verifier.types import LABELS as LABELS
from guardkit.verifier.types import VerdictProbs, Verifier

# DEFAULT_MODEL and LABELS are public too; they stay out of __all__ only because ruff's
# isort-style order and plain sorted() disagree on where constants go.

__all__ = [
    "ClaimScore",
    "OnnxVerifier",
    "ResponseScore",
    "VerdictProbs",
    "Verifier",
    "join_documents",
    "load_verifier",
    "model_folder",
    "score_responses",
    "split_claims",
    "verifier_identity",
]

#: The model folder shipped inside the package.
DEFAULT_MODEL = SHIPPED_MODELS / "verifier-minilm-l6-v5"

_cache: dict[Path, OnnxVerifier] = {}
_lock = threading.Lock()


def model_folder(path: str | Path | None = None) -> Path:
    """The folder ``path`` names: itself if it exists, else a shipped model of that folder
    name, else itself (the loader says it is missing); the shipped default for ``None``."""
    if path is None:
        return DEFAULT_MODEL
    given = Path(path).expanduser()
    return (given if given.exists() else shipped_folder(path) or given).resolve()


def load_verifier(path: str | Path | None = None) -> OnnxVerifier:
    """The verifier in model folder ``path``, or the shipped one of that folder name (a folder
    at ``path`` wins), or the default; loaded once per process.

    Loading checks every file's sha256 against the manifest; a broken folder raises
    :class:`guardkit.errors.ModelError` naming the file and the problem.
    """
    folder = model_folder(path)
    with _lock:
        found = _cache.get(folder)
        if found is None:
            found = OnnxVerifier(folder)
            _check_identity(found)
            _cache[folder] = found
        return found


def _check_identity(verifier: OnnxVerifier) -> None:
    """A sentence checked against itself must read *supported*: a manifest whose labels are
    not in the model's output order (an edited copy) would invert every score, and the hashes
    cannot see it, since the manifest is what they are checked against."""
    verdict = verifier.identity_verdict()
    if verdict != "supported":
        raise ModelError(
            f"the model calls a sentence checked against itself {verdict!r}: the manifest's "
            f"labels {verifier.manifest.labels} are not in its output order, or it is untrained",
            file=str(verifier.folder / "manifest.json"),
            hint="`guardkit models info` shows the folder; fix the labels or retrain",
        )


def verifier_identity(path: str | Path | None = None) -> str:
    """Name and manifest sha256 of the model folder ``path`` (default: the shipped one), and
    the runtime's :data:`READING` of pairs.

    The manifest pins the weights and tokenizer by hash and holds the calibration, so two
    folders with one identity, read alike, score alike: what a risk lock fitted on scores must
    match.
    """
    from guardkit._files import sha256_file
    from guardkit.verifier.manifest import MANIFEST_NAME, read_manifest

    folder = model_folder(path)
    name = read_manifest(folder).name
    return f"{name} sha256:{sha256_file(folder / MANIFEST_NAME)} reading:{READING}"
