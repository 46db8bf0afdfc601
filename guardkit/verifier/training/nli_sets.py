"""Readers for the 14 public NLI and claim-verification sets in ``shared/data/nli``.

Each reader returns ``(train, heldout)`` lists of :class:`Example`. What is held out is fixed here
and recorded in the model manifest: official test splits where a set has one, a stable 20 % hash
split where it has not. See ``nli/SOURCES.md`` for formats and licences.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from guardkit.verifier.training.examples import (
    CONTRADICTED,
    NOT_ENOUGH_INFO,
    SUPPORTED,
    UNSUPPORTED,
    Example,
    bucket,
)

__all__ = ["NLI_READERS", "read_nli"]

Split = tuple[list[Example], list[Example]]

_THREE_WAY: dict[str, int] = {
    "entailment": SUPPORTED,
    "contradiction": CONTRADICTED,
    "neutral": NOT_ENOUGH_INFO,
    "e": SUPPORTED,
    "c": CONTRADICTED,
    "n": NOT_ENOUGH_INFO,
    "supports": SUPPORTED,
    "refutes": CONTRADICTED,
    "not_entailment": UNSUPPORTED,
    "true": SUPPORTED,
    "false": CONTRADICTED,
    "unknown": NOT_ENOUGH_INFO,
    "uncertain": NOT_ENOUGH_INFO,
}

csv.field_size_limit(10**8)


def _ex(evidence: str, claim: str, label: str, source: str) -> Example | None:
    code = _THREE_WAY.get(label.strip().lower())
    evidence, claim = evidence.strip(), claim.strip()
    if code is None or not evidence or not claim:
        return None
    return Example(evidence, claim, code, source)


def _keep(items: Iterator[Example | None]) -> list[Example]:
    return [e for e in items if e is not None]


def _hash_split(items: list[Example], name: str, heldout_pct: int = 20) -> Split:
    train: list[Example] = []
    held: list[Example] = []
    for e in items:
        (held if bucket(name + e.evidence + e.claim, 100) < heldout_pct else train).append(e)
    return train, held


def _tsv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _esnli(root: Path) -> Split:
    base = root / "esnli/dataset/eSNLI"

    def read(split: str) -> list[Example]:
        s1 = (base / f"s1.{split}").read_text().splitlines()
        s2 = (base / f"s2.{split}").read_text().splitlines()
        labels = (base / f"labels.{split}").read_text().splitlines()
        return _keep(_ex(a, b, c, "esnli") for a, b, c in zip(s1, s2, labels, strict=True))

    return read("dev"), read("test")


def _cad_snli(root: Path) -> Split:
    base = root / "cad_snli/NLI/all_combined"

    def read(split: str) -> list[Example]:
        rows = _tsv(base / f"{split}.tsv")
        return _keep(_ex(r["sentence1"], r["sentence2"], r["gold_label"], "cad_snli") for r in rows)

    return read("train") + read("dev"), read("test")


def _docnli(root: Path) -> Split:
    def read(sub: str, split: str) -> list[Example]:
        out = []
        path = root / f"docnli_aux/Data/{sub}/{split}.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                out.append(_ex(parts[1], parts[2], parts[0], f"docnli_{sub}"))
        return _keep(iter(out))

    train = read("binary-MNLI", "dev") + read("binary-FEVER-NLI", "dev")
    held = read("binary-MNLI", "test") + read("binary-FEVER-NLI", "test")
    return train, held


def _fm2(root: Path) -> Split:
    def read(split: str) -> list[Example]:
        out = []
        with (root / f"fm2/dataset/{split}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                evidence = " ".join(e["text"] for e in r["gold_evidence"])
                out.append(_ex(evidence, r["text"], r["label"], "fm2"))
        return _keep(iter(out))

    return read("dev"), read("test")


def _fever_symmetric(root: Path) -> Split:
    held = []
    with (root / "fever_symmetric/symmetric_v0.2/fever_symmetric_test.jsonl").open() as fh:
        for line in fh:
            r = json.loads(line)
            held.append(_ex(r["evidence"], r["claim"], r["gold_label"], "fever_symmetric"))
    return [], _keep(iter(held))


def _folio(root: Path) -> Split:
    def read(split: str) -> list[Example]:
        out = []
        with (root / f"folio/data/v0.0/folio-{split}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                out.append(_ex(" ".join(r["premises"]), r["conclusion"], r["label"], "folio"))
        return _keep(iter(out))

    return read("train"), read("validation")


def _conjnli(root: Path) -> Split:
    base = root / "conjnli/data/NLI"
    human = _keep(
        _ex(r["Premise"], r["Hypothesis"], r["Label"], "conjnli")
        for r in _tsv(base / "conj_dev.tsv")
    )
    adv = _keep(
        _ex(r["Premise"], r["Hypothesis"], r["Label"], "conjnli_adv")
        for r in _tsv(base / "adversarial_train_15k.tsv")
    )
    adv = [e for e in adv if bucket(e.claim, 3) == 0]  # a third: machine-made, keep it a minor part
    train, held = _hash_split(human, "conjnli", 30)
    return train + adv, held


def _breaking_nli(root: Path) -> Split:
    rows: list[Example | None] = []
    with zipfile.ZipFile(root / "breaking_nli/breaking_nli_dataset.zip") as zf:
        name = next(n for n in zf.namelist() if n.endswith("dataset.jsonl"))
        for line in zf.read(name).decode("utf-8").splitlines():
            r = json.loads(line)
            rows.append(_ex(r["sentence1"], r["sentence2"], r["gold_label"], "breaking_nli"))
    return _hash_split(_keep(iter(rows)), "breaking_nli")


def _med(root: Path) -> Split:
    rows = _tsv(root / "med/MED.tsv")
    items = _keep(_ex(r["sentence1"], r["sentence2"], r["gold_label"], "med") for r in rows)
    # MED's "neutral" merges neutral and contradiction: a partial label.
    items = [Example(e.evidence, e.claim, UNSUPPORTED, e.source) if e.label else e for e in items]
    return _hash_split(items, "med")


def _negation(root: Path) -> Split:
    base = root / "negation_nli/data/new_benchmarks/clean_data"

    def read(name: str) -> list[Example]:
        text = (base / f"{name}.txt").read_text(encoding="latin-1").replace("\r\n", "\n")
        rows = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
        return _keep(
            _ex(r["Text"], r["Hypothesis"], r["gold_label"], f"negation_{name}") for r in rows
        )

    return read("SNLI") + read("MNLI"), read("RTE")


def linearize_table(table: dict[str, list[str]]) -> str:
    """An InfoTabs infobox as text: ``Title. Key: v1, v2. Key: v.``"""
    title = ", ".join(table.get("title", []))
    parts = [f"{title}." if title else ""]
    parts += [f"{k}: {', '.join(v)}." for k, v in table.items() if k != "title"]
    return " ".join(p for p in parts if p)


def _infotabs(root: Path) -> Split:
    base = root / "infotabs/data"
    cache: dict[str, str] = {}

    def table(tid: str) -> str:
        if tid not in cache:
            raw = json.loads((base / f"tables/json/{tid}.json").read_text(encoding="utf-8"))
            cache[tid] = linearize_table(raw)
        return cache[tid]

    def read(name: str) -> list[Example]:
        rows = _tsv(base / f"maindata/infotabs_{name}.tsv")
        return _keep(
            _ex(table(r["table_id"]), r["hypothesis"], r["label"], "infotabs") for r in rows
        )

    return read("train") + read("dev"), read("test_alpha1")


def _contract_nli(root: Path) -> Split:
    base = root / "contract_nli/data/contract-nli"
    choice = {
        "Entailment": "entailment",
        "Contradiction": "contradiction",
        "NotMentioned": "neutral",
    }

    def read(name: str) -> list[Example]:
        data = json.loads((base / f"{name}.json").read_text(encoding="utf-8"))
        hyps = {k: v["hypothesis"] for k, v in data["labels"].items()}
        out = []
        for doc in data["documents"]:
            spans = [doc["text"][a:b] for a, b in doc["spans"]]
            for key, ann in doc["annotation_sets"][0]["annotations"].items():
                idx = ann.get("spans") or []
                if not idx:  # not mentioned: a stable slice of the document stands in as evidence
                    start = bucket(doc["id"].__str__() + key, max(1, len(spans) - 4))
                    idx = list(range(start, min(len(spans), start + 4)))
                evidence = " ".join(spans[i].strip() for i in idx)
                out.append(_ex(evidence, hyps[key], choice[ann["choice"]], "contract_nli"))
        return _keep(iter(out))

    return read("train_truncated") + read("dev"), read("test")


def _begin(root: Path) -> Split:
    labels = {"fully attributable": "entailment", "not fully attributable": "not_entailment"}

    def read(path: Path) -> list[Example]:
        rows = _tsv(path)
        return _keep(
            _ex(r["knowledge"], r["response"], labels.get(r["begin_label"].lower(), ""), "begin")
            for r in rows
        )

    train = read(root / "begin/wow/begin_dev_wow.tsv") + read(
        root / "begin/cmu-dog/begin_dev_cmu.tsv"
    )
    return train, read(root / "begin/wow/begin_test_wow.tsv")


def _faithdial(root: Path) -> Split:
    base = root / "faithdial_audit/data-audit"
    train: list[Example | None] = []
    for path in sorted(base.glob("[CDG]*/*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                text = next(v for k, v in r.items() if k in {"ctrl", "doha", "gpt2", "response"})
                lab = r.get("begin_label", "").strip().lower()
                code = {"entailment": "entailment", "hallucination": "not_entailment"}.get(lab, "")
                train.append(_ex(r["knowledge"], text, code, "faithdial"))
    held: list[Example | None] = []
    gold = {"entailment": "entailment", "hallucination": "not_entailment"}
    for path in sorted((base / "gold").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                code = gold.get(r.get("BEGIN", "").strip().lower(), "")
                held.append(_ex(r["evidence"], r["response"], code, "faithdial_gold"))
    return _keep(iter(train)), _keep(iter(held))


NLI_READERS: dict[str, Callable[[Path], Split]] = {
    "begin": _begin,
    "breaking_nli": _breaking_nli,
    "cad_snli": _cad_snli,
    "conjnli": _conjnli,
    "contract_nli": _contract_nli,
    "docnli_aux": _docnli,
    "esnli": _esnli,
    "faithdial_audit": _faithdial,
    "fever_symmetric": _fever_symmetric,
    "fm2": _fm2,
    "folio": _folio,
    "infotabs": _infotabs,
    "med": _med,
    "negation_nli": _negation,
}


def read_nli(root: Path) -> dict[str, Split]:
    """Every set under ``root`` (the ``nli`` folder), by name."""
    return {name: reader(root) for name, reader in NLI_READERS.items()}
