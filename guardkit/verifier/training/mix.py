"""The training mix and the calibration data, built deterministically from ``shared/data``.

Every set is capped so that no single one dominates a run that sees only part of the pool; the
pool is shuffled once with the seed, so a run stopped by its time budget still sees the mix.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from guardkit._jsonl import json_objects
from guardkit.errors import ConfigError
from guardkit.verifier.training.citint import citint_pairs, load_corpus
from guardkit.verifier.training.examples import (
    CONTRADICTED,
    NOT_ENOUGH_INFO,
    SUPPORTED,
    UNSUPPORTED,
    Example,
    bucket,
)
from guardkit.verifier.training.halueval import (
    TASKS,
    halueval_pairs,
    news_documents,
    response_pairs,
    rows,
)
from guardkit.verifier.training.nli_sets import NLI_READERS
from guardkit.verifier.training.synthetic import synthetic_pairs

__all__ = ["CAPS", "Mix", "build_mix", "calibration_data", "read_user_pairs", "repeat_option"]

log = logging.getLogger("guardkit.verifier.training")

#: Most pairs taken from each source's training part.
CAPS: dict[str, int] = {
    "esnli": 10000,
    "cad_snli": 9500,
    "docnli_aux": 12000,
    "infotabs": 4000,
    "breaking_nli": 4000,
    "conjnli": 4000,
    "med": 4500,
    "negation_nli": 3000,
    "contract_nli": 2000,
    "fever_symmetric": 0,
    "fm2": 2000,
    "folio": 2000,
    "begin": 2000,
    "faithdial_audit": 2000,
    "halueval": 24000,
    "citint": 5000,
    "synthetic": 12000,
    "synthetic_news": 9000,
}

#: HaluEval summarisation train documents segmented for synthetic pairs (pysbd is slow).
NEWS_DOCS = 1500


class Mix:
    """Training pairs, calibration pairs and responses, and what was trained on / held out."""

    def __init__(self) -> None:
        self.train: list[Example] = []
        self.calib_pairs: list[Example] = []
        self.calib_responses: list[tuple[str, str, int]] = []
        self.trained_on: list[str] = []
        self.held_out: list[str] = []
        self.calibrated_on: list[str] = []

    def counts(self) -> dict[str, int]:
        """Training pairs per source."""
        return dict(sorted(Counter(e.source for e in self.train).items()))


def repeat_option(text: str) -> tuple[str, int]:
    """One ``--repeat SOURCE=N`` option (an argparse ``type``): ``(source, N)``."""
    source, _, times = text.partition("=")
    if not source or not times.isdigit():
        raise argparse.ArgumentTypeError(f"--repeat takes SOURCE=N, got {text!r}")
    return source, int(times)


def _cap(items: list[Example], n: int, rng: random.Random) -> list[Example]:
    return rng.sample(items, n) if len(items) > n else list(items)


def _repeat(mix: Mix, times: Mapping[str, int]) -> None:
    known = mix.counts()
    for source, n in sorted(times.items()):
        if source not in known:
            raise ConfigError(
                f"no training pairs come from {source!r}; sources: {', '.join(known)}",
                loc=("repeat", source),
            )
        if n < 1:
            raise ConfigError(f"repeat must be at least 1, got {n}", loc=("repeat", source))
        mix.train += [e for e in mix.train if e.source == source] * (n - 1)
        mix.trained_on.append(f"{source} pairs seen {n}x")


def _citint_docs(root: Path) -> list[list[str]]:
    """Abstracts not cited by dev or test claims: sentences for synthetic pairs."""
    banned: set[int] = set()
    for split in ("dev", "test"):
        with (root / f"claims_{split}.jsonl").open(encoding="utf-8") as fh:
            for r in map(json.loads, fh):
                banned |= {int(d) for d in r.get("cited_doc_ids", [])}
                banned |= {int(d) for d in (r.get("evidence") or {})}
    return [r["abstract"] for d, r in load_corpus(root).items() if d not in banned]


def build_mix(
    data: Path,
    seed: int,
    scale: float = 1.0,
    calib_rows: int = 150,
    repeat: Mapping[str, int] | None = None,
) -> Mix:
    """The default recipe: every set of ``data/nli``, HaluEval, CitInt and synthetic pairs.

    ``repeat`` shows the pairs of a source (a key of :meth:`Mix.counts`) that many times in all,
    to lean a further training stage towards a weak task without new data.
    """
    rng = random.Random(seed)
    mix = Mix()
    caps = {k: max(min(v, 1), int(v * scale)) for k, v in CAPS.items()}
    for name, reader in NLI_READERS.items():
        train, held = reader(data / "nli")
        mix.train += _cap(train, caps[name], rng)
        if train:
            mix.trained_on.append(f"nli/{name} (train part, <= {caps[name]} pairs)")
        if held:
            mix.held_out.append(f"nli/{name} (held-out part, {len(held)} pairs)")
        log.info("%s: %d train, %d held out", name, len(train), len(held))
    max_rows = None if scale >= 1 else max(10, int(4000 * scale))
    halu = halueval_pairs(data / "halueval", "train", seed, max_rows=max_rows)
    mix.train += _cap(halu, caps["halueval"], rng)
    mix.trained_on.append("halueval rows i % 5 in {2,3,4} (length-balanced)")
    mix.held_out.append("halueval rows i % 5 == 0 (test, never read in training)")
    cit = citint_pairs(data / "citint", "train")
    mix.train += _cap(cit + cit, caps["citint"], rng)  # small and on-target: seen twice
    mix.trained_on.append("citint claims_train")
    mix.held_out.append("citint claims_test")
    mix.train += synthetic_pairs(_citint_docs(data / "citint"), caps["synthetic"], seed)
    mix.trained_on.append("synthetic pairs from citint abstracts not cited by dev/test claims")
    news = news_documents(data / "halueval", max(10, int(NEWS_DOCS * scale)))
    mix.train += [
        Example(e.evidence, e.claim, e.label, e.source.replace("synthetic", "synthetic_news"))
        for e in synthetic_pairs(news, caps["synthetic_news"], seed + 1)
    ]
    mix.trained_on.append("synthetic pairs from halueval summarization train documents (news)")
    _repeat(mix, repeat or {})
    rng.shuffle(mix.train)
    calibration_data(mix, data, rng, calib_rows)
    return mix


def calibration_data(mix: Mix, data: Path, rng: random.Random, calib_rows: int) -> None:
    """Fill ``mix`` with calibration pairs and responses (never trained on, never test)."""
    mix.calib_pairs = citint_pairs(data / "citint", "dev")
    for task in TASKS:
        picked = [r for _, r in rows(data / "halueval", task, "calibration")]
        for row in rng.sample(picked, min(calib_rows, len(picked))):
            for ctx, resp, bad in response_pairs(task, row):
                mix.calib_responses.append((ctx, resp, bad))
                if task != "summarization":
                    label = UNSUPPORTED if bad else SUPPORTED
                    mix.calib_pairs.append(Example(ctx, resp, label, f"halueval_{task}"))
    mix.calibrated_on = ["citint claims_dev", "halueval rows i % 5 == 1 (sampled)"]
    mix.held_out.append("citint claims_dev and halueval rows i % 5 == 1 (calibration only)")


_USER_LABELS = {
    "supported": SUPPORTED,
    "entailment": SUPPORTED,
    "contradicted": CONTRADICTED,
    "contradiction": CONTRADICTED,
    "not_enough_info": NOT_ENOUGH_INFO,
    "neutral": NOT_ENOUGH_INFO,
    "unsupported": UNSUPPORTED,
    "hallucinated": UNSUPPORTED,
}


def read_user_pairs(path: Path, seed: int) -> Mix:
    """A user's labelled pairs (``evidence``, ``claim``, ``label`` per JSON line) as a mix.

    A stable 20 % (by hash) is kept out of training for calibration and the threshold.
    """
    mix = Mix()
    for n, row in json_objects(path, ("evidence", "claim", "label")):
        label = _USER_LABELS.get(row["label"].strip().lower())
        if label is None:
            known = ", ".join(sorted(_USER_LABELS))
            raise ConfigError(
                f"unknown label {row['label']!r}; known: {known}",
                file=str(path),
                line=n,
                loc=("label",),
            )
        ex = Example(row["evidence"], row["claim"], label, "user")
        if bucket(f"{seed}{ex.evidence}{ex.claim}", 5) == 0:
            mix.calib_pairs.append(ex)
            mix.calib_responses.append((ex.evidence, ex.claim, int(label != SUPPORTED)))
        else:
            mix.train.append(ex)
    if not mix.train or len(mix.calib_pairs) < 2:
        raise ConfigError(
            "need more labelled pairs (at least a handful in each split)", file=str(path)
        )
    kinds = {unsupported for _, _, unsupported in mix.calib_responses}
    if len(kinds) < 2:  # a threshold fitted on one kind flags everything or nothing
        held = len(mix.calib_pairs)
        which = "unsupported" if 1 in kinds else "supported"
        raise ConfigError(
            f"the calibration split ({held} pairs, 20 % by hash) holds only {which} pairs: "
            "the risk threshold needs both supported and other pairs",
            file=str(path),
            hint="add labelled pairs of both kinds, or try another --seed",
        )
    random.Random(seed).shuffle(mix.train)
    mix.trained_on = [f"user pairs {path.name} (80 %)"]
    mix.calibrated_on = [f"user pairs {path.name} (20 % by hash)"]
    mix.held_out = mix.calibrated_on
    return mix
