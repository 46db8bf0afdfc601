"""Score the output lines of ``guardkit verify --claims`` on CitInt, as the issue's checker does.

The checker builds an index from CitInt's ``corpus.jsonl`` as it is, runs ``guardkit verify
--claims`` on a claims file as it is, and computes evidence recall and verdict macro-F1 from
the output lines alone. This script does exactly that, so the figure is the command line's,
not the benchmark harness's (``benchmarks/facts.py`` strips citation markers and builds its own
index).

    guardkit index build DATA/citint/corpus.jsonl --out /tmp/cli/idx
    guardkit verify --index /tmp/cli/idx --claims DATA/citint/claims_test.jsonl --out OUT.jsonl
    python benchmarks/citint_cli.py --data DATA --claims DATA/citint/claims_test.jsonl OUT.jsonl

The output lines keep the input's gold ``evidence`` as ``given_evidence`` beside guardkit's
``evidence``; the gold is read from the claims file, line by line, all the same.

A cited sentence counts as found when a returned fact is that sentence (fact id
``<doc_id>#<n>``) or has its text (CitInt repeats abstracts under several ids). The gold verdict
is SUPPORT -> supported, REFUTE -> contradicted, no evidence or mixed labels -> unverifiable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from facts import LABELS, f1_table  # benchmarks/facts.py: the same macro-F1 as its verdicts


def _gold(row: dict) -> tuple[str, set[str]]:
    labels = {e["label"] for ev in row["evidence"].values() for e in ev}
    single = next(iter(labels)) if len(labels) == 1 else ""
    verdict = {"SUPPORT": "supported", "REFUTE": "contradicted"}.get(single, "unverifiable")
    facts = {f"{d}#{i}" for d, ev in row["evidence"].items() for e in ev for i in e["sentences"]}
    return verdict, facts


def score(data: Path, claims: Path, out_lines: Path) -> dict:
    sentences = {}
    for line in (data / "citint" / "corpus.jsonl").open():
        doc = json.loads(line)
        for i, text in enumerate(doc["abstract"]):
            sentences[f"{doc['doc_id']}#{i}"] = " ".join(text.split())
    rows = [json.loads(line) for line in out_lines.open() if line.strip()]
    given = [json.loads(line) for line in claims.open() if line.strip()]
    if len(given) != len(rows) or any(a["id"] != b["id"] for a, b in zip(given, rows, strict=True)):
        raise SystemExit(f"{out_lines} does not answer {claims} line by line")
    gold, pred, found = [], [], {1: [], 5: []}
    for row, claim in zip(rows, given, strict=True):
        verdict, facts = _gold(claim)
        gold.append(verdict)
        pred.append(row["verdict"])
        if not facts:
            continue
        texts = {sentences[f] for f in facts}
        for k in found:
            shown = row["evidence"][:k]
            found[k].append(
                any(e["fact_id"] in facts or " ".join(e["text"].split()) in texts for e in shown)
            )
    result = {
        "claims": len(rows),
        "claims_with_gold_evidence": len(found[5]),
        **{f"recall@{k}": sum(v) / max(1, len(v)) for k, v in found.items()},
        **f1_table(gold, pred),
        "gold": {label: gold.count(label) for label in LABELS},
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_lines", type=Path, help="the --out file of guardkit verify --claims")
    parser.add_argument("--data", type=Path, required=True, help="folder holding citint/")
    parser.add_argument("--claims", type=Path, required=True, help="the --claims file verified")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = score(args.data, args.claims, args.out_lines)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
