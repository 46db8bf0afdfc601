from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from guardkit.cli import app
from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier

torch.set_num_threads(1)


@pytest.mark.slow
def test_models_train_on_user_pairs(tmp_path: Path) -> None:
    """``guardkit models train`` end to end on a tiny random encoder: train, export, calibrate."""
    from transformers import BertConfig, BertModel

    base = tmp_path / "base"
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(base)
    shutil.copyfile(DEFAULT_MODEL / "tokenizer.json", base / "tokenizer.json")
    rng = random.Random(0)
    cities = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito"]
    lines = []
    for i in range(80):
        a, b = rng.sample(cities, 2)
        ev = f"The office number {i} is in {a}."
        lines.append({"evidence": ev, "claim": f"Office {i} is in {a}.", "label": "supported"})
        lines.append({"evidence": ev, "claim": f"Office {i} is in {b}.", "label": "contradicted"})
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "adapted"
    result = CliRunner().invoke(
        app,
        [
            "models", "train", "--pairs", str(pairs), "--base", str(base), "--out", str(out),
            "--budget-minutes", "0.3", "--threads", "1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    verifier = OnnxVerifier(out, intra_op_threads=1)
    m = verifier.manifest
    assert m.training is not None and m.training.steps > 0
    assert m.training.trained_on == ["user pairs pairs.jsonl (80 %)"]
    assert m.calibration.method == "temperature"
    assert 0.0 <= m.threshold <= 1.0
    assert len(verifier.predict([("The office is in Oslo.", "It is in Oslo.")])) == 1
