"""Not-enough-info pairs from retrieved sentences that are not evidence (``retrieved.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from guardkit.verifier.training.examples import NOT_ENOUGH_INFO
from guardkit.verifier.training.retrieved import citint_retrieved, fm2_retrieved

torch.set_num_threads(1)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_fm2_pairs_leave_out_the_gold_evidence_and_repeat_nothing(tmp_path: Path) -> None:
    evidence = [
        {"section_header": "Plot", "text": "The film was shot in Bombay."},
        {"section_header": "Plot", "text": "The  film was shot in BOMBAY."},  # gold, respaced
        {"section_header": "Release", "text": "It opened in 1982."},
        {"section_header": "Release", "text": "It opened in 1982."},
        {"section_header": "Cast", "text": "Ben Kingsley played the lead."},
    ]
    _write_jsonl(
        tmp_path / "fm2/dataset/dev.jsonl",
        [
            {
                "text": "The film was shot in India.",
                "label": "SUPPORTS",
                "gold_evidence": [evidence[0]],
                "retrieved_evidence": evidence,
            }
        ],
    )
    pairs = fm2_retrieved(tmp_path, per_claim=5, seed=1)
    assert sorted(p.evidence for p in pairs) == [
        "Ben Kingsley played the lead.",
        "It opened in 1982.",
    ]
    assert {(p.claim, p.label, p.source) for p in pairs} == {
        ("The film was shot in India.", NOT_ENOUGH_INFO, "fm2_retrieved")
    }
    assert len(fm2_retrieved(tmp_path, per_claim=1, seed=1)) == 1
    assert fm2_retrieved(tmp_path, 1, seed=3) == fm2_retrieved(tmp_path, 1, seed=3)


def test_citint_pairs_never_come_from_a_paper_the_claim_cites(tmp_path: Path) -> None:
    docs = {
        1: ["Statins lower LDL cholesterol in adults.", "The trial enrolled 400 adults."],
        2: ["Statins lowered LDL cholesterol by a third.", "Muscle pain was rare."],
        3: ["Exercise lowers blood pressure.", "Cholesterol fell with diet alone."],
    }
    _write_jsonl(
        tmp_path / "claims_train.jsonl",
        [
            {
                "claim": "Statins lower LDL cholesterol [<|cit|>].",
                "cited_doc_ids": [1],
                "evidence": {"1": [{"sentences": [0], "label": "SUPPORT"}]},
            }
        ],
    )
    pairs = citint_retrieved(tmp_path, docs, per_claim=2, seed=0)
    assert len(pairs) == 2
    assert all(p.claim == "Statins lower LDL cholesterol." for p in pairs)
    assert all(p.label == NOT_ENOUGH_INFO and p.source == "citint_retrieved" for p in pairs)
    assert not {p.evidence for p in pairs} & set(docs[1])
