"""Fact index and claim verification benchmark (issue 5).

    .venv/bin/python benchmarks/facts.py --data /work/shared/data [--work /tmp/facts-bench]

1. CitInt end to end: an index of every corpus sentence (one JSONL record per sentence, built with
   ``FactIndex.build``, timed). Claims (citation markers removed) are searched for evidence:
   recall@k against the gold sentences over the whole corpus in each search mode (dense, lexical,
   hybrid), and within the cited paper only. The fusion constants are swept on dev only (test is
   reported, never tuned on); query latency per mode, one query at a time, with and without
   embedding the query. Verdicts come from the shipped verifier on the top-5 evidence of the
   index's default mode; thresholds are chosen on dev, macro-F1 is reported on test only.
2. Scale: 10k facts are real CitInt sentences; 100k and 1M are the real vectors replicated with
   Gaussian noise (each copy at cosine ~0.85 to its original; text suffixed "(variant j)"), added
   through the index's store and FAISS layers without re-embedding. Query latency p50/p99 (one
   query at a time, k=10, real claim embeddings as queries, SQLite fetch included), recall@10
   against exact search, add throughput, peak memory. BM25 side by side on each: SQLite FTS5's
   ``bm25()`` against the shipped numpy scoring, query by query, with hybrid search as shipped.
3. The ``facts`` check on a 5-claim answer against the 100k-fact index: p50/p99 and stages.
4. FoolMeTwice (Wikipedia claims), a second claim-and-corpus set never trained on: per split, an
   index of the evidence sentences its claims come with (gold and retrieved; one document per
   page section, the page as source). Test recall@k of the gold sentences in the default mode,
   and verdicts (supported / contradicted; thresholds chosen on dev, reported on test).

Results go to ``<work>/results-HHMMSS.json``; the tables in RESULTS.md are written from them.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import faiss
import numpy as np
import torch

from guardkit._onnx import default_threads
from guardkit.checks import CheckContext
from guardkit.checks.facts import FactsCheck, FactsCheckConfig
from guardkit.facts import (
    Claim,
    ClaimVerdict,
    ClaimVerifier,
    Embedder,
    FactIndex,
    Hit,
    MiniLMEmbedder,
    OnnxEmbedder,
    SearchMode,
    VerifySettings,
    default_embedder,
)
from guardkit.facts._ingest import FactRow
from guardkit.facts._lexical import DOCUMENT_WEIGHT, FUSION_DEPTH, RRF_K, fuse, query_words
from guardkit.verifier import DEFAULT_MODEL, load_verifier

LABELS = ("supported", "contradicted", "unverifiable")
MODES: tuple[SearchMode, ...] = ("dense", "lexical", "hybrid")
_MARKER = re.compile(r"\s*\[?<\|[a-z_]+\|>\]?")


_CHOSEN: dict[str, Path] = {}
"""``--embedder FOLDER``: the embedder every index here is built with (default: the shipped)."""


def chosen_embedder() -> Embedder:
    folder = _CHOSEN.get("folder")
    return default_embedder() if folder is None else _shared_onnx(str(folder))


@functools.cache
def _shared_onnx(folder: str) -> Embedder:
    return OnnxEmbedder(folder)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def load_claims(data: Path, split: str) -> list[dict]:
    abstracts = {}
    for line in (data / "citint" / "corpus.jsonl").open():
        doc = json.loads(line)
        abstracts[str(doc["doc_id"])] = [" ".join(t.split()) for t in doc["abstract"]]
    rows = [json.loads(line) for line in (data / "citint" / f"claims_{split}.jsonl").open()]
    for r in rows:
        r["text"] = " ".join(_MARKER.sub("", r["claim"]).split())
        labels = {e["label"] for ev in r["evidence"].values() for e in ev}
        single = next(iter(labels)) if len(labels) == 1 else ""
        r["gold"] = {"SUPPORT": "supported", "REFUTE": "contradicted"}.get(single, "unverifiable")
        r["gold_facts"] = {
            f"{d}:{i}" for d, ev in r["evidence"].items() for e in ev for i in e["sentences"]
        }
        r["gold_texts"] = {
            abstracts[f.split(":")[0]][int(f.split(":")[1])] for f in r["gold_facts"]
        }
    return rows


def build_citint(data: Path, work: Path) -> tuple[FactIndex, dict]:
    """The CitInt sentence index, built once per embedder and kept in ``work`` for reruns."""
    key = chosen_embedder().sha256[:12]
    folder, stats_file = work / f"citint-index-{key}", work / f"citint-build-{key}.json"
    if (folder / "manifest.json").is_file() and stats_file.is_file():
        version = json.loads((folder / "manifest.json").read_text())["format_version"]
        t0 = time.perf_counter()
        index = FactIndex.load(folder)  # a format 1 index builds its BM25 table here
        loaded = {"load_s": time.perf_counter() - t0, "loaded_format_version": version}
        return index, {**json.loads(stats_file.read_text()), **loaded}
    source = work / "citint_sentences.jsonl"
    with source.open("w") as fh:
        for line in (data / "citint" / "corpus.jsonl").open():
            doc = json.loads(line)
            for i, sentence in enumerate(doc["abstract"]):
                rec = {"id": f"{doc['doc_id']}:{i}", "text": sentence, "source": str(doc["doc_id"])}
                fh.write(json.dumps(rec) + "\n")
    t0 = time.perf_counter()
    index = FactIndex.build([source], embedder=chosen_embedder())
    build_s = time.perf_counter() - t0
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    index.save(folder)
    stats = {"facts": len(index), "build_s": build_s, "save_s": time.perf_counter() - t0}
    stats_file.write_text(json.dumps(stats))
    return index, stats


class Corpus:
    """Every fact of the CitInt index with its vector, grouped by paper (for cited-doc search)."""

    def __init__(self, index: FactIndex) -> None:
        vids = index._store.live_vids()
        rows = index._store.fetch(vids)
        self.rows = [rows[v] for v in vids]
        self.vectors = index._vectors.vectors(vids)
        self.by_paper: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(self.rows):
            self.by_paper[int(r["source"])].append(i)

    def cited_hits(self, claim: dict, vector: np.ndarray, k: int) -> list[Hit]:
        idx = [i for d in claim["cited_doc_ids"] for i in self.by_paper.get(int(d), [])]
        sims = self.vectors[idx] @ vector
        best = np.argsort(-sims)[:k]
        return [self.hit(idx[j], float(sims[j])) for j in best]

    def hit(self, i: int, score: float) -> Hit:
        r = self.rows[i]
        keys = ("fact_id", "doc_id", "source", "text", "start", "end")
        return Hit(**{key: r[key] for key in keys}, score=min(1.0, max(-1.0, score)))


def is_gold(hit: Hit, claim: dict) -> bool:
    """The gold sentence itself, or the same text in another paper (CitInt repeats abstracts)."""
    return hit.doc_id in claim["gold_facts"] or any(hit.text in g for g in claim["gold_texts"])


def recall(hits: list[list[Hit]], claims: list[dict], ks: tuple[int, ...]) -> dict:
    pairs = [(c, h) for c, h in zip(claims, hits, strict=True) if c["gold_texts"]]
    out: dict[str, Any] = {"claims_with_gold": len(pairs)}
    for k in ks:
        by_id = [bool({x.doc_id for x in h[:k]} & c["gold_facts"]) for c, h in pairs]
        by_text = [any(is_gold(x, c) for x in h[:k]) for c, h in pairs]
        out[f"recall@{k}_same_paper"] = sum(by_id) / len(by_id)
        out[f"recall@{k}"] = sum(by_text) / len(by_text)
    return out


def f1_table(gold: list[str], pred: list[str]) -> dict:
    per = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
        per[f"f1_{label}"] = 2 * prec * rec / max(1e-9, prec + rec)
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    pred_counts = {f"pred_{k}": pred.count(k) for k in LABELS}
    return {"macro_f1": sum(per.values()) / 3, "accuracy": acc, **per, **pred_counts}


_D = VerifySettings()
DEFAULT_RULE = (
    _D.support_threshold,
    _D.contradict_threshold,
    max(_D.min_score, _D.verdict_min_score),
)
"""The shipped verdict rule's settings, as ``decide`` takes them."""


