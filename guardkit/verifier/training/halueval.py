"""HaluEval rows as (evidence, claim) pairs, with the split rule of ``shared/data/PROVENANCE.md``.

Row ``i`` (0-based) is *test* when ``i % 5 == 0`` (never read for training or calibration),
*calibration* when ``i % 5 == 1``, and *train* otherwise.

The hallucinated answers get the partial label ``UNSUPPORTED``: HaluEval's hallucinations mix
answers that contradict the knowledge with answers the knowledge does not cover, and the rows do
not say which.

Length shortcut: right QA answers are short phrases, hallucinated ones long sentences (answer
length alone separates them with AUROC 0.96); summaries differ two-fold in length. Training
therefore (a) balances QA and dialogue pairs within answer-length bins, dropping the surplus side
of each bin, and (b) uses summaries sentence by sentence, each against the document window that
overlaps it most, so a summary's length never reaches the model.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pysbd

from guardkit.verifier.training.examples import SUPPORTED, UNSUPPORTED, Example

__all__ = [
    "TASKS",
    "dialogue_context",
    "halueval_pairs",
    "news_documents",
    "qa_context",
    "rows",
]

TASKS = ("qa", "dialogue", "summarization")
_WORD = re.compile(r"\w+")
_SEG = pysbd.Segmenter(language="en", clean=False)


def rows(root: Path, task: str, split: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of one task and split (``train``, ``calibration``, ``test``) with line numbers."""
    want = {"test": {0}, "calibration": {1}, "train": {2, 3, 4}, "nontest": {1, 2, 3, 4}}[split]
    with (root / f"{task}.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 5 in want:
                yield i, json.loads(line)


def news_documents(root: Path, max_docs: int) -> list[list[str]]:
    """Sentences of the summarisation task's train documents (news): everyday prose for
    synthetic pairs, beside CitInt's scientific abstracts."""
    docs = []
    for _, row in rows(root, "summarization", "train"):
        sentences = [t.strip() for t in _SEG.segment(row["document"]) if len(t.split()) >= 4]
        docs.append(sentences)
        if len(docs) >= max_docs:
            break
    return docs


def qa_context(row: dict[str, Any]) -> str:
    """The context a QA answer is judged against: the knowledge and the question."""
    return f"{row['knowledge'].strip()}\nQuestion: {row['question'].strip()}"


def dialogue_context(row: dict[str, Any]) -> str:
    """The context a dialogue response is judged against: the knowledge and the dialogue so far."""
    return f"{row['knowledge'].strip()}\n{row['dialogue_history'].strip()}"


def response_pairs(task: str, row: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(context, response, is_hallucinated) for one row: the faithful and the hallucinated one."""
    if task == "qa":
        ctx, right, bad = qa_context(row), row["right_answer"], row["hallucinated_answer"]
    elif task == "dialogue":
        ctx, right, bad = dialogue_context(row), row["right_response"], row["hallucinated_response"]
    else:
        ctx, right, bad = row["document"], row["right_summary"], row["hallucinated_summary"]
    return [(ctx, right, 0), (ctx, bad, 1)]


def _length_bin(text: str) -> int:
    n = len(_WORD.findall(text))
    return next(i for i, edge in enumerate((1, 2, 3, 5, 8, 12, 18, 26, 10**9)) if n <= edge)


def _balanced(pairs: list[Example], rng: random.Random) -> list[Example]:
    by_bin: dict[int, list[list[Example]]] = defaultdict(lambda: [[], []])
    for e in pairs:
        by_bin[_length_bin(e.claim)][e.label == UNSUPPORTED].append(e)
    out: list[Example] = []
    for good, bad in by_bin.values():
        n = min(len(good), len(bad))
        out += rng.sample(good, n) + rng.sample(bad, n)
    return out


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def best_window(sents: list[str], claim: str, max_words: int = 70) -> str:
    """The run of whole sentences (about ``max_words`` words) overlapping the claim most."""
    target = _words(claim)
    best, best_score = "", -1.0
    for i in range(len(sents)):
        chunk, n = [], 0
        for s in sents[i:]:
            chunk.append(s)
            n += len(s.split())
            if n >= max_words:
                break
        score = len(target & _words(" ".join(chunk))) / (len(target) or 1)
        if score > best_score:
            best, best_score = " ".join(chunk), score
    return best


def _summary_pairs(row: dict[str, Any]) -> list[Example]:
    doc = [s.strip() for s in _SEG.segment(row["document"]) if s.strip()]
    right = [s.strip() for s in _SEG.segment(row["right_summary"]) if s.strip()]
    bad = [s.strip() for s in _SEG.segment(row["hallucinated_summary"]) if s.strip()]
    right_words = [_words(s) for s in right]
    out = [Example(best_window(doc, s), s, SUPPORTED, "halueval_summarization") for s in right[:2]]
    for s in bad[:3]:
        w = _words(s)
        # a sentence copied (near) verbatim from the faithful summary is not the hallucination
        if any(len(w & r) / (len(w | r) or 1) > 0.6 for r in right_words):
            continue
        out.append(Example(best_window(doc, s), s, UNSUPPORTED, "halueval_summarization"))
    return out


def halueval_pairs(root: Path, split: str, seed: int, max_rows: int | None = None) -> list[Example]:
    """Training pairs from one split of all three tasks (never ``test``)."""
    if split == "test":
        raise ValueError("HaluEval test rows are never used to build training pairs")
    rng = random.Random(seed)
    out: list[Example] = []
    for task in TASKS:
        task_pairs: list[Example] = []
        # summaries: 3,000 rows give ~12k sentence pairs, and segmenting documents is slow
        limit = min(max_rows or 10**9, 3000 if task == "summarization" else 10**9)
        for n, (_, row) in enumerate(rows(root, task, split)):
            if n >= limit:
                break
            if task == "summarization":
                task_pairs += _summary_pairs(row)
                continue
            for ctx, resp, bad in response_pairs(task, row):
                label = UNSUPPORTED if bad else SUPPORTED
                task_pairs.append(Example(ctx, resp, label, f"halueval_{task}"))
                if task == "qa" and rng.random() < 0.5:  # also without the question in the context
                    claim = f"{row['question'].strip()} {resp}"
                    task_pairs.append(Example(row["knowledge"], claim, label, "halueval_qa"))
        out += task_pairs if task == "summarization" else _balanced(task_pairs, rng)
    return out
