from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from guardkit.errors import ModelError
from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier
from guardkit.verifier.export import PARITY_PAIRS, export_folder

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised BERT NLI classifier, as a local Hugging Face folder (no download)."""
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny_hf")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=3,
        id2label={0: "contradiction", 1: "entailment", 2: "neutral"},
        label2id={"contradiction": 0, "entailment": 1, "neutral": 2},
    )
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    shutil.copyfile(DEFAULT_MODEL / "tokenizer.json", folder / "tokenizer.json")
    return folder


@pytest.mark.parametrize("int8", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_export_round_trip_with_parity(tiny_hf: Path, tmp_path: Path, int8: bool) -> None:
    out = tmp_path / "exported"
    manifest = export_folder(tiny_hf, out, int8=int8)
    assert manifest.labels == ["contradiction", "entailment", "neutral"]
    assert manifest.label_map == {
        "contradiction": "contradicted",
        "entailment": "supported",
        "neutral": "not_enough_info",
    }
    fp32 = manifest.parity[0]
    assert fp32.compared == "torch fp32 vs onnx fp32"
    assert fp32.n_pairs == len(PARITY_PAIRS)
    assert fp32.max_abs_diff < 1e-4
    assert fp32.argmax_agreement == 1.0
    if int8:
        assert manifest.quantized
        assert manifest.parity[1].max_abs_diff < 0.1
    verifier = OnnxVerifier(out, intra_op_threads=1)
    (p,) = verifier.predict([PARITY_PAIRS[0]])
    assert abs(p.supported + p.contradicted + p.not_enough_info - 1) < 1e-6


def test_export_rejects_a_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no config\.json"):
        export_folder(tmp_path, tmp_path / "out")


def test_export_rejects_a_folder_without_tokenizer(tiny_hf: Path, tmp_path: Path) -> None:
    broken = tmp_path / "hf"
    shutil.copytree(tiny_hf, broken)
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"missing tokenizer\.json"):
        export_folder(broken, tmp_path / "out")


def test_a_failed_export_leaves_the_model_at_out_intact(tiny_hf: Path, tmp_path: Path) -> None:
    """Labels it cannot map fail before anything is written; nothing half-made is left."""
    import json

    unnamed = tmp_path / "hf"
    shutil.copytree(tiny_hf, unnamed)
    config = json.loads((unnamed / "config.json").read_text())
    config["id2label"] = {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    config["label2id"] = {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}
    (unnamed / "config.json").write_text(json.dumps(config))
    victim = tmp_path / "victim"
    shutil.copytree(DEFAULT_MODEL, victim)
    before = {p.name: p.read_bytes() for p in victim.iterdir()}
    for out in (victim, tmp_path / "new"):
        with pytest.raises(ModelError, match="cannot map the model label 'LABEL_0'") as err:
            export_folder(unnamed, out)
        assert "id2label" in (err.value.hint or "")
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == before
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "victim"]


def test_an_export_failing_midway_leaves_no_trace(
    tiny_hf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardkit.verifier import export

    def broken(*_: object) -> None:
        raise RuntimeError("the ONNX exporter failed")

    monkeypatch.setattr(export, "_torch_export", broken)
    victim = tmp_path / "victim"
    shutil.copytree(DEFAULT_MODEL, victim)
    before = {p.name: p.read_bytes() for p in victim.iterdir()}
    with pytest.raises(RuntimeError, match="exporter failed"):
        export_folder(tiny_hf, victim)
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["victim"]  # no scratch folder left