def decide(v: ClaimVerdict, sup_t: float, con_t: float, min_score: float) -> str:
    """The check's verdict rule, replayed offline so thresholds can be searched on dev:
    evidence below ``min_score`` does not decide (the product's ``verdict_min_score``)."""
    cites = [c for c in v.citations if c.score >= min_score]
    sup = max((c.supported for c in cites), default=0.0)
    con = max((c.contradicted for c in cites), default=0.0)
    if con >= con_t and con > sup:
        return "contradicted"
    return "supported" if sup >= sup_t else "unverifiable"


def judge(checker: ClaimVerifier, claims: list[dict], hits: list[list[Hit]]) -> list[ClaimVerdict]:
    """The product's verdicts, every hit read (``decide`` sweeps the floor)."""
    as_claims = [
        Claim(text=c["text"], start=0, end=len(c["text"]), sentence_start=0, sentence_end=0)
        for c in claims
    ]
    return checker.judge(as_claims, hits, floor=-1.0)


def tune(dev: list[dict], dev_v: list[ClaimVerdict]) -> dict:
    gold = [c["gold"] for c in dev]
    grid = [round(float(x), 2) for x in np.arange(0.05, 1.0, 0.05)]
    scored = (
        (f1_table(gold, [decide(v, s, c, m) for v in dev_v])["macro_f1"], s, c, m)
        for s in grid
        for c in grid
        for m in (-1.0, 0.2, 0.3, 0.4, 0.5)
    )
    f1, s, c, m = max(scored, key=lambda t: t[0])
    return {"support_threshold": s, "contradict_threshold": c, "min_score": m, "dev_macro_f1": f1}


