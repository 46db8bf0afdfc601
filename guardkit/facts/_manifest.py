"""``manifest.json`` of a fact index folder: what built it, what it holds, and its files' hashes.

Every save writes a new generation of files (``index-<n>.faiss``, ``facts-<n>.sqlite``) and then
replaces the manifest in one rename, so a reader sees either the old index or the new one, never a
mix. The manifest pins each file by sha256: an edited, truncated or swapped file fails to load.

Format 2 added ``search_mode`` and the BM25 table in the facts file. A format 1 folder loads as
hybrid: its BM25 table is built in memory on load, and the next save writes format 2. A hybrid or
lexical index also saves its BM25 postings (``words-<n>.bin``); a folder without that file (saved
in dense mode, or before the file existed) reads them from the BM25 table when first needed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from guardkit._files import sha256_file
from guardkit.errors import FactIndexError
from guardkit.facts._lexical import SearchMode
from guardkit.facts._vectors import IndexParams

__all__ = [
    "MANIFEST",
    "FileEntry",
    "IndexManifest",
    "atomic_write",
    "checked_bytes",
    "discard_generation",
    "folder_lock",
    "read_manifest",
    "remove_old_generations",
    "write_file",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 3
"""2: BM25 postings saved (hybrid search); 3: HNSW query effort by size unless pinned."""


class FileEntry(BaseModel):
    """One data file of a generation, pinned by its hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class IndexManifest(BaseModel):
    """Everything needed to trust (or refuse) an index folder before reading its data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = Field(FORMAT_VERSION, ge=1, le=FORMAT_VERSION, strict=True)
    embedding_model: str = Field(min_length=1)
    embedding_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    embedding_dim: int = Field(ge=1)
    carried_embedder_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    """sha256 of ``embedder/manifest.json`` when the index carries an embedder guardkit does not
    ship; that manifest in turn pins the embedder's files."""
    index: IndexParams
    auto_index: bool
    """Whether the index kind follows the fact count (flat below the threshold, HNSW above)."""
    search_mode: SearchMode = "hybrid"
    """What ``search`` ranks by unless told otherwise: BM25 fused with FAISS, or either alone."""
    fact_count: int = Field(ge=0)
    document_count: int = Field(ge=0)
    vector_count: int = Field(ge=0)
    """Vectors in the FAISS file: facts plus HNSW tombstones of deleted facts."""
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    updated_at: datetime
    generation: int = Field(ge=1)
    files: dict[str, FileEntry]

    @model_validator(mode="before")
    @classmethod
    def _effort_by_size_before_format_3(cls, data: Any) -> Any:
        """Manifests before format 3 all name efSearch 512, the fixed default then, not a
        user's choice: such an index takes the effort by size, as a new one does."""
        if not isinstance(data, dict):
            return data
        version, index = data.get("format_version"), data.get("index")
        old = type(version) is int and version < 3  # anything else fails validation
        if old and isinstance(index, dict) and index.get("ef_search") == 512:
            return {**data, "index": {**index, "ef_search": None}}
        return data


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


def checked_bytes(folder: Path, manifest: IndexManifest, key: str) -> bytes:
    """The file's bytes, read once and hashed: what is checked is exactly what is loaded."""
    entry = manifest.files.get(key)
    if entry is None:
        raise FactIndexError(
            f"manifest lists no {key} file", file=str(folder / MANIFEST), loc=("files", key)
        )
    path = folder / entry.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise  # retried by ``load``: a concurrent save may have retired this generation
    except OSError as exc:
        raise FactIndexError(f"cannot read the {key} file: {exc.strerror}", file=str(path)) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        raise FactIndexError(
            f"sha256 mismatch: manifest says {entry.sha256[:12]}..., file has {actual[:12]}...",
            file=str(path),
            hint="the file was changed or corrupted; rebuild the index",
        )
    return data


def write_file(folder: Path, name: str, writer: Any) -> FileEntry:
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    writer(tmp)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    path = folder / name
    tmp.replace(path)
    return FileEntry(name=name, sha256=sha256_file(path), bytes=path.stat().st_size)


def discard_generation(folder: Path, gen: int) -> None:
    """Remove what a failed save of generation ``gen`` wrote (its files and this process's
    temporary files), so the folder holds only what it held before."""
    for path in [*folder.glob(f"*-{gen:06d}.*"), *folder.glob(f".*.tmp-{os.getpid()}")]:
        path.unlink(missing_ok=True)


def remove_old_generations(folder: Path, keep: set[int]) -> None:
    for path in folder.glob("*-[0-9][0-9][0-9][0-9][0-9][0-9].*"):
        stem = path.stem.rpartition("-")[2]
        if stem.isdigit() and int(stem) not in keep:
            path.unlink(missing_ok=True)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """One writer per folder across processes (readers never take it)."""
    if folder.exists() and not folder.is_dir():
        raise FactIndexError("the index path is a file, not a folder", file=str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = (folder / ".lock").open("a")
    except OSError as exc:
        raise FactIndexError(f"cannot write the index: {exc.strerror}", file=str(folder)) from exc
    with lock as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
