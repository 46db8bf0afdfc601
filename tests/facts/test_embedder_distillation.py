"""Distilling a shallower embedder: its texts, its settings, and one real (tiny) run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from guardkit.errors import ConfigError, ModelError
from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER, OnnxEmbedder, read_embedder_manifest
from guardkit.facts.training.corpora import distillation_texts
from guardkit.facts.training.distill import DistillConfig, distill_embedder


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _data(root: Path) -> Path:
    """A miniature ``shared/data``: which rows may be learnt from is the point."""
    citint = root / "citint"
    _jsonl(
        citint / "corpus.jsonl",
        [
            {"doc_id": 1, "title": "a", "abstract": ["Free abstract sentence one."]},
            {"doc_id": 2, "title": "b", "abstract": ["Sentence of a dev-cited abstract."]},
            {"doc_id": 3, "title": "c", "abstract": ["Sentence of a test evidence abstract."]},
        ],
    )
    _jsonl(
        citint / "claims_train.jsonl",
        [{"claim": "A train claim<|cit|>.", "evidence": {}, "cited_doc_ids": [1]}],
    )
    _jsonl(
        citint / "claims_dev.jsonl",
        [{"claim": "A dev claim.", "evidence": {}, "cited_doc_ids": [2]}],
    )
    _jsonl(
        citint / "claims_test.jsonl",
        [{"claim": "A test claim.", "evidence": {"3": []}, "cited_doc_ids": []}],
    )
    halueval = root / "halueval"
    for task, field in (
        ("qa", "knowledge"),
        ("dialogue", "knowledge"),
        ("summarization", "document"),
    ):
        rows = [{field: f"{task} row {i} says a thing. It says another."} for i in range(6)]
        _jsonl(halueval / f"{task}.jsonl", rows)
    return root


def test_texts_come_from_training_rows_only(tmp_path: Path) -> None:
    texts, about = distillation_texts(_data(tmp_path), per_source=100)
    assert "Free abstract sentence one." in texts
    assert "A train claim." in texts  # citation markers removed
    assert not any("dev" in t or "test" in t for t in texts)
    for task in ("qa", "dialogue", "summarization"):
        assert f"{task} row 1 says a thing." in texts and "It says another." in texts
        assert not any(t.startswith(f"{task} row 0 ") or f"{task} row 5 " in t for t in texts)
    assert len(texts) == len(set(texts))
    assert "citint 2" in about and "qa 5" in about and "dialogue 4" in about


def test_texts_are_capped_per_source_and_seeded(tmp_path: Path) -> None:
    data = _data(tmp_path)
    first, _ = distillation_texts(data, per_source=2, seed=1)
    again, _ = distillation_texts(data, per_source=2, seed=1)
    assert first == again and len(first) == 8


def test_missing_and_malformed_data_files_are_named(tmp_path: Path) -> None:
    data = _data(tmp_path)
    (data / "halueval" / "dialogue.jsonl").write_text('{"knowledge": "x"}\n{oops\n')
    with pytest.raises(ConfigError, match="bad JSON") as err:
        distillation_texts(data, per_source=5)
    assert err.value.file is not None and err.value.file.endswith("dialogue.jsonl")
    assert err.value.line == 2
    (data / "citint" / "claims_dev.jsonl").unlink()
    with pytest.raises(ConfigError, match="missing data file"):
        distillation_texts(data, per_source=5)


@pytest.mark.parametrize("layers", [(), (1, 1), (-1, 2), (5, 3, 0)])
def test_layer_choices_are_checked(layers: tuple[int, ...]) -> None:
    with pytest.raises(ValidationError, match="layers"):
        DistillConfig(layers=layers)


def test_too_few_texts_and_a_wrong_teacher_fail_before_training(tmp_path: Path) -> None:
    texts = [f"sentence number {i}" for i in range(300)]
    with pytest.raises(ConfigError, match="distinct text"):
        distill_embedder(["same"] * 500, DEFAULT_EMBEDDER, tmp_path / "out")
    with pytest.raises(ModelError, match="manifest"):
        distill_embedder(texts, tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match="teacher's folder"):
        distill_embedder(texts, DEFAULT_EMBEDDER, DEFAULT_EMBEDDER)
    with pytest.raises(ConfigError, match="--save-source is the teacher's folder"):
        distill_embedder(texts, DEFAULT_EMBEDDER, tmp_path / "o", source_out=DEFAULT_EMBEDDER)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not an empty folder"):
        distill_embedder(texts, DEFAULT_EMBEDDER, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "5,3,0"], "--layers: .*ascending"),
        (["--layers", "0,9"], r"--layers 0,9: the base model has layers 0\.\.5"),
        (["--layers", "x"], "--layers 'x': give layer numbers"),
        (["--epochs", "0"], "--epochs: Input should be greater"),
        (["--per-source", "0"], "--per-source must be at least 1"),
    ],
)
def test_the_recipe_refuses_bad_options_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    from guardkit.facts.training.distill import main

    with pytest.raises(SystemExit) as exit_:
        main(["--data", str(_data(tmp_path / "d")), "--out", str(tmp_path / "s"), *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not (tmp_path / "s").exists()


def test_a_layer_the_base_lacks_is_refused(tmp_path: Path) -> None:
    texts = [f"sentence number {i}" for i in range(300)]
    with pytest.raises(ConfigError, match=r"layers 0\.\.5"):
        distill_embedder(
            texts, DEFAULT_EMBEDDER, tmp_path / "out", config=DistillConfig(layers=(0, 6))
        )


@pytest.mark.slow
def test_a_one_layer_student_moves_toward_its_teacher(tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    texts = [
        f"The {thing} in room {n} was {state} on day {n % 7}."
        for n in range(40)
        for thing, state in (("printer", "broken"), ("window", "open"), ("light", "off"))
    ]
    config = DistillConfig(layers=(0,), batch_size=16, lr=3e-4, epochs=2, held_out=0.1, threads=1)
    manifest = distill_embedder(
        texts, DEFAULT_EMBEDDER, tmp_path / "s", config=config, source_out=tmp_path / "src"
    )
    record = manifest.distillation
    assert (tmp_path / "src" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "src" / "guardkit-distillation.json").read_text())["layers"] == [
        0
    ]
    assert record is not None and record.layers == [0]
    assert record.texts + record.held_out == len(texts) and record.held_out == 12
    assert record.teacher_sha256 == read_embedder_manifest(DEFAULT_EMBEDDER).files["model.onnx"]
    assert read_embedder_manifest(tmp_path / "s") == manifest
    assert manifest.max_length == 256  # trained on cut texts, but it embeds as its teacher does
    student, teacher = OnnxEmbedder(tmp_path / "s"), OnnxEmbedder(DEFAULT_EMBEDDER)
    probe = texts[:20]
    after = float((student.encode(probe) * teacher.encode(probe)).sum(1).mean())
    untrained = DistillConfig(layers=(0,), batch_size=16, lr=1e-9, threads=1)
    distill_embedder(texts, DEFAULT_EMBEDDER, tmp_path / "u", config=untrained)
    before = float(
        (OnnxEmbedder(tmp_path / "u").encode(probe) * teacher.encode(probe)).sum(1).mean()
    )
    assert after > before + 0.05, (before, after)
    assert record.held_out_cosine_mean is not None and record.held_out_cosine_mean > before
    assert np.isfinite(record.final_loss)


def test_a_fine_tune_of_a_student_keeps_its_distillation_record(tmp_path: Path) -> None:
    from guardkit.facts.training.distill import DISTILLATION_RECORD
    from guardkit.facts.training.loop import _distillation_of

    assert _distillation_of(tmp_path) is None  # a plain base was never distilled
    record = {
        "teacher_model": "t",
        "teacher_sha256": "0" * 64,
        "base_model": "b",
        "base_sha256": "1" * 64,
        "layers": [0, 3, 5],
        "data": "d",
        "texts": 10,
        "texts_sha256": "2" * 64,
        "held_out": 0,
        "held_out_cosine_mean": None,
        "held_out_cosine_p01": None,
        "epochs": 1,
        "batch_size": 2,
        "lr": 0.1,
        "seed": 0,
        "steps": 1,
        "final_loss": 0.5,
        "seconds": 1.0,
    }
    (tmp_path / DISTILLATION_RECORD).write_text(json.dumps(record))
    found = _distillation_of(tmp_path)
    assert found is not None and found.layers == [0, 3, 5]
    (tmp_path / DISTILLATION_RECORD).write_text(json.dumps({**record, "layers": []}))
    with pytest.raises(ConfigError, match="invalid distillation record") as err:
        _distillation_of(tmp_path)
    assert err.value.file == str(tmp_path / DISTILLATION_RECORD)
