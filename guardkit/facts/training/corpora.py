"""Unlabelled texts for distillation, from the training splits of ``../shared/data`` only.

CitInt: the train claims and the abstracts that no dev or test claim names (so dev and test
retrieval stay out of sample). HaluEval: the rows whose line number ``i`` has ``i % 5 != 0``
(its test rows are ``i % 5 == 0``), cut into sentences the way the index cuts documents:
Wikipedia knowledge, questions, answers and dialogue turns, news documents and summaries.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from guardkit.errors import ConfigError
from guardkit.facts._segment import sentence_spans
from guardkit.facts.training.citint import strip_citation_markers

__all__ = ["distillation_texts"]

_HALUEVAL_FIELDS = {
    "qa": ("knowledge", "question", "right_answer", "hallucinated_answer"),
    "dialogue": ("knowledge", "right_response", "hallucinated_response"),
    "summarization": ("document", "right_summary", "hallucinated_summary"),
}


def distillation_texts(data: Path, per_source: int, seed: int = 0) -> tuple[list[str], str]:
    """Distinct sentences, at most ``per_source`` from each source, and what they are."""
    rng = random.Random(seed)
    texts: list[str] = []
    counts = []
    for name in ("citint", *_HALUEVAL_FIELDS):
        taken = set(texts)  # a sentence two sources share counts once
        found = _citint(data) if name == "citint" else _halueval(data, name, per_source, rng, taken)
        distinct = sorted(set(found) - taken)
        rng.shuffle(distinct)
        texts += distinct[:per_source]
        counts.append(f"{name} {min(per_source, len(distinct))}")
    about = (
        "sentences of CitInt claims_train and of corpus abstracts no dev or test claim names, "
        "and of HaluEval train rows (i % 5 != 0): " + ", ".join(counts)
    )
    return texts, about


def _citint(data: Path) -> list[str]:
    folder = data / "citint"
    named: set[str] = set()
    for split in ("dev", "test"):
        for row in _rows(folder / f"claims_{split}.jsonl"):
            named |= {str(d) for d in row.get("cited_doc_ids", [])} | set(row["evidence"])
    texts = [strip_citation_markers(row["claim"]) for row in _rows(folder / "claims_train.jsonl")]
    for doc in _rows(folder / "corpus.jsonl"):
        if str(doc["doc_id"]) not in named:
            texts += [" ".join(sentence.split()) for sentence in doc["abstract"]]
    return [t for t in texts if t]


def _halueval(data: Path, task: str, wanted: int, rng: random.Random, taken: set[str]) -> set[str]:
    """Sentences of train rows taken in a seeded order until ``wanted`` new ones are found
    (cutting every news document into sentences would take minutes)."""
    rows = [row for i, row in enumerate(_rows(data / "halueval" / f"{task}.jsonl")) if i % 5]
    rng.shuffle(rows)
    found: set[str] = set()
    for row in rows:
        for field in _HALUEVAL_FIELDS[task]:
            text = str(row.get(field) or "")
            found |= {" ".join(text[a:b].split()) for a, b in sentence_spans(text)} - taken
        if len(found) >= wanted:
            break
    return {t for t in found if len(t) > 1}


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise ConfigError("missing data file", file=str(path))
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"bad JSON: {exc.msg}", file=str(path), line=number) from None
