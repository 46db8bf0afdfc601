"""The facts and vectors of the documents passed with calls, kept for the next call.

A RAG call's documents are cut into sentences (pysbd) and embedded on every call; the same
document often comes back (a policy page, an FAQ, an audit suite's shared context), and then
both costs repeat for the same result. Vectors do not depend on what else is embedded (the int8
embedder runs each text alone), so a document's facts and vectors are reused as they are, keyed
by its position and text. Least recently used documents go first once the kept facts pass
``_KEEP_FACTS`` (~30 MB of vectors); a document bigger than ``_KEEP_DOCUMENT`` is not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from guardkit.facts._embed import Embedder
from guardkit.facts._ingest import Document, FactRow, split_facts

__all__ = ["DocumentFacts"]

_KEEP_FACTS = 20_000
"""Facts kept over all documents."""
_KEEP_DOCUMENT = 2_000
"""A document of more sentences than this is embedded every time, not kept."""


class DocumentFacts:
    """Per embedder: ``(name, text)`` -> that document's facts and their vectors."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._kept: OrderedDict[tuple[str, str], tuple[list[FactRow], np.ndarray]] = OrderedDict()
        self._facts = 0
        self._lock = threading.Lock()

    def facts(self, name: str, text: str) -> tuple[list[FactRow], np.ndarray]:
        """The document's sentences as facts (id and source ``name``) and their vectors."""
        key = (name, text)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        rows = split_facts(Document(name, text, name))
        # a copy of its own, read-only: shared between calls, and the embedder's array is its own
        vectors = np.array(self.embedder.encode([r.text for r in rows]), dtype=np.float32)
        vectors.setflags(write=False)
        if len(rows) <= _KEEP_DOCUMENT:
            with self._lock:
                if key not in self._kept:
                    self._kept[key] = (rows, vectors)
                    self._facts += len(rows)
                while self._facts > _KEEP_FACTS:
                    _, (dropped, _) = self._kept.popitem(last=False)
                    self._facts -= len(dropped)
        return rows, vectors
