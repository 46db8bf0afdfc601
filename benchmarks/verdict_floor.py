"""How similar must evidence be to decide a verdict? The facts check's ``verdict_min_score``.

The verifier often reads a sentence about another subject as contradicting a claim (its other
numbers and names) or as supporting it (its wording). This script measures verdict macro-F1, and
how many claims that are not supported come back supported, for a sweep of floors below which
evidence is shown but does not decide, on:

- FoolMeTwice dev and test, each indexed (as ``benchmarks/facts.py`` does) with a seeded fifth of
  its Wikipedia pages left out: the claims about those pages have nothing in the index and are
  gold *unverifiable*, as an answer's claims about things a help centre does not cover;
- CitInt dev and test, over the whole corpus and within the cited paper.

The floor is chosen on the dev sets (sum of macro-F1); test figures are reported, never used.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/verdict_floor.py --data ../shared/data \
        --work /tmp/fb [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import facts as fb  # benchmarks/facts.py: index building and the verdict replay

from guardkit.facts import ClaimVerdict, ClaimVerifier, FactIndex, VerifySettings
from guardkit.verifier import load_verifier

FLOORS = (0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6)
_LABEL = {"SUPPORTS": "supported", "REFUTES": "contradicted"}


def fm2_held_out(data: Path, work: Path, split: str, checker: ClaimVerifier) -> tuple:
    fb.fm2_split(data, work, split)  # builds the split's index once, kept in ``work``
    index = FactIndex.load(work / f"fm2-{split}-index-{fb.default_embedder().sha256[:12]}")
    rows = [json.loads(line) for line in (data / "nli/fm2/dataset" / f"{split}.jsonl").open()]
    pages = sorted({r["wikipedia_page"] for r in rows})
    held = set(random.Random(0).sample(pages, len(pages) // 5))
    sections = [json.loads(line) for line in (work / f"fm2-{split}-sections.jsonl").open()]
    index.delete([s["id"] for s in sections if s["source"] in held])
    claims = [
        {
            "text": r["text"],
            "gold": "unverifiable" if r["wikipedia_page"] in held else _LABEL[r["label"]],
        }
        for r in rows
    ]
    hits = index.search_many([c["text"] for c in claims], 5)
    return claims, fb.judge(ClaimVerifier(index, checker.verifier, checker.settings), claims, hits)


def citint(data: Path, work: Path, split: str, checker: ClaimVerifier) -> dict[str, tuple]:
    index, _ = fb.build_citint(data, work)
    corpus = fb.Corpus(index)
    claims = fb.load_claims(data, split)
    vectors = index.embedder.encode([c["text"] for c in claims])
    anywhere = index.search_many([c["text"] for c in claims], 5, vectors=vectors)
    cited = [corpus.cited_hits(c, v, 5) for c, v in zip(claims, vectors, strict=True)]
    check = ClaimVerifier(index, checker.verifier, checker.settings)
    return {
        f"citint-open-{split}": (claims, fb.judge(check, claims, anywhere)),
        f"citint-cited-{split}": (claims, fb.judge(check, claims, cited)),
    }


def judged(claims: list[dict], verdicts: list[ClaimVerdict], floor: float) -> tuple[float, int]:
    """Macro-F1 with the shipped thresholds and this floor, and how many claims that are not
    supported were called supported (missed hallucinations)."""
    d = VerifySettings()
    pred = [fb.decide(v, d.support_threshold, d.contradict_threshold, floor) for v in verdicts]
    gold = [c["gold"] for c in claims]
    missed = sum(g != "supported" and p == "supported" for g, p in zip(gold, pred, strict=True))
    return float(fb.f1_table(gold, pred)["macro_f1"]), missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="index cache of facts.py")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    checker = ClaimVerifier(None, load_verifier(), VerifySettings(top_k=5, min_score=-1.0))
    sets: dict[str, tuple] = {}
    for split in ("dev", "test"):
        sets[f"fm2-held-out-{split}"] = fm2_held_out(args.data, args.work, split, checker)
        sets.update(citint(args.data, args.work, split, checker))
    table = {f: {name: judged(*sets[name], f) for name in sets} for f in FLOORS}
    dev = {f: sum(v[0] for k, v in row.items() if k.endswith("-dev")) for f, row in table.items()}
    chosen = max(FLOORS, key=lambda f: dev[f])
    names = sorted(sets, key=lambda n: (n.endswith("-test"), n))
    print("macro-F1 / not-supported claims called supported")
    print("floor  " + "  ".join(names))
    for f in FLOORS:
        mark = " <- chosen on dev" if f == chosen else ""
        cells = (f"{table[f][n][0]:.3f} / {table[f][n][1]}" for n in names)
        print(f"{f:5.2f}  " + "  ".join(cells) + mark)
    gold = {n: {g: [c["gold"] for c in sets[n][0]].count(g) for g in fb.LABELS} for n in names}
    if args.json:
        result = {"table": {str(f): row for f, row in table.items()}, "chosen": chosen}
        args.json.write_text(json.dumps({**result, "gold_counts": gold}, indent=2) + "\n")


if __name__ == "__main__":
    main()