def verdict_block(checker: ClaimVerifier, dev: list[dict], test: list[dict], hits: dict) -> dict:
    dev_v, test_v = judge(checker, dev, hits["dev"]), judge(checker, test, hits["test"])
    t = tune(dev, dev_v)
    gold = [c["gold"] for c in test]
    tuned = [
        decide(v, t["support_threshold"], t["contradict_threshold"], t["min_score"]) for v in test_v
    ]
    return {
        "tuned_on_dev": t,
        "test_tuned": f1_table(gold, tuned),
        "test_defaults": f1_table(gold, [decide(v, *DEFAULT_RULE) for v in test_v]),
    }


def _embed_rate(
    kind: str, sample: list[str], threads: int, folder: Path | None
) -> tuple[float, np.ndarray]:
    """Facts/s of one embedder in a fresh process: torch's spinning OpenMP threads stay out."""
    torch.set_num_threads(threads)
    if folder is not None:
        _CHOSEN["folder"] = folder
    embedder = chosen_embedder() if kind == "default" else MiniLMEmbedder()
    embedder.encode(sample[:8])  # load outside the timing
    t0 = time.perf_counter()
    vectors = embedder.encode(sample)
    return len(sample) / (time.perf_counter() - t0), vectors


def embed_side_by_side(sample: list[str], threads: int) -> dict:
    """The default (int8 ONNX) and torch sentence-transformers on the same texts, alternated."""
    runs: dict[str, list[float]] = {"default": [], "torch": []}
    vectors = {}
    spawn = multiprocessing.get_context("spawn")
    for _ in range(2):
        for kind in runs:
            with spawn.Pool(1) as pool:
                rate, vectors[kind] = pool.apply(
                    _embed_rate, (kind, sample, threads, _CHOSEN.get("folder"))
                )
            runs[kind].append(rate)
    cosine = (vectors["default"] * vectors["torch"]).sum(axis=1)
    best = {name: max(r) for name, r in runs.items()}
    return {
        "default_model": chosen_embedder().model_id,
        "facts_per_s": runs,
        "facts_per_s_best": best,
        "ratio_default_over_torch": best["default"] / best["torch"],
        "cosine_to_torch_min": float(cosine.min()),
        "cosine_to_torch_mean": float(cosine.mean()),
    }


