"""HNSW query effort (``efSearch``) against index size: recall and latency (issue 5).

    .venv/bin/python benchmarks/hnsw_effort.py --data ../shared/data --work /tmp/facts-bench \\
        --sizes 100000,300000,1000000 --efforts 64,128,256,512

Scales the CitInt sentence vectors as ``benchmarks/facts.py`` does (real vectors replicated
with noise), builds the shipped HNSW graph (M 32, efConstruction 80) on them, and for each
effort measures, with CitInt test claims as queries: recall@10 against exact search (a tie at
the 10th score counts as found, since CitInt repeats sentences), recall@100 (the depth hybrid
search fuses), and the p50 time of one 5-query search at depth 100 on one thread (a 5-claim
answer). The table it prints is what ``guardkit.facts._vectors._EFFORT_BY_SIZE`` was chosen
from. Results go to ``<work>/hnsw-effort-HHMMSS.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from facts import Corpus, build_citint, chosen_embedder, claim_vectors, load_claims, replicated

from guardkit.facts._lexical import FUSION_DEPTH


def sweep(vectors: np.ndarray, queries: np.ndarray, efforts: list[int]) -> list[dict]:
    faiss.omp_set_num_threads(2)
    graph = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 80
    graph.add(vectors)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth_scores, truth = exact.search(queries, FUSION_DEPTH)
    faiss.omp_set_num_threads(1)
    rows = []
    for ef in efforts:
        graph.hnsw.efSearch = ef
        times = []
        for lo in range(0, len(queries) - 4, 5):
            t0 = time.perf_counter()
            graph.search(queries[lo : lo + 5], FUSION_DEPTH)
            times.append((time.perf_counter() - t0) * 1000)
        scores, found = graph.search(queries, FUSION_DEPTH)
        tie10 = np.mean(
            [(s[:10] >= t[9] - 1e-5).sum() / 10 for s, t in zip(scores, truth_scores, strict=True)]
        )
        deep = np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
        rows.append(
            {
                "ef_search": ef,
                "recall@10_tie_aware": float(tie10),
                f"recall@{FUSION_DEPTH}": float(deep),
                "five_queries_p50_ms": float(np.median(times)),
            }
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path("/tmp/facts-bench"))
    p.add_argument("--sizes", default="100000,300000,1000000")
    p.add_argument("--efforts", default="64,128,256,512")
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    index, _ = build_citint(a.data, a.work)
    corpus = Corpus(index)
    claims = load_claims(a.data, "test")
    queries = claim_vectors(chosen_embedder(), a.work, "test", [c["text"] for c in claims])
    queries = np.ascontiguousarray(queries[:300], dtype=np.float32)
    efforts = [int(e) for e in a.efforts.split(",")]
    out: dict = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "sizes": {}}
    print("| facts | efSearch | recall@10 vs exact | recall@100 | 5 queries p50 ms |")
    print("|---|---|---|---|---|")
    for n in [int(s) for s in a.sizes.split(",")]:
        vectors = replicated(corpus.vectors, n, np.random.default_rng(n))
        out["sizes"][str(n)] = rows = sweep(vectors, queries, efforts)
        for r in rows:
            print(
                f"| {n:,} | {r['ef_search']} | {r['recall@10_tie_aware']:.3f} | "
                f"{r[f'recall@{FUSION_DEPTH}']:.3f} | {r['five_queries_p50_ms']:.2f} |",
                flush=True,
            )
        del vectors
    path = a.work / f"hnsw-effort-{datetime.now(UTC):%H%M%S}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
