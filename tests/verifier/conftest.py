from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier, load_verifier


@pytest.fixture(scope="session")
def verifier() -> OnnxVerifier:
    return load_verifier()


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped model folder, free to break."""
    dst = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL, dst)
    return dst