def claim_vectors(embedder: Any, work: Path, split: str, texts: list[str]) -> np.ndarray:
    """Claim embeddings, cached in ``work`` by model and texts: reruns skip the slow part."""
    key = hashlib.sha256("\n".join([embedder.sha256, *texts]).encode()).hexdigest()[:16]
    path = work / f"claims-{split}-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embedder.encode(texts)
    np.save(path, vectors)
    return vectors


def by_mode(index: FactIndex, claims: list[dict], vecs: np.ndarray, k: int) -> dict[str, list]:
    texts = [c["text"] for c in claims]
    return {m: index.search_many(texts, k, mode=m, vectors=vecs) for m in MODES}


def _text(hit: Hit) -> str:
    """A fused ranking's key: each mode shows one copy of a text, not always the same copy."""
    return " ".join(hit.text.split())


def fusion_sweep(index: FactIndex, claims: list[dict], vecs: np.ndarray) -> dict:
    """Dev recall for RRF constants, candidate depths (without the document lift) and document
    weights: how RRF_K, FUSION_DEPTH and DOCUMENT_WEIGHT were set (before copies were counted
    once). Each mode's search now shows one copy of a text, so the constant grid fuses by text;
    the product fuses every copy's ranks before it shows one, which scores higher on CitInt.
    The document weight grid runs the product's hybrid search itself, with and without sources
    ranked as a whole by their centroids."""
    texts = [c["text"] for c in claims]
    ranked = [index.search_many(texts, 100, mode=m, vectors=vecs) for m in ("dense", "lexical")]
    grid = {}
    for c in (1, 5, 10, 20, 30, 60, 100, 200):
        for depth in (10, 20, 50, 100):
            fused = []
            for dense, lexical in zip(*ranked, strict=True):
                found = {_text(h): h for h in lexical[:depth] + dense[:depth]}
                lists = [[_text(h) for h in hits[:depth]] for hits in (dense, lexical)]
                fused.append([found[i] for i in fuse(lists, 10, c)])
            grid[f"c={c},depth={depth}"] = recall(fused, claims, (1, 5, 10))
    best = max(grid, key=lambda key: (grid[key]["recall@5"], grid[key]["recall@1"]))
    document_grid = {}
    for weight in (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0):
        for name, centroids in (("", False), (",centroids", True)):
            # The product's own hybrid search at this weight, with or without sources ranked
            # as a whole (``_rank_sources`` returning None leaves them out).
            with ExitStack() as stack:
                stack.enter_context(patch.dict(fuse.__kwdefaults__, {"weight": weight}))
                if not centroids:
                    stack.enter_context(patch.object(index, "_rank_sources", lambda *a: None))
                hits = index.search_many(texts, 10, mode="hybrid", vectors=vecs)
            document_grid[f"weight={weight}{name}"] = recall(hits, claims, (1, 5, 10))
    return {
        "best_by_recall@5_then_@1": best,
        "shipped": f"c={RRF_K},depth={FUSION_DEPTH},document_weight={DOCUMENT_WEIGHT}",
        "grid": grid,
        "document_weight_grid": document_grid,
    }


