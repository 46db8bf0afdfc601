"""Dense evidence retrieval by embedder folder, side by side: does a fine-tune generalise?

The shipped embedder is fine-tuned on CitInt train claims (``python -m guardkit.facts.training``).
This measures dense recall@k (embeddings alone, no BM25, no document lift) for each folder
given, on sets none of them trained on:

- CitInt dev and test claims against every distinct corpus sentence (the fine-tune's domain);
- FoolMeTwice test (Wikipedia claims) against the pool of their gold and retrieved evidence;
- HaluEval QA questions against their knowledge passages (non-test rows, ``i % 5 != 0``).

    python benchmarks/embedder_retrieval.py --data ../shared/data \\
        --embedder guardkit/models/embedder-minilm-l6-int8 \\
        --embedder guardkit/models/embedder-minilm-l6-gk1

A hit is a top-k passage whose text is one of the query's gold texts.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from guardkit.facts._embed_onnx import OnnxEmbedder

Queries = list[tuple[str, set[str]]]
_MARKER = re.compile(r"\s*\[?<\|[a-z_]+\|>\]?")
KS = (1, 5, 10)


def citint(data: Path, split: str) -> tuple[Queries, list[str]]:
    abstracts = {}
    for line in (data / "citint" / "corpus.jsonl").open(encoding="utf-8"):
        doc = json.loads(line)
        abstracts[str(doc["doc_id"])] = [" ".join(t.split()) for t in doc["abstract"]]
    queries = []
    for line in (data / "citint" / f"claims_{split}.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        gold = {
            abstracts[d][i] for d, ev in row["evidence"].items() for e in ev for i in e["sentences"]
        }
        if gold:
            queries.append((" ".join(_MARKER.sub("", row["claim"]).split()), gold))
    return queries, sorted({s for sentences in abstracts.values() for s in sentences})


def fm2(data: Path, n: int) -> tuple[Queries, list[str]]:
    path = data / "nli" / "fm2" / "dataset" / "test.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][:n]
    pool = {e["text"] for r in rows for e in r["gold_evidence"] + r["retrieved_evidence"]}
    return [(r["text"], {e["text"] for e in r["gold_evidence"]}) for r in rows], sorted(pool)


def halueval_qa(data: Path, n: int) -> tuple[Queries, list[str]]:
    queries = []
    for i, line in enumerate((data / "halueval" / "qa.jsonl").open(encoding="utf-8")):
        if i % 5 == 0:  # test rows stay out
            continue
        row = json.loads(line)
        queries.append((row["question"], {row["knowledge"]}))
        if len(queries) == n:
            break
    return queries, sorted({k for _, gold in queries for k in gold})


def recall(
    encode: Callable[[Sequence[str]], np.ndarray], queries: Queries, pool: list[str]
) -> dict:
    sims = encode([q for q, _ in queries]) @ encode(pool).T
    top = np.argsort(-sims, axis=1)[:, : max(KS)]
    return {
        f"recall@{k}": float(
            np.mean(
                [any(pool[j] in gold for j in top[i, :k]) for i, (_, gold) in enumerate(queries)]
            )
        )
        for k in KS
    } | {"queries": len(queries), "pool": len(pool)}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--embedder", type=Path, action="append", required=True)
    p.add_argument("--rows", type=int, default=600, help="FM2 and HaluEval queries per set")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args()
    sets = {
        "citint_dev": citint(a.data, "dev"),
        "citint_test": citint(a.data, "test"),
        "fm2_test": fm2(a.data, a.rows),
        "halueval_qa_nontest": halueval_qa(a.data, a.rows),
    }
    out: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "results": {}}
    for folder in a.embedder:
        embedder = OnnxEmbedder(folder)
        t0 = time.perf_counter()
        out["results"][embedder.model_id] = {
            name: recall(embedder.encode, q, pool) for name, (q, pool) in sets.items()
        }
        print(f"{embedder.model_id} ({time.perf_counter() - t0:.0f} s)", flush=True)
        for name, r in out["results"][embedder.model_id].items():
            print(f"  {name}: " + " ".join(f"@{k} {r[f'recall@{k}']:.3f}" for k in KS), flush=True)
    if a.out:
        a.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
