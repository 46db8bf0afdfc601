from __future__ import annotations

import json
import random
from pathlib import Path


def office_pairs(path: Path, n: int) -> Path:
    """``n`` offices, each with a supported and a contradicted claim, as labelled JSONL."""
    rng = random.Random(0)
    cities = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito"]
    lines = []
    for i in range(n):
        a, b = rng.sample(cities, 2)
        ev = f"The office number {i} is in {a}."
        lines.append({"evidence": ev, "claim": f"Office {i} is in {a}.", "label": "supported"})
        lines.append({"evidence": ev, "claim": f"Office {i} is in {b}.", "label": "contradicted"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path
