"""``FactIndex``: sentence-level facts from your sources, searchable by meaning, saved as a folder.

    index = FactIndex.build(["help-centre.jsonl", "returns.md"])
    index.search("How long do refunds take?", k=5)  # [Hit(fact_id, source, text, score), ...]
    index.save("indexes/help")  # index-*.faiss, facts-*.sqlite, manifest.json
    FactIndex.load("indexes/help")  # refuses an index built with another embedding model

One ``FactIndex`` may be searched from many threads; changes (``add``, ``delete``, ``save``) take
a lock. Other processes may read the folder while one saves: a save writes new files and swaps
the manifest last, and the previous generation stays on disk for readers still opening it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from guardkit.errors import ConfigError, FactIndexError
from guardkit.facts._embed import Embedder, default_embedder
from guardkit.facts._ingest import Document, check_new_id, read_sources, split_facts
from guardkit.facts._manifest import (
    MANIFEST,
    FileEntry,
    IndexManifest,
    atomic_write,
    read_manifest,
    sha256_file,
)
from guardkit.facts._store import FactStore
from guardkit.facts._vectors import IndexParams, VectorIndex, auto_kind

__all__ = ["FactIndex", "Hit", "IndexType"]

IndexType = Literal["auto", "flat", "hnsw"]
_EMBED_BATCH = 4096
_LOAD_RETRIES = 3


class Hit(BaseModel):
    """One fact found for a query, with its cosine similarity to the query."""

    model_config = ConfigDict(frozen=True)

    fact_id: str
    doc_id: str
    source: str
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    score: float = Field(ge=-1.0, le=1.0)
    metadata: dict[str, Any] = Field(default_factory=dict)


class FactIndex:
    """Facts, their embeddings and a FAISS index over them."""

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        index_type: IndexType = "auto",
        params: IndexParams | None = None,
    ) -> None:
        self.embedder: Embedder = embedder if embedder is not None else default_embedder()
        self.auto_index = index_type == "auto"
        base = params or IndexParams()
        kind = auto_kind(0) if index_type == "auto" else index_type
        self._vectors = VectorIndex(self.embedder.dim, base.model_copy(update={"kind": kind}))
        self._store = FactStore.memory()
        self._lock = threading.RLock()
        self._origin: tuple[Path, int] | None = None
        self._manifest: IndexManifest | None = None
        self._created = datetime.now(UTC)

    # ----- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        sources: Iterable[str | Path],
        *,
        embedder: Embedder | None = None,
        index_type: IndexType = "auto",
        params: IndexParams | None = None,
    ) -> FactIndex:
        """A new index of every document in ``sources`` (JSONL, CSV, Markdown, text files)."""
        index = cls(embedder=embedder, index_type=index_type, params=params)
        index.add_documents(read_sources(sources))
        return index

    def add(self, sources: Iterable[str | Path]) -> int:
        """Add the documents of ``sources``; returns the number of facts added."""
        with self._lock:
            known = self._store.doc_ids()
        return self.add_documents(read_sources(sources, known_ids=known))

    def add_documents(self, documents: Iterable[Document]) -> int:
        """Add documents (ids must be new); returns the number of facts added.

        Embedding, the slow part, runs without the lock: searches keep answering (from the
        facts already there) while an add is under way.
        """
        docs = list(documents)
        seen: dict[str, str] = {}
        for doc in docs:
            check_new_id(doc, seen)
        self._refuse_known(docs)
        rows = [row for doc in docs for row in split_facts(doc)]
        if not rows:
            raise FactIndexError("the documents hold no text to index")
        vectors = np.concatenate(
            [
                self.embedder.encode([r.text for r in rows[lo : lo + _EMBED_BATCH]])
                for lo in range(0, len(rows), _EMBED_BATCH)
            ]
        )
        with self._lock:
            self._refuse_known(docs)
            self._grow_to(len(self) + len(rows))
            self._vectors.add(vectors, self._store.insert(rows))
        return len(rows)

    def _refuse_known(self, docs: list[Document]) -> None:
        with self._lock:
            for doc in docs:
                if self._store.has_doc(doc.id):
                    raise FactIndexError(
                        f"document id {doc.id!r} is already in the index",
                        loc=("id",),
                        hint="delete it first to replace it",
                    )

    def _grow_to(self, n: int) -> None:
        """Switch the index kind when an auto index crosses the size threshold."""
        kind = auto_kind(n)
        if self.auto_index and kind != self._vectors.params.kind:
            params = self._vectors.params.model_copy(update={"kind": kind})
            self._vectors = self._vectors.rebuilt(self._store.live_vids(), params)

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove every fact of these documents; returns the number of facts removed."""
        with self._lock:
            ids = list(dict.fromkeys(doc_ids))
            unknown = [d for d in ids if not self._store.has_doc(d)]
            if unknown:
                shown = ", ".join(repr(d) for d in unknown[:5])
                raise ConfigError(f"no document with id {shown} in the index", loc=("id",))
            removed = self._store.delete_docs(ids)
            self._vectors.remove(removed)
            if self._vectors.needs_compaction():  # tombstones make every search fetch more
                self._vectors = self._vectors.rebuilt(self._store.live_vids(), self.index_params)
            return len(removed)

    # ----- searching --------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._store.count()

    @property
    def index_params(self) -> IndexParams:
        """The FAISS index kind and settings in use."""
        return self._vectors.params

    def search(self, text: str, k: int = 5) -> list[Hit]:
        """The ``k`` facts nearest in meaning to ``text``, best first."""
        return self.search_many([text], k)[0]

    def search_many(self, texts: Sequence[str], k: int = 5) -> list[list[Hit]]:
        """``search`` for several texts with one embedding batch."""
        return self.search_vectors(self.embedder.encode(texts), k)

    def search_vectors(self, vectors: np.ndarray, k: int = 5) -> list[list[Hit]]:
        """Hits for already-embedded queries (unit vectors from this index's embedder)."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}", loc=("k",))
        with self._lock:
            scores, ids = self._vectors.search(vectors, k)
            rows = self._store.fetch(sorted({int(i) for i in ids.ravel() if i >= 0}))
        out = []
        for q_scores, q_ids in zip(scores, ids, strict=True):
            hits = [
                _hit(rows[int(i)], float(s))
                for s, i in zip(q_scores, q_ids, strict=True)
                if int(i) in rows
            ]
            out.append(hits[:k])
        return out

    # ----- saving and loading -----------------------------------------------------------------

    @property
    def manifest(self) -> IndexManifest | None:
        """The manifest of the folder this index was last loaded from or saved to."""
        return self._manifest

    def save(self, folder: str | Path) -> IndexManifest:
        """Write the index to ``folder`` atomically; refuses to overwrite anything else."""
        folder = Path(folder)
        if folder.is_dir() and not (folder / MANIFEST).is_file():
            self._check_target(folder, None)
        with self._lock, _folder_lock(folder):
            current = read_manifest(folder) if (folder / MANIFEST).is_file() else None
            self._check_target(folder, current)
            gen = current.generation + 1 if current else 1
            files = {
                "index": _write_file(folder, f"index-{gen:06d}.faiss", self._vectors.write),
                "facts": _write_file(folder, f"facts-{gen:06d}.sqlite", self._store.write),
            }
            manifest = self._make_manifest(gen, files, current)
            atomic_write(folder / MANIFEST, manifest.model_dump_json(indent=2).encode() + b"\n")
            _remove_old_generations(folder, keep={gen, gen - 1})
            self._origin, self._manifest = (folder.resolve(), gen), manifest
            return manifest

    def _check_target(self, folder: Path, current: IndexManifest | None) -> None:
        if current is None:
            stray = [p.name for p in folder.iterdir() if p.name != ".lock"]
            if stray:
                raise FactIndexError(
                    f"folder is not empty and holds no fact index ({stray[0]!r}); nothing written",
                    file=str(folder),
                )
            return
        if self._origin != (folder.resolve(), current.generation):
            raise FactIndexError(
                "folder holds another index, or it changed since this one was loaded; "
                "nothing written",
                file=str(folder / MANIFEST),
                hint="load the folder and add to it, or save to a new folder",
            )

    def _make_manifest(
        self, gen: int, files: dict[str, FileEntry], current: IndexManifest | None
    ) -> IndexManifest:
        now = datetime.now(UTC)
        return IndexManifest(
            embedding_model=self.embedder.model_id,
            embedding_sha256=self.embedder.sha256,
            embedding_dim=self.embedder.dim,
            index=self.index_params,
            auto_index=self.auto_index,
            fact_count=len(self),
            document_count=self._store.doc_count(),
            vector_count=self._vectors.ntotal,
            content_sha256=self._store.content_sha256(),
            created_at=current.created_at if current else self._created,
            updated_at=now,
            generation=gen,
            files=files,
        )

    @classmethod
    def load(cls, folder: str | Path, *, embedder: Embedder | None = None) -> FactIndex:
        """Open a saved index, checking the manifest, the embedding model and every file hash."""
        folder = Path(folder)
        embedder = embedder if embedder is not None else default_embedder()
        for _ in range(_LOAD_RETRIES):
            manifest = read_manifest(folder)
            try:
                return cls._open(folder, manifest, embedder)
            except FileNotFoundError as exc:  # a concurrent save retired this generation
                if read_manifest(folder).generation == manifest.generation:
                    raise FactIndexError("missing index file", file=str(exc.filename)) from None
        raise FactIndexError("the index kept changing while it was loaded", file=str(folder))

    @classmethod
    def _open(cls, folder: Path, manifest: IndexManifest, embedder: Embedder) -> FactIndex:
        _check_embedder(folder, manifest, embedder)
        data = {key: _checked_bytes(folder, manifest, key) for key in ("index", "facts")}
        index = cls(embedder=embedder, params=manifest.index)
        index.auto_index = manifest.auto_index
        index._created = manifest.created_at
        tombstones = manifest.vector_count - manifest.fact_count
        index._vectors = VectorIndex.from_bytes(
            data["index"],
            folder / manifest.files["index"].name,
            embedder.dim,
            manifest.index,
            tombstones,
        )
        index._store = FactStore.from_bytes(data["facts"], folder / manifest.files["facts"].name)
        for what, expected, actual in (
            ("facts", manifest.fact_count, len(index)),
            ("vectors", manifest.vector_count, index._vectors.ntotal),
        ):
            if expected != actual:
                raise FactIndexError(
                    f"manifest says {expected} {what}, the files hold {actual}",
                    file=str(folder / MANIFEST),
                    loc=(f"{what.rstrip('s')}_count",),
                )
        index._origin, index._manifest = (folder.resolve(), manifest.generation), manifest
        return index


def _hit(row: dict[str, Any], score: float) -> Hit:
    return Hit(
        fact_id=row["fact_id"],
        doc_id=row["doc_id"],
        source=row["source"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
        score=min(1.0, max(-1.0, score)),
        metadata=row["metadata"],
    )


def _check_embedder(folder: Path, manifest: IndexManifest, embedder: Embedder) -> None:
    if (manifest.embedding_model, manifest.embedding_sha256) != (
        embedder.model_id,
        embedder.sha256,
    ):
        raise FactIndexError(
            f"index was built with embedding model {manifest.embedding_model!r} "
            f"(sha256 {manifest.embedding_sha256[:12]}...), this process embeds with "
            f"{embedder.model_id!r} (sha256 {embedder.sha256[:12]}...)",
            file=str(folder / MANIFEST),
            loc=("embedding_sha256",),
            hint="rebuild the index with `guardkit index build`",
        )


def _checked_bytes(folder: Path, manifest: IndexManifest, key: str) -> bytes:
    """The file's bytes, read once and hashed: what is checked is exactly what is loaded."""
    entry = manifest.files.get(key)
    if entry is None:
        raise FactIndexError(
            f"manifest lists no {key} file", file=str(folder / MANIFEST), loc=("files", key)
        )
    path = folder / entry.name
    data = path.read_bytes()  # FileNotFoundError: retried by ``load`` if a save retired it
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        raise FactIndexError(
            f"sha256 mismatch: manifest says {entry.sha256[:12]}..., file has {actual[:12]}...",
            file=str(path),
            hint="the file was changed or corrupted; rebuild the index",
        )
    return data


def _write_file(folder: Path, name: str, writer: Any) -> FileEntry:
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    writer(tmp)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    path = folder / name
    tmp.replace(path)
    return FileEntry(name=name, sha256=sha256_file(path), bytes=path.stat().st_size)


def _remove_old_generations(folder: Path, keep: set[int]) -> None:
    for path in folder.glob("*-[0-9][0-9][0-9][0-9][0-9][0-9].*"):
        stem = path.stem.rpartition("-")[2]
        if stem.isdigit() and int(stem) not in keep:
            path.unlink(missing_ok=True)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One writer per folder across processes (readers never take it)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
