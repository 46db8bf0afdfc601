"""``manifest.json`` of a fact index folder: what built it, what it holds, and its files' hashes.

Every save writes a new generation of files (``index-<n>.faiss``, ``facts-<n>.sqlite``) and then
replaces the manifest in one rename, so a reader sees either the old index or the new one, never a
mix. The manifest pins each file by sha256: an edited, truncated or swapped file fails to load.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardkit.errors import FactIndexError
from guardkit.facts._vectors import IndexParams

__all__ = ["MANIFEST", "FileEntry", "IndexManifest", "atomic_write", "read_manifest", "sha256_file"]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class FileEntry(BaseModel):
    """One data file of a generation, pinned by its hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class IndexManifest(BaseModel):
    """Everything needed to trust (or refuse) an index folder before reading its data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = Field(FORMAT_VERSION, ge=1, le=FORMAT_VERSION)
    embedding_model: str = Field(min_length=1)
    embedding_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    embedding_dim: int = Field(ge=1)
    index: IndexParams
    auto_index: bool
    """Whether the index kind follows the fact count (flat below the threshold, HNSW above)."""
    fact_count: int = Field(ge=0)
    document_count: int = Field(ge=0)
    vector_count: int = Field(ge=0)
    """Vectors in the FAISS file: facts plus HNSW tombstones of deleted facts."""
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    updated_at: datetime
    generation: int = Field(ge=1)
    files: dict[str, FileEntry]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, rename it over."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def read_manifest(folder: Path) -> IndexManifest:
    """The folder's manifest, or a ``FactIndexError`` naming what is wrong with it."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise FactIndexError("index folder does not exist", file=str(folder))
    if not path.is_file():
        raise FactIndexError("missing manifest.json: not a fact index folder", file=str(path))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        raise FactIndexError(
            f"manifest is not valid JSON: {exc}", file=str(path), line=line
        ) from None
    try:
        return IndexManifest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise FactIndexError(
            f"invalid manifest: {err['msg']}", file=str(path), loc=err["loc"]
        ) from None
