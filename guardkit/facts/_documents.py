"""The facts and vectors of the documents passed with calls, kept for the next call.

A RAG call's documents are cut into sentences (pysbd) and embedded on every call; the same
document often comes back (a policy page, an FAQ, an audit suite's shared context), and then
both costs repeat for the same result. Vectors do not depend on what else is embedded (the int8
embedder runs each text alone), so a document's facts and vectors are reused as they are, keyed
by its position and text. Least recently used documents go first; huge ones are not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from guardkit.facts._embed import Embedder
from guardkit.facts._ingest import Document, FactRow, split_facts

__all__ = ["DocumentFacts"]

_KEEP_DOCUMENTS = 256
_KEEP_FACTS = 2_000
"""A document of more sentences than this is embedded every time, not kept."""


class DocumentFacts:
    """Per embedder: ``(name, text)`` -> that document's facts and their vectors."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._kept: OrderedDict[tuple[str, str], tuple[list[FactRow], np.ndarray]] = OrderedDict()
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
        vectors = self.embedder.encode([r.text for r in rows])
        vectors.setflags(write=False)  # shared between calls: nobody may change it
        if len(rows) <= _KEEP_FACTS:
            with self._lock:
                self._kept[key] = (rows, vectors)
                while len(self._kept) > _KEEP_DOCUMENTS:
                    self._kept.popitem(last=False)
        return rows, vectors
