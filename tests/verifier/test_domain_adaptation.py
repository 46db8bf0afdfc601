from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import torch
from support.pairs import office_pairs
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
    pairs = office_pairs(tmp_path / "pairs.jsonl", 80)
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


PARITY_PAIRS = [
    ("The Eiffel Tower is in Paris.", "The Eiffel Tower is in Rome."),
    ("Refunds are issued within 14 days of the return.", "Refunds take 14 days."),
    ("The film was released in 1994 and directed by Frank Darabont.", "Darabont directed it."),
    ("Our office in Lyon opens at 9 am on weekdays.", "The Lyon office opens at 11 am."),
    ("Water boils at 100 degrees Celsius at sea level.", "Penguins live in Antarctica."),
]


def test_shipped_model_is_trainable_from_its_onnx_weights() -> None:
    """The default verifier's int8 weights, dequantized into torch, give the ONNX model's logits."""
    import numpy as np
    from tokenizers import Tokenizer

    from guardkit.verifier.training.model import load_trainable

    model, tok_file = load_trainable(DEFAULT_MODEL)
    model.eval()
    tokenizer = Tokenizer.from_file(str(tok_file))
    verifier = OnnxVerifier(DEFAULT_MODEL, intra_op_threads=1)
    diffs = []
    for evidence, claim in PARITY_PAIRS:
        enc = tokenizer.encode(evidence, claim)
        ids = torch.tensor([enc.ids])
        types = torch.tensor([enc.type_ids])
        mask = torch.ones_like(ids)
        with torch.no_grad():
            ours = model(ids, mask, types).numpy()[0]
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        theirs = verifier.session.run(None, {k: v.numpy() for k, v in feeds.items()})[0][0]
        assert ours.argmax() == theirs.argmax(), (evidence, claim, ours, theirs)
        diffs.append(float(np.abs(ours - theirs).max()))
    # int8 activations in onnxruntime, fp32 in torch: close, not equal.
    assert max(diffs) < 0.75, diffs
    assert float(np.mean(diffs)) < 0.4, diffs


def test_onnx_folder_of_another_model_is_refused(model_copy: Path) -> None:
    """An exported third-party NLI model (other labels, no guardkit training) cannot be a base."""
    from guardkit.errors import ModelError
    from guardkit.verifier.manifest import read_manifest, write_manifest
    from guardkit.verifier.training.model import load_trainable

    manifest = read_manifest(model_copy)
    write_manifest(model_copy, manifest.model_copy(update={"training": None}))
    with pytest.raises(ModelError, match="only a verifier trained by guardkit") as err:
        load_trainable(model_copy)
    assert err.value.file == str(model_copy / "manifest.json")


def test_onnx_base_with_wrong_hash_is_refused(model_copy: Path) -> None:
    from guardkit.errors import ModelError
    from guardkit.verifier.training.model import load_trainable

    with (model_copy / "model.onnx").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        load_trainable(model_copy)


def test_folder_without_weights_is_refused(tmp_path: Path) -> None:
    from guardkit.errors import ModelError
    from guardkit.verifier.training.model import load_trainable

    with pytest.raises(ModelError, match="no trainable weights here"):
        load_trainable(tmp_path)


@pytest.mark.slow
def test_models_train_adapts_the_shipped_verifier_by_default(tmp_path: Path) -> None:
    """Without ``--base`` the shipped verifier's own weights are the starting point."""
    rng = random.Random(1)
    cities = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito", "Riga", "Bern"]
    lines = []
    for i in range(60):
        a, b = rng.sample(cities, 2)
        ev = f"Parcel {i} is shipped from our warehouse in {a} within two days."
        lines.append({"evidence": ev, "claim": f"Parcel {i} ships from {a}.", "label": "supported"})
        lines.append(
            {"evidence": ev, "claim": f"Parcel {i} ships from {b}.", "label": "contradicted"}
        )
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "adapted"
    result = CliRunner().invoke(
        app,
        ["models", "train", "--pairs", str(pairs), "--out", str(out), "--budget-minutes", "0.2",
         "--threads", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    training = OnnxVerifier(out, intra_op_threads=1).manifest.training
    assert training is not None and training.steps > 0
    shipped = OnnxVerifier(DEFAULT_MODEL, intra_op_threads=1).manifest.name
    assert training.base_model.startswith(f"{shipped} (")
    assert "dequantized" in training.base_model


def test_models_train_names_bases_and_refuses_to_train_over_one(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps({"evidence": f"Office {i} is in Oslo.", "claim": c, "label": label}) + "\n"
            for i in range(20)
            for c, label in (
                (f"Office {i} is in Oslo.", "supported"),
                ("It rains.", "not_enough_info"),
            )
        )
    )
    args = ["models", "train", "--pairs", str(pairs), "--budget-minutes", "0.1"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o"), "--base", "nowhere"])
    assert result.exit_code == 2 and "no such base model folder" in result.output
    assert not (tmp_path / "o").exists()
    own = tmp_path / "own"
    shutil.copytree(DEFAULT_MODEL, own)
    for out in (own, own.parent):
        result = CliRunner().invoke(app, [*args, "--out", str(out), "--base", str(own)])
        assert result.exit_code == 2 and "over its own base" in result.output


def test_a_fine_tuned_student_keeps_its_distillation_record(tmp_path: Path) -> None:
    from guardkit.verifier.manifest import Distillation, read_manifest, write_manifest
    from guardkit.verifier.training.pipeline import _distilled

    student = tmp_path / "student"
    shutil.copytree(DEFAULT_MODEL, student)
    manifest = read_manifest(student)
    record = Distillation(
        teacher="t", teacher_sha256="0" * 64, layers=[0, 3, 5], weight=0.7, temperature=2.0
    )
    assert manifest.training is not None
    training = manifest.training.model_copy(update={"distillation": record})
    write_manifest(student, manifest.model_copy(update={"training": training}))
    assert _distilled(student) == record == _distilled(student / "checkpoint")
    assert _distilled(DEFAULT_MODEL) is None and _distilled(tmp_path / "hf-folder") is None


def test_a_failed_training_leaves_the_model_at_out_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardkit.verifier.training import TrainConfig, run

    out = tmp_path / "adapted"
    shutil.copytree(DEFAULT_MODEL, out)
    before = (out / "manifest.json").read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("guardkit.verifier.training.pipeline.finish", broken)
    pairs = office_pairs(tmp_path / "pairs.jsonl", 20)
    with pytest.raises(OSError, match="disk full"):
        run(out, pairs=pairs, cfg=TrainConfig(budget_minutes=0.05, threads=1))
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapted", "pairs.jsonl"]
