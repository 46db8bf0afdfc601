"""Facts embedded per second by embedder folder, side by side (issue 5: >= 1,000 on 2 cores).

    .venv/bin/python benchmarks/embedder_speed.py --data ../shared/data \\
        --embedder guardkit/models/embedder-minilm-l6-gk1 \\
        --embedder guardkit/models/embedder-minilm-l3-gk1

The first 1,000 CitInt corpus sentences; each folder embeds them in a fresh process (loading
outside the timing), the folders alternating, ``--rounds`` times: a shared, noisy machine shows
in every folder alike, so compare within one run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path


def rate(folder: str, texts: list[str]) -> float:
    from guardkit.facts._embed_onnx import OnnxEmbedder

    embedder = OnnxEmbedder(Path(folder))
    embedder.encode(texts[:8])
    t0 = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--embedder", action="append", required=True, help="Folder (repeatable).")
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    texts: list[str] = []
    with (a.data / "citint" / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            texts += json.loads(line)["abstract"]
            if len(texts) >= 1000:
                break
    texts = texts[:1000]
    runs: dict[str, list[float]] = {folder: [] for folder in a.embedder}
    spawn = multiprocessing.get_context("spawn")
    for _ in range(a.rounds):
        for folder in runs:
            with spawn.Pool(1) as pool:
                runs[folder].append(pool.apply(rate, (folder, texts)))
    for folder, rates in runs.items():
        print(f"{folder}: {', '.join(f'{r:.0f}' for r in rates)} facts/s")


if __name__ == "__main__":
    main()