def mode_latency(index: FactIndex, claims: list[dict], vecs: np.ndarray) -> dict:
    """Per-query ms, modes interleaved query by query so load swings hit all modes alike."""
    faiss.omp_set_num_threads(1)
    search: dict[str, list[float]] = defaultdict(list)
    embedded: dict[str, list[float]] = defaultdict(list)
    for i, (c, v) in enumerate(zip(claims[:300], vecs[:300], strict=True)):
        for m in MODES:
            t0 = time.perf_counter()
            index.search_many([c["text"]], 10, mode=m, vectors=v[None, :])
            search[m].append((time.perf_counter() - t0) * 1000)
            if i < 50:
                t0 = time.perf_counter()
                index.search(c["text"], 10, mode=m)
                embedded[m].append((time.perf_counter() - t0) * 1000)
    return {
        m: {
            "queries": len(search[m]),
            "search_p50_ms": pct(search[m], 50),
            "search_p99_ms": pct(search[m], 99),
            "with_embedding_queries": len(embedded[m]),
            "with_embedding_p50_ms": pct(embedded[m], 50),
            "with_embedding_p99_ms": pct(embedded[m], 99),
        }
        for m in MODES
    }


def citint(
    data: Path, work: Path, out: dict, verdicts_too: bool, threads: int, verifier: Path
) -> tuple[FactIndex, np.ndarray, list[dict]]:
    embedder = chosen_embedder()
    index, build = build_citint(data, work)
    corpus = Corpus(index)
    out["build"] = {
        **build,
        "embedder": embedder.model_id,
        "facts_per_s_end_to_end": build["facts"] / build["build_s"],
    }
    sample = [r["text"] for r in corpus.rows[:1000]]
    out["embedding_1000_sentences"] = embed_side_by_side(sample, threads)
    claims = {s: load_claims(data, s) for s in ("dev", "test")}
    vecs = {s: claim_vectors(embedder, work, s, [c["text"] for c in claims[s]]) for s in claims}
    open10 = {s: by_mode(index, claims[s], vecs[s], 10) for s in claims}
    out["retrieval_open_corpus"] = {
        s: {m: recall(open10[s][m], claims[s], (1, 5, 10)) for m in MODES} for s in claims
    }
    out["fusion_sweep_dev"] = fusion_sweep(index, claims["dev"], vecs["dev"])
    out["latency_citint_k10"] = mode_latency(index, claims["test"], vecs["test"])
    cited = {
        s: [corpus.cited_hits(c, v, 5) for c, v in zip(claims[s], vecs[s], strict=True)]
        for s in claims
    }
    out["retrieval_test_cited_paper"] = recall(cited["test"], claims["test"], (1, 5))
    if verdicts_too:
        open_hits = {s: [h[:5] for h in open10[s][index.search_mode]] for s in claims}
        out["verdict_search_mode"] = index.search_mode
        settings = VerifySettings(top_k=5, min_score=-1.0)
        checker = ClaimVerifier(index, load_verifier(verifier), settings)
        t0 = time.perf_counter()
        out["verdicts_open_corpus"] = verdict_block(
            checker, claims["dev"], claims["test"], open_hits
        )
        out["verdicts_cited_paper"] = verdict_block(checker, claims["dev"], claims["test"], cited)
        out["verify_s_both"] = time.perf_counter() - t0
    out["test_gold_counts"] = {k: [c["gold"] for c in claims["test"]].count(k) for k in LABELS}
    return index, vecs["test"], claims["test"]


def fm2_split(data: Path, work: Path, split: str) -> tuple[FactIndex, list[dict]]:
    """A FoolMeTwice split's index (built once per embedder, kept in ``work``) and its claims."""
    path = data / "nli" / "fm2" / "dataset" / f"{split}.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    folder = work / f"fm2-{split}-index-{chosen_embedder().sha256[:12]}"
    if (folder / "manifest.json").is_file():
        index = FactIndex.load(folder)
    else:
        sections: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
        for r in rows:
            for e in r["gold_evidence"] + r["retrieved_evidence"]:
                sections[(r["wikipedia_page"], e["section_header"])][
                    " ".join(e["text"].split())
                ] = None
        source = work / f"fm2-{split}-sections.jsonl"
        with source.open("w", encoding="utf-8") as fh:
            for i, ((page, header), sentences) in enumerate(sections.items()):
                doc = {"id": str(i), "text": list(sentences), "source": page, "section": header}
                fh.write(json.dumps(doc) + "\n")
        index = FactIndex.build([source], embedder=chosen_embedder())
        index.save(folder)
    label = {"SUPPORTS": "supported", "REFUTES": "contradicted"}
    claims = [
        {
            "text": r["text"],
            "gold": label[r["label"]],
            "gold_facts": set(),
            "gold_texts": {" ".join(e["text"].split()) for e in r["gold_evidence"]},
        }
        for r in rows
    ]
    return index, claims


