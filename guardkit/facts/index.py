"""``FactIndex``: sentence-level facts from your sources, searchable by meaning and by words.

    index = FactIndex.build(["help-centre.jsonl", "returns.md"])
    index.search("How long do refunds take?", k=5)  # [Hit(fact_id, source, text, score), ...]
    index.search("RMA-2041", k=5, mode="lexical")  # "hybrid" (default), "dense" or "lexical"
    index.save("indexes/help")  # index-*.faiss, facts-*.sqlite, words-*.bin, manifest.json
    FactIndex.load("indexes/help")  # refuses an index built with another embedding model

One ``FactIndex`` may be searched from many threads; changes (``add``, ``delete``, ``save``) take
a lock. Other processes may read the folder while one saves: a save writes new files and swaps
the manifest last, and the previous generation stays on disk for readers still opening it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from guardkit._files import sha256_file
from guardkit._threads import one_thread_if_small
from guardkit.errors import ConfigError, FactIndexError, UnknownNameError
from guardkit.facts._embed import (
    CARRIED,
    Embedder,
    carried_embedder,
    carried_folder,
    default_embedder,
    embedder_for,
)
from guardkit.facts._embed_onnx import read_embedder_manifest
from guardkit.facts._ingest import Document, check_new_id, read_sources, split_facts
from guardkit.facts._lexical import FUSION_DEPTH, SearchMode, fuse
from guardkit.facts._manifest import (
    MANIFEST,
    FileEntry,
    IndexManifest,
    atomic_write,
    checked_bytes,
    discard_generation,
    folder_lock,
    read_manifest,
    remove_old_generations,
    write_file,
)
from guardkit.facts._sources import SourceCentroids
from guardkit.facts._store import FactStore
from guardkit.facts._vectors import IndexParams, VectorIndex, auto_kind

__all__ = ["FactIndex", "Hit", "IndexType"]

IndexType = Literal["auto", "flat", "hnsw"]
_EMBED_BATCH = 4096
_LOAD_RETRIES = 3


class Hit(BaseModel):
    """One fact found for a query, with its cosine similarity to the query.

    ``score`` is the cosine whichever ranking found the fact, so a floor on it means the same
    in every search mode; hits come in ranking order, which in hybrid search is not score order.
    """

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
        search_mode: SearchMode = "hybrid",
    ) -> None:
        self.embedder: Embedder = embedder if embedder is not None else default_embedder()
        self.search_mode: SearchMode = _checked_mode(search_mode)
        """How ``search`` ranks unless told otherwise; saved in the manifest."""
        self.auto_index = index_type == "auto"
        base = params or IndexParams()
        kind = auto_kind(0) if index_type == "auto" else index_type
        self._vectors = VectorIndex(self.embedder.dim, base.model_copy(update={"kind": kind}))
        self._store = FactStore.memory()
        self._centroids = SourceCentroids.empty(self.embedder.dim)
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
        search_mode: SearchMode = "hybrid",
    ) -> FactIndex:
        """A new index of every document in ``sources`` (JSONL, CSV, Markdown, text files)."""
        index = cls(
            embedder=embedder, index_type=index_type, params=params, search_mode=search_mode
        )
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
        # Sources repeat sentences (boilerplate, shared abstracts): each text is embedded once.
        distinct = list(dict.fromkeys(r.text for r in rows))
        embedded = np.concatenate(
            [
                self.embedder.encode(distinct[lo : lo + _EMBED_BATCH])
                for lo in range(0, len(distinct), _EMBED_BATCH)
            ]
        )
        position = {text: i for i, text in enumerate(distinct)}
        vectors = embedded[[position[r.text] for r in rows]]
        with self._lock:
            self._refuse_known(docs)
            self._grow_to(len(self) + len(rows))
            sources = [r.source for r in rows]
            grows_known_source = self._store.has_any_source(sources)
            self._vectors.add(vectors, self._store.insert(rows))
            if grows_known_source:
                self._update_centroids()
            else:
                self._centroids = self._centroids.extended(sources, vectors)
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
            self._update_centroids()
            return len(removed)

    def _update_centroids(self) -> None:
        """Source centroids derived again from the stored facts (after loads and changes)."""
        with self._lock:
            ids, vectors = self._vectors.stored()
            names, numbers = self._store.source_numbers(ids)
            self._centroids = SourceCentroids.summed(names, numbers, vectors)

    # ----- searching --------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._store.count()

    def holds_any(self, names: Iterable[str]) -> bool:
        """Whether any fact comes from a document or source named in ``names``."""
        with self._lock:
            return bool(self._store.vids_of(names))

    @property
    def index_params(self) -> IndexParams:
        """The FAISS index kind and settings in use."""
        return self._vectors.params

    def search(self, text: str, k: int = 5, *, mode: SearchMode | None = None) -> list[Hit]:
        """The ``k`` facts that best match ``text``, best first (see ``search_many``)."""
        return self.search_many([text], k, mode=mode)[0]

    def search_many(
        self,
        texts: Sequence[str],
        k: int = 5,
        *,
        mode: SearchMode | None = None,
        vectors: np.ndarray | None = None,
        within: Sequence[Collection[str] | None] | None = None,
    ) -> list[list[Hit]]:
        """The ``k`` best facts for each text, ranked as ``mode`` says (default ``search_mode``).

        ``hybrid`` fuses the FAISS ranking (meaning) with the BM25 ranking (words) by reciprocal
        rank and lifts facts whose source matches as a whole; ``dense`` and ``lexical`` use one
        ranking alone. Copies of one text (the same sentence in several sources) take one place,
        the best-ranked copy's: five copies of one sentence are one piece of evidence, not five.
        ``vectors``: the texts already embedded by this index's embedder, to skip embedding them
        again. ``within``: per text, the documents or sources (ids or source names) its facts
        must come from (``None`` or empty: any), as for a claim that cites them; these few facts
        are ranked exactly, not by HNSW.
        """
        with one_thread_if_small(len(texts)):
            return self._search_many(texts, k, mode, vectors, within)

    def _search_many(
        self,
        texts: Sequence[str],
        k: int,
        mode: SearchMode | None,
        vectors: np.ndarray | None,
        within: Sequence[Collection[str] | None] | None,
    ) -> list[list[Hit]]:
        rankers = _MODES[_checked_mode(mode or self.search_mode)]
        if vectors is None:
            vectors = self.embedder.encode(texts)
        if len(vectors) != len(texts):
            raise ConfigError(f"{len(texts)} texts but {len(vectors)} vectors", loc=("vectors",))
        if within is None:
            return self._ranked(texts, vectors, k, rankers)
        if len(within) != len(texts):
            raise ConfigError(f"{len(texts)} texts but {len(within)} source sets", loc=("within",))
        for q, sources in enumerate(within):
            if isinstance(sources, str):
                raise ConfigError(
                    f"within[{q}] must be a collection of names, not the string {sources!r}",
                    loc=("within", q),
                )
        within = [sources or None for sources in within]  # naming nothing: no restriction
        anywhere = [q for q, sources in enumerate(within) if sources is None]
        hits = (
            self._ranked([texts[q] for q in anywhere], vectors[anywhere], k, rankers)
            if anywhere
            else []
        )
        found = dict(zip(anywhere, hits, strict=True))
        return [
            found[q] if sources is None else self._within(texts[q], vectors[q], sources, k, rankers)
            for q, sources in enumerate(within)
        ]

    def search_vectors(self, vectors: np.ndarray, k: int = 5) -> list[list[Hit]]:
        """The ``k`` facts nearest in meaning to already-embedded queries (dense search only)."""
        return self._ranked((), vectors, k, _MODES["dense"])

    def _ranked(
        self, texts: Sequence[str], vectors: np.ndarray, k: int, rankers: tuple[_Ranker, ...]
    ) -> list[list[Hit]]:
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}", loc=("k",))
        if rankers == _MODES["dense"]:
            return self._nearest(vectors, k)
        depth = max(k, FUSION_DEPTH)  # deep enough that k distinct texts remain after collapse
        with self._lock:
            found = [ranker(self, texts, vectors, depth) for ranker in rankers]
            sources = self._store.sources({v for per in found for ids in per for v in ids})
            fused = len(rankers) > 1
            # hybrid is the only fused mode, and its first ranking is the dense one
            whole = self._rank_sources(found[0], vectors, sources, depth) if fused else None
            ranked = [
                fuse(
                    [[v for v in per[q] if v in sources] for per in found],
                    len(sources),
                    groups=sources if fused else None,
                    source_ranking=whole[q] if whole else (),
                )
                for q in range(len(vectors))
            ]
            best = [self._distinct(ids, k) for ids in ranked]
            rows = self._store.fetch(sorted({v for ids in best for v in ids}))
            scores = [
                self._vectors.vectors(ids) @ query for ids, query in zip(best, vectors, strict=True)
            ]
        return [
            [_hit(rows[v], float(s)) for v, s in zip(ids, q_scores, strict=True)]
            for ids, q_scores in zip(best, scores, strict=True)
        ]

    def _within(
        self,
        text: str,
        vector: np.ndarray,
        sources: Collection[str],
        k: int,
        rankers: tuple[_Ranker, ...],
    ) -> list[Hit]:
        """The ``k`` best facts of the documents or sources named in ``sources`` alone: every
        one of them scored, none missed."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}", loc=("k",))
        with self._lock:
            vids = self._store.vids_of(sources)
            cosines = self._vectors.vectors(vids) @ vector
            rankings = [
                self._store.lexical(text, len(vids), among=vids)
                if ranker is _lexical_ranking
                else [vids[i] for i in np.argsort(-cosines, kind="stable")]
                for ranker in rankers
            ]
            groups = self._store.sources(vids) if len(rankers) > 1 else None
            best = self._distinct(fuse(rankings, len(vids), groups=groups), k)
            rows = self._store.fetch(best)
        score = dict(zip(vids, cosines.tolist(), strict=True))
        return [_hit(rows[v], score[v]) for v in best]

    def _rank_sources(
        self, dense: list[list[int]], vectors: np.ndarray, sources: dict[int, str], n: int
    ) -> list[list[str]]:
        """Per query, sources ranked as a whole: by centroid, or a one-fact source by its fact.

        A source of one fact has no centroid (it would be that fact's vector); the dense ranking
        ``dense`` holds the ones that matter, and they compete on the same cosine.
        """
        out = []
        for ids, query, nearest in zip(
            dense, vectors, self._centroids.nearest(vectors, n), strict=True
        ):
            alone = [v for v in ids if v in sources and sources[v] not in self._centroids]
            cosines = (self._vectors.vectors(alone) @ query).tolist()
            ranked = nearest + [(sources[v], s) for v, s in zip(alone, cosines, strict=True)]
            ranked.sort(key=lambda pair: -pair[1])
            out.append([source for source, _ in ranked[:n]])
        return out

    def _nearest(self, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        """Dense search alone: FAISS's own scores, the first ``k`` live facts of distinct text.

        Copies of one text take one place. FAISS is asked for ``8k`` (HNSW costs the same for
        10 or 80 at its search depth), copies are told apart by their in-memory text keys, and
        only the ``k`` kept are read from SQLite; a query whose nearest facts are still mostly
        copies asks again, deeper.
        """
        with self._lock:
            found = self._nearest_distinct(vectors, k, 8 * k)
            for q, picked in enumerate(found):
                depth = 8 * k
                while len(picked) < k and depth < len(self):
                    depth *= 4
                    picked = self._nearest_distinct(vectors[q : q + 1], k, depth)[0]
                found[q] = picked
            rows = self._store.fetch(sorted({v for picked in found for v, _ in picked}))
        return [[_hit(rows[v], s) for v, s in picked] for picked in found]

    def _nearest_distinct(
        self, vectors: np.ndarray, k: int, depth: int
    ) -> list[list[tuple[int, float]]]:
        """Per query, up to ``k`` (vector id, score) of live facts whose texts differ."""
        scores, ids = self._vectors.search(vectors, depth)
        out = []
        for row_ids, row_scores in zip(ids.tolist(), scores.tolist(), strict=True):
            found = dict(zip(row_ids, row_scores, strict=True))
            out.append([(v, found[v]) for v in self._distinct(row_ids, k)])
        return out

    def _distinct(self, vids: Sequence[int], k: int) -> list[int]:
        """The first ``k`` live ids whose texts have not come before (copies count once)."""
        seen: set[int] = set()
        out: list[int] = []
        for vid, key in zip(vids, self._store.text_keys(vids), strict=True):
            if key and key not in seen:
                seen.add(key)
                out.append(vid)
                if len(out) == k:
                    break
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
        with self._lock, folder_lock(folder):
            current = read_manifest(folder) if (folder / MANIFEST).is_file() else None
            self._check_target(folder, current)
            gen = current.generation + 1 if current else 1
            try:
                manifest = self._write_generation(folder, gen, current)
            except (OSError, sqlite3.Error, RuntimeError) as exc:  # faiss: RuntimeError
                discard_generation(folder, gen)
                if current is None:  # a new index: leave no folder that blocks the next build
                    shutil.rmtree(folder / CARRIED, ignore_errors=True)
                    (folder / ".lock").unlink(missing_ok=True)
                reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
                raise FactIndexError(
                    f"cannot save the index: {reason}; nothing changed", file=str(folder)
                ) from exc
            remove_old_generations(folder, keep={gen, gen - 1})
            self._origin, self._manifest = (folder.resolve(), gen), manifest
            return manifest

    def _write_generation(
        self, folder: Path, gen: int, current: IndexManifest | None
    ) -> IndexManifest:
        """Write generation ``gen``'s files, then the manifest that makes them the index."""
        carried = self._carry_embedder(folder)
        files = {
            "index": write_file(folder, f"index-{gen:06d}.faiss", self._vectors.write),
            "facts": write_file(folder, f"facts-{gen:06d}.sqlite", self._store.write),
        }
        if self.search_mode != "dense":  # BM25 postings: word searches start at once
            files["words"] = write_file(folder, f"words-{gen:06d}.bin", self._store.write_words)
        manifest = self._make_manifest(gen, files, current, carried)
        atomic_write(folder / MANIFEST, manifest.model_dump_json(indent=2).encode() + b"\n")
        return manifest

    def _carry_embedder(self, folder: Path) -> str | None:
        """Copy a non-bundled embedder into the index, so that the CLI, policies and other
        machines reopen the index with it; the sha256 of its manifest (which pins its files)."""
        source = carried_folder(self.embedder)
        target = folder / CARRIED
        if source is None:
            return None
        if source.resolve() != target.resolve():
            self._copy_embedder(source, target)
        return sha256_file(target / "manifest.json")

    @staticmethod
    def _copy_embedder(source: Path, target: Path) -> None:
        """The embedder's manifest and every file it pins, staged, then renamed into place."""
        manifest = source / "manifest.json"
        if (target / "manifest.json").is_file() and sha256_file(
            target / "manifest.json"
        ) == sha256_file(manifest):
            return  # carried already (saved here before)
        staging = target.parent / f".{CARRIED}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir()
            for name in ["manifest.json", *read_embedder_manifest(source).files]:
                shutil.copyfile(source / name, staging / name)
            shutil.rmtree(target, ignore_errors=True)
            staging.replace(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

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
        self,
        gen: int,
        files: dict[str, FileEntry],
        current: IndexManifest | None,
        carried: str | None,
    ) -> IndexManifest:
        now = datetime.now(UTC)
        return IndexManifest(
            embedding_model=self.embedder.model_id,
            embedding_sha256=self.embedder.sha256,
            embedding_dim=self.embedder.dim,
            carried_embedder_sha256=carried,
            index=self.index_params,
            auto_index=self.auto_index,
            search_mode=self.search_mode,
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
        for _ in range(_LOAD_RETRIES):
            manifest = read_manifest(folder)
            try:
                return cls._open(folder, manifest, embedder or _embedder_of(folder, manifest))
            except FileNotFoundError as exc:  # a concurrent save retired this generation
                if read_manifest(folder).generation == manifest.generation:
                    raise FactIndexError("missing index file", file=str(exc.filename)) from None
        raise FactIndexError("the index kept changing while it was loaded", file=str(folder))

    @classmethod
    def _open(cls, folder: Path, manifest: IndexManifest, embedder: Embedder) -> FactIndex:
        _check_embedder(folder, manifest, embedder)
        data = {key: checked_bytes(folder, manifest, key) for key in ("index", "facts")}
        index = cls(embedder=embedder, params=manifest.index, search_mode=manifest.search_mode)
        index.auto_index = manifest.auto_index
        index._created = manifest.created_at
        tombstones = manifest.vector_count - manifest.fact_count
        try:
            index._vectors = VectorIndex.from_bytes(
                data["index"],
                folder / manifest.files["index"].name,
                embedder.dim,
                manifest.index,
                tombstones,
            )
        except (AttributeError, RuntimeError, ValueError) as exc:  # faiss: an unexpected kind
            raise FactIndexError(
                f"the FAISS file does not match the manifest's index settings "
                f"({manifest.index.kind}): {str(exc).splitlines()[0]}",
                file=str(folder / manifest.files["index"].name),
            ) from exc
        index._store = FactStore.from_bytes(data["facts"], folder / manifest.files["facts"].name)
        if "words" in manifest.files:
            words = manifest.files["words"]
            index._store.load_words(checked_bytes(folder, manifest, "words"), folder / words.name)
        index._update_centroids()
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


_Ranker = Callable[[FactIndex, Sequence[str], np.ndarray, int], list[list[int]]]


def _dense_ranking(
    index: FactIndex, texts: Sequence[str], vectors: np.ndarray, n: int
) -> list[list[int]]:
    _, ids = index._vectors.search(vectors, n)  # n plus tombstones, so n live ones remain
    return [[int(i) for i in row if i >= 0] for row in ids]


def _lexical_ranking(
    index: FactIndex, texts: Sequence[str], vectors: np.ndarray, n: int
) -> list[list[int]]:
    return [index._store.lexical(text, n) for text in texts]


_MODES: dict[str, tuple[_Ranker, ...]] = {
    "hybrid": (_dense_ranking, _lexical_ranking),
    "dense": (_dense_ranking,),
    "lexical": (_lexical_ranking,),
}


def _checked_mode(mode: str) -> SearchMode:
    if mode not in _MODES:
        raise UnknownNameError("search mode", mode, _MODES, loc=("mode",))
    return cast(SearchMode, mode)


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


def check_index_folder(folder: Path) -> IndexManifest:
    """The folder's manifest, and the embedder it carries checked against it, without loading
    anything (what a policy check can afford); ``FactIndexError`` naming what is wrong."""
    manifest = read_manifest(folder)
    _embedder_of(folder, manifest)
    return manifest


def _embedder_of(folder: Path, manifest: IndexManifest) -> Embedder:
    """The embedder the index carries (checked against its manifest), or the shipped one it
    names."""
    if manifest.carried_embedder_sha256 is None:
        return embedder_for(manifest.embedding_model)
    path = folder / CARRIED / "manifest.json"
    if not path.is_file():
        raise FactIndexError(
            "the index carries its embedder, but embedder/manifest.json is missing",
            file=str(path),
            hint="copy the whole index folder, embedder/ included",
        )
    actual = sha256_file(path)
    if actual != manifest.carried_embedder_sha256:
        raise FactIndexError(
            f"sha256 mismatch: the index manifest says {manifest.carried_embedder_sha256[:12]}..., "
            f"the file has {actual[:12]}...",
            file=str(path),
            hint="the carried embedder was changed; rebuild the index",
        )
    return carried_embedder(folder / CARRIED, actual)


def _check_embedder(folder: Path, manifest: IndexManifest, embedder: Embedder) -> None:
    if (manifest.embedding_model, manifest.embedding_sha256) != (
        embedder.model_id,
        embedder.sha256,
    ):
        same_weights = manifest.embedding_sha256 == embedder.sha256
        raise FactIndexError(
            f"index was built with embedding model {manifest.embedding_model!r} "
            f"(sha256 {manifest.embedding_sha256[:12]}...), this process embeds with "
            f"{embedder.model_id!r} (sha256 {embedder.sha256[:12]}...)"
            + (": the same weights under another name" if same_weights else ""),
            file=str(folder / MANIFEST),
            loc=("embedding_model",) if same_weights else ("embedding_sha256",),
            hint="open it with the embedder it was built with (FactIndex.load(folder, "
            "embedder=OnnxEmbedder(DIR))), or rebuild it with `guardkit index build "
            "--embedder`",
        )
    if manifest.embedding_dim != embedder.dim:
        raise FactIndexError(
            f"manifest says embedding_dim {manifest.embedding_dim}, the embedding model "
            f"{embedder.model_id!r} gives {embedder.dim}",
            file=str(folder / MANIFEST),
            loc=("embedding_dim",),
        )