def foolmetwice(data: Path, work: Path, out: dict, verdicts_too: bool, verifier: Path) -> None:
    splits = {s: fm2_split(data, work, s) for s in ("dev", "test")}
    hits = {
        s: index.search_many([c["text"] for c in claims], 10)
        for s, (index, claims) in splits.items()
    }
    test_index, test_claims = splits["test"]
    recalls = recall(hits["test"], test_claims, (1, 5, 10))
    out["fm2"] = {
        "facts_test": len(test_index),
        "search_mode": test_index.search_mode,
        "retrieval_test": {k: v for k, v in recalls.items() if "same_paper" not in k},
    }
    if verdicts_too:
        checker = ClaimVerifier(
            test_index, load_verifier(verifier), VerifySettings(top_k=5, min_score=-1.0)
        )
        top5 = {s: [h[:5] for h in found] for s, found in hits.items()}
        block = verdict_block(checker, splits["dev"][1], test_claims, top5)
        for table in ("test_tuned", "test_defaults"):
            t = block[table]  # no claim is unverifiable in FM2: macro-F1 over the two classes
            t["macro_f1_two_classes"] = (t["f1_supported"] + t["f1_contradicted"]) / 2
        out["fm2"]["verdicts"] = block


def replicated(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if n <= len(base):
        return base[:n].copy()
    noise = 0.62 / np.sqrt(base.shape[1])  # |noise| ~ 0.62: cosine ~ 0.85 to the original
    reps = [base] + [
        base + rng.standard_normal(base.shape, dtype=np.float32) * noise
        for _ in range(n // len(base))
    ]
    out = np.concatenate(reps)[:n]
    return np.ascontiguousarray(out / np.linalg.norm(out, axis=1, keepdims=True), dtype=np.float32)


def scale_index(embedder: Any, corpus: Corpus, vectors: np.ndarray) -> tuple[FactIndex, float]:
    n, m = len(vectors), len(corpus.rows)
    big = FactIndex(embedder=embedder)
    big._grow_to(n)  # the kind the auto rule picks for n facts, as a build of n facts would
    t0 = time.perf_counter()
    ids: list[int] = []
    for lo in range(0, n, 50_000):
        rows = []
        for i in range(lo, min(n, lo + 50_000)):
            r, j = corpus.rows[i % m], i // m
            text = r["text"] if j == 0 else f"{r['text']} (variant {j})"
            rows.append(FactRow(f"{r['fact_id']}~{j}", r["doc_id"], r["source"], 0, 0, text, {}))
        ids += big._store.insert(rows)
    big._vectors.add(vectors, ids)  # one batch, as ``FactIndex.add_documents`` does
    big._update_centroids()
    return big, time.perf_counter() - t0


def fts5_top(index: FactIndex, text: str, n: int) -> list[int]:
    """SQLite FTS5's own ``bm25()`` ranking, which ``WordIndex`` replaced (the reference)."""
    words = query_words(text)
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    sql = "SELECT rowid FROM facts_fts WHERE facts_fts MATCH ? ORDER BY rank LIMIT ?"
    return [int(r[0]) for r in index._store._conn.execute(sql, (match, n))]


def lexical_side_by_side(big: FactIndex, texts: list[str], vectors: np.ndarray) -> dict:
    """BM25 top-100 by FTS5 and by ``WordIndex``, query by query, on the same index; hybrid
    search as shipped; and what reading the postings from the FTS5 table costs (the first word
    search after each load)."""
    t0 = time.perf_counter()
    big._store.lexical(texts[0], 1)  # the first word search reads the postings from FTS5
    derive_s = time.perf_counter() - t0
    fts, ours, hybrid, same = [], [], [], []
    for text, v in zip(texts, vectors, strict=True):
        t0 = time.perf_counter()
        reference = fts5_top(big, text, FUSION_DEPTH)
        fts.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        found = big._store.lexical(text, FUSION_DEPTH)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        big.search_many([text], 10, mode="hybrid", vectors=v[None, :])
        hybrid.append((time.perf_counter() - t0) * 1000)
        same.append(set(found[:10]) == set(reference[:10]))
    return {
        "queries": len(texts),
        "fts5_bm25_top100_p50_ms": pct(fts, 50),
        "fts5_bm25_top100_p99_ms": pct(fts, 99),
        "wordindex_top100_p50_ms": pct(ours, 50),
        "wordindex_top100_p99_ms": pct(ours, 99),
        "p50_ratio_fts5_over_wordindex": pct(fts, 50) / pct(ours, 50),
        "hybrid_k10_p50_ms": pct(hybrid, 50),
        "hybrid_k10_p99_ms": pct(hybrid, 99),
        "same_top10_set_share": sum(same) / len(same),
        "derive_postings_from_fts5_s": derive_s,
    }


def scale(
    index: FactIndex, queries: np.ndarray, texts: list[str], sizes: list[int], out: dict
) -> FactIndex | None:
    corpus = Corpus(index)
    q = np.ascontiguousarray(queries[:300])
    texts = texts[:300]
    keep = None
    for n in sizes:
        vectors = replicated(corpus.vectors, n, np.random.default_rng(n))
        faiss.omp_set_num_threads(2)
        big, add_s = scale_index(index.embedder, corpus, vectors)
        faiss.omp_set_num_threads(1)
        lat, raw = [], []
        for v in q:  # the API and FAISS alone, alternated: the API's own cost, side by side
            t0 = time.perf_counter()
            big.search_vectors(v[None, :], 10)
            lat.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            big._vectors.search(v[None, :], 10)
            raw.append((time.perf_counter() - t0) * 1000)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        t_scores, truth = exact.search(q, 10)
        g_scores, got = big._vectors.search(q, 10)
        ids10 = np.mean(
            [len(set(t) & {i - 1 for i in g}) / 10 for t, g in zip(truth, got, strict=True)]
        )
        # CitInt repeats some sentences: equal vectors tie, and either tied id is a right answer.
        tie10 = np.mean(
            [(g >= t[9] - 1e-5).sum() / 10 for g, t in zip(g_scores, t_scores, strict=True)]
        )
        out.setdefault("lexical_side_by_side", {})[str(n)] = lexical_side_by_side(big, texts, q)
        out.setdefault("scale", {})[str(n)] = {
            "index": big.index_params.model_dump(),
            "add_facts_per_s_no_embedding": n / add_s,
            "add_s": add_s,
            "query_p50_ms": pct(lat, 50),
            "query_p99_ms": pct(lat, 99),
            "raw_faiss_p50_ms": pct(raw, 50),
            "raw_faiss_p99_ms": pct(raw, 99),
            "recall@10_vs_exact_ids": float(ids10),
            "recall@10_vs_exact_tie_aware": float(tie10),
            "peak_rss_mb_so_far": rss_mb(),
        }
        print(n, out["scale"][str(n)], flush=True)
        del exact, vectors
        if n == 100_000:
            keep = big
    return keep


def e2e(big: FactIndex, test: list[dict], out: dict, verifier_dir: Path) -> None:
    texts = [c["text"] for c in test if c["gold"] == "supported"][:5]
    answer = " ".join(t if t.endswith(".") else t + "." for t in texts)
    ctx = CheckContext(text=answer, value=answer, attempt=1)
    verifier_model = load_verifier(verifier_dir)
    # As shipped, and with every listed fact verified (no verdict floor), runs interleaved.
    checks = {}
    for name, config in (
        ("shipped", FactsCheckConfig(top_k=5)),
        ("every_pair", FactsCheckConfig(top_k=5, verdict_min_score=-1.0)),
    ):
        checks[name] = FactsCheck(config, ClaimVerifier(big, verifier_model, config.settings()))
        checks[name].run(ctx)
    totals: dict[str, list[float]] = {name: [] for name in checks}
    verified, n_claims = {}, 0
    for _ in range(20):
        for name, check in checks.items():
            t0 = time.perf_counter()
            claims = check.run(ctx).details["claims"]
            totals[name].append((time.perf_counter() - t0) * 1000)
            n_claims = len(claims)
            verified[name] = sum(
                c["supported"] is not None for claim in claims for c in claim["citations"]
            )
    emb, verifier = chosen_embedder(), load_verifier(verifier_dir)
    vec = emb.encode(texts)
    # The claims' own top 5 facts: pairs of a claim with itself would be settled by the
    # verbatim rule without the model.
    found = big.search_many(texts, 5, vectors=vec)
    pairs = [(h.text, t) for t, hits in zip(texts, found, strict=True) for h in hits]
    stages = {
        "embed_5_claims": lambda: emb.encode(texts),
        "search_5_claims_k5": lambda: big.search_vectors(vec, 5),
        "hybrid_search_5_claims_k5": lambda: big.search_many(texts, 5, vectors=vec),
        "verifier_25_pairs": lambda: verifier.predict(pairs),
    }
    stage_ms = {}
    for name, fn in stages.items():
        runs = []
        for _ in range(10):
            t0 = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t0) * 1000)
        stage_ms[name] = statistics.median(runs)
    out["facts_check_100k"] = {
        "claims": n_claims,
        "p50_ms": pct(totals["shipped"], 50),
        "p99_ms": pct(totals["shipped"], 99),
        "pairs_verified": verified["shipped"],
        "every_pair": {
            "p50_ms": pct(totals["every_pair"], 50),
            "pairs_verified": verified["every_pair"],
        },
        "stage_p50_ms": stage_ms,
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path("/tmp/guardkit-facts-bench"))
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--no-verdicts", action="store_true", help="Skip the verifier on CitInt.")
    p.add_argument("--torch-threads", type=int, default=2, help="torch threads (torch embedder).")
    p.add_argument("--no-e2e", action="store_true", help="Skip the facts-check latency run.")
    p.add_argument("--no-fm2", action="store_true", help="Skip the FoolMeTwice run.")
    p.add_argument(
        "--verifier",
        type=Path,
        default=DEFAULT_MODEL,
        help="Verifier model folder (default: shipped).",
    )
    p.add_argument(
        "--embedder",
        type=Path,
        help="Embedder folder every index is built with (default: the shipped one).",
    )
    args = p.parse_args()
    if args.embedder is not None:
        _CHOSEN["folder"] = args.embedder
    torch.set_num_threads(args.torch_threads)
    args.work.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((args.verifier / "manifest.json").read_text())
    out: dict[str, Any] = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg_start": os.getloadavg(),
        "torch_threads": args.torch_threads,
        "onnx_threads": default_threads(),
        "verifier": {"name": manifest["name"], "model.onnx": manifest["files"]["model.onnx"]},
    }
    index, test_vec, test = citint(
        args.data, args.work, out, not args.no_verdicts, args.torch_threads, args.verifier
    )
    if not args.no_fm2:
        foolmetwice(args.data, args.work, out, not args.no_verdicts, args.verifier)
    print(json.dumps(out, indent=1), flush=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    big = scale(index, test_vec, [c["text"] for c in test], sizes, out)
    if big is not None and not args.no_e2e:
        e2e(big, test, out, args.verifier)
    out["loadavg_end"] = os.getloadavg()
    out["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    name = f"results-{datetime.now(UTC).strftime('%H%M%S')}.json"
    (args.work / name).write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
