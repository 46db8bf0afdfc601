"""The shipped int8 ONNX embedder: agreement with sentence-transformers, identity, bad folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from guardkit.cli import app
from guardkit.errors import FactIndexError, ModelError
from guardkit.facts import FactIndex, MiniLMEmbedder, OnnxEmbedder, default_embedder
from guardkit.facts._embed import embedder_for
from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER, PLAIN_EMBEDDER

runner = CliRunner()

TEXTS = [
    "Items can be returned within 30 days of delivery.",
    "Express shipping costs 15 dollars and arrives the next day.",
    "All laptops carry a two-year warranty.",
    "The mitochondria is the powerhouse of the cell.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture
def embedder_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "embedder"
    shutil.copytree(DEFAULT_EMBEDDER, folder)
    return folder


def test_default_is_the_shipped_int8_folder() -> None:
    embedder = default_embedder()
    assert isinstance(embedder, OnnxEmbedder) and embedder.folder == DEFAULT_EMBEDDER
    assert embedder.model_id == "guardkit/embedder-minilm-l6-gk1+int8"
    assert embedder.sha256 == embedder.manifest.files["model.onnx"]


def test_int8_vectors_agree_with_sentence_transformers(torch_embedder: MiniLMEmbedder) -> None:
    ours, reference = default_embedder().encode(TEXTS), torch_embedder.encode(TEXTS)
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert float((ours * reference).sum(axis=1).min()) > 0.97
    # Same neighbours: each text's nearest other text is the same under both.
    nearest = []
    for vectors in (ours, reference):
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, -1.0)
        nearest.append(sims.argmax(axis=1).tolist())
    assert nearest[0] == nearest[1]


def test_a_text_embeds_the_same_whatever_it_is_sent_with() -> None:
    embedder = default_embedder()
    alone = np.stack([embedder.encode([t])[0] for t in TEXTS])
    together = embedder.encode([*TEXTS, "a much longer text " * 20])[:4]
    assert np.array_equal(alone, together)
    assert default_embedder().encode([]).shape == (0, 384)


def test_saved_index_reopens_with_the_embedder_it_names(
    tmp_path: Path, kb_file: Path, torch_embedder: MiniLMEmbedder
) -> None:
    FactIndex.build([kb_file], embedder=torch_embedder).save(tmp_path / "torch")
    reopened = FactIndex.load(tmp_path / "torch")
    assert isinstance(reopened.embedder, MiniLMEmbedder)
    assert reopened.search("How long do I have to return an item?", k=1)[0].doc_id == "returns"
    assert embedder_for(default_embedder().model_id) is default_embedder()


def test_an_index_built_before_the_fine_tune_reopens_with_the_plain_embedder(
    tmp_path: Path, kb_file: Path
) -> None:
    FactIndex.build([kb_file], embedder=OnnxEmbedder(PLAIN_EMBEDDER)).save(tmp_path / "plain")
    reopened = FactIndex.load(tmp_path / "plain")
    assert isinstance(reopened.embedder, OnnxEmbedder)
    assert reopened.embedder.folder == PLAIN_EMBEDDER != DEFAULT_EMBEDDER
    assert reopened.search("How long do I have to return an item?", k=1)[0].doc_id == "returns"


def test_tampered_weights_are_refused_on_first_use(embedder_copy: Path) -> None:
    with (embedder_copy / "model.onnx").open("ab") as fh:
        fh.write(b"\0")
    embedder = OnnxEmbedder(embedder_copy)
    with pytest.raises(ModelError) as info:
        embedder.encode(["x"])
    assert info.value.file == str(embedder_copy / "model.onnx")
    assert "sha256 mismatch" in info.value.message


def test_missing_tokenizer_is_named(embedder_copy: Path) -> None:
    (embedder_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelError) as info:
        OnnxEmbedder(embedder_copy).encode(["x"])
    assert info.value.file == str(embedder_copy / "tokenizer.json")
    assert "missing tokenizer.json" in info.value.message


def test_bad_manifest_field_points_at_it(embedder_copy: Path) -> None:
    path = embedder_copy / "manifest.json"
    raw = json.loads(path.read_text())
    raw["dim"] = 0
    path.write_text(json.dumps(raw))
    with pytest.raises(ModelError) as info:
        OnnxEmbedder(embedder_copy)
    assert info.value.file == str(path) and info.value.loc == ("dim",)


def test_cli_lists_and_checks_embedders(embedder_copy: Path) -> None:
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert "embedder guardkit/embedder-minilm-l6-gk1+int8 (default)" in listed.output
    assert "embedder sentence-transformers/all-MiniLM-L6-v2+int8  " in listed.output
    info = runner.invoke(app, ["models", "info", str(embedder_copy)])
    assert info.exit_code == 0, info.output
    assert "ok (hashes checked, model runs)" in info.output
    assert "fine-tuned from sentence-transformers/all-MiniLM-L6-v2: 1995 pairs" in info.output
    (embedder_copy / "model.onnx").write_bytes(b"not onnx")
    broken = runner.invoke(app, ["models", "info", str(embedder_copy)])
    assert broken.exit_code == 2 and "sha256 mismatch" in broken.output


@pytest.mark.slow
def test_export_reproduces_sentence_transformers(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["models", "export-embedder", "--out", str(tmp_path / "e"), "--fp32"]
    )
    assert result.exit_code == 0, result.output
    manifest = OnnxEmbedder(tmp_path / "e").manifest
    assert not manifest.quantized and manifest.parity[0].cosine_min > 0.9999
    assert manifest.model_id == "sentence-transformers/all-MiniLM-L6-v2+onnx"


@pytest.fixture
def own_embedder(embedder_copy: Path) -> Path:
    """An embedder folder guardkit does not ship (as `models train-embedder` writes one)."""
    manifest = json.loads((embedder_copy / "manifest.json").read_text())
    manifest["model_id"] = "tests/own-embedder+int8"
    (embedder_copy / "manifest.json").write_text(json.dumps(manifest))
    return embedder_copy


def test_an_index_carries_an_embedder_guardkit_does_not_ship(
    tmp_path: Path, kb_file: Path, own_embedder: Path
) -> None:
    FactIndex.build([kb_file], embedder=OnnxEmbedder(own_embedder)).save(tmp_path / "ix")
    shutil.rmtree(own_embedder)  # the index must not need the original folder
    reopened = FactIndex.load(tmp_path / "ix")
    assert reopened.embedder.model_id == "tests/own-embedder+int8"
    assert isinstance(reopened.embedder, OnnxEmbedder)
    assert reopened.embedder.folder == tmp_path / "ix" / "embedder"
    assert reopened.search("How long do I have to return an item?", k=1)[0].doc_id == "returns"
    reopened.save(tmp_path / "copy")  # saved elsewhere, it carries it along
    assert FactIndex.load(tmp_path / "copy").embedder.model_id == "tests/own-embedder+int8"
    # bundled embedders are found by id and never copied
    FactIndex.build([kb_file], embedder=OnnxEmbedder(PLAIN_EMBEDDER)).save(tmp_path / "plain")
    assert not (tmp_path / "plain" / "embedder").exists()


def test_a_carried_embedder_is_hash_checked(
    tmp_path: Path, kb_file: Path, own_embedder: Path
) -> None:
    from guardkit.facts.index import check_index_folder

    for name in ("model.onnx", "tokenizer.json"):  # found when the index opens, not at a query
        FactIndex.build([kb_file], embedder=OnnxEmbedder(own_embedder)).save(tmp_path / name)
        with (tmp_path / name / "embedder" / name).open("ab") as fh:
            fh.write(b"\0")
        for opening in (FactIndex.load, check_index_folder):
            with pytest.raises(ModelError, match="sha256 mismatch") as info:
                opening(tmp_path / name)
            assert info.value.file == str(tmp_path / name / "embedder" / name)


def test_cli_builds_with_an_embedder_folder_and_reopens_with_it(
    tmp_path: Path, kb_file: Path, own_embedder: Path
) -> None:
    out = tmp_path / "ix"
    result = runner.invoke(
        app, ["index", "build", str(kb_file), "--out", str(out), "--embedder", str(own_embedder)]
    )
    assert result.exit_code == 0, result.output
    extra = tmp_path / "faq.md"
    extra.write_text("Gift cards never expire.\n")
    assert runner.invoke(app, ["index", "add", str(out), str(extra)]).exit_code == 0
    result = runner.invoke(app, ["index", "query", str(out), "do gift cards expire", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["fact_id"] == "faq.md#0"
    info = json.loads(runner.invoke(app, ["index", "info", str(out), "--json"]).stdout)
    assert info["embedding_model"] == "tests/own-embedder+int8"
    not_an_embedder = tmp_path / "empty"
    not_an_embedder.mkdir()
    result = runner.invoke(
        app,
        [
            "index",
            "build",
            str(kb_file),
            "--out",
            str(tmp_path / "x"),
            "--embedder",
            str(not_an_embedder),
        ],
    )
    assert result.exit_code == 2 and "missing manifest.json" in result.output
    assert not (tmp_path / "x").exists()


def _own_copy(source: Path, folder: Path, model_id: str) -> Path:
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["model_id"] = model_id
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_carried_embedder_wins_over_a_shipped_one_of_the_same_id(
    tmp_path: Path, kb_file: Path
) -> None:
    # weights of the plain MiniLM under the fine-tuned default's id, as a retrain would name them
    own = _own_copy(PLAIN_EMBEDDER, tmp_path / "own", default_embedder().model_id)
    FactIndex.build([kb_file], embedder=OnnxEmbedder(own)).save(tmp_path / "ix")
    reopened = FactIndex.load(tmp_path / "ix")
    assert reopened.embedder.sha256 != default_embedder().sha256
    assert reopened.search("How long do I have to return an item?", k=1)[0].doc_id == "returns"


def test_a_folder_path_wins_over_a_shipped_name(
    tmp_path: Path, kb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _own_copy(PLAIN_EMBEDDER, tmp_path / DEFAULT_EMBEDDER.name, "tests/local+int8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["index", "build", str(kb_file), "--out", "ix", "--embedder", DEFAULT_EMBEDDER.name]
    )
    assert result.exit_code == 0, result.output
    assert FactIndex.load(tmp_path / "ix").embedder.model_id == "tests/local+int8"


def test_a_copy_of_a_shipped_embedder_is_not_carried(
    tmp_path: Path, kb_file: Path, embedder_copy: Path
) -> None:
    FactIndex.build([kb_file], embedder=OnnxEmbedder(embedder_copy)).save(tmp_path / "ix")
    assert not (tmp_path / "ix" / "embedder").exists()
    assert FactIndex.load(tmp_path / "ix").embedder is default_embedder()


def test_the_carried_manifest_is_pinned_by_the_index(
    tmp_path: Path, kb_file: Path, own_embedder: Path
) -> None:
    FactIndex.build([kb_file], embedder=OnnxEmbedder(own_embedder)).save(tmp_path / "ix")
    carried = tmp_path / "ix" / "embedder" / "manifest.json"
    manifest = json.loads(carried.read_text())
    manifest["max_length"] = 8  # would silently change every vector
    carried.write_text(json.dumps(manifest))
    with pytest.raises(FactIndexError, match="sha256 mismatch") as info:
        FactIndex.load(tmp_path / "ix")
    assert info.value.file == str(carried)
    shutil.rmtree(tmp_path / "ix" / "embedder")
    with pytest.raises(FactIndexError, match=r"embedder/manifest\.json is missing") as info:
        FactIndex.load(tmp_path / "ix")
    assert "embedder/ included" in str(info.value)


def test_a_failed_first_save_leaves_nothing_that_blocks_a_retry(
    tmp_path: Path, kb_file: Path, own_embedder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = FactIndex.build([kb_file], embedder=OnnxEmbedder(own_embedder))

    def full_disk(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr("guardkit.facts.index.atomic_write", full_disk)
        with pytest.raises(FactIndexError, match="No space left"):
            index.save(tmp_path / "ix")
    assert not (tmp_path / "ix" / "embedder").exists()
    index.save(tmp_path / "ix")
    assert FactIndex.load(tmp_path / "ix").embedder.model_id == "tests/own-embedder+int8"


def test_a_carried_embedder_opens_after_the_process_changes_directory(
    tmp_path: Path, kb_file: Path, own_embedder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FactIndex.build([kb_file], embedder=OnnxEmbedder(own_embedder)).save(tmp_path / "ix")
    monkeypatch.chdir(tmp_path)
    first = FactIndex.load("ix")
    monkeypatch.chdir("/")
    again = FactIndex.load(tmp_path / "ix")
    assert again.embedder is first.embedder
    assert again.search("How long do I have to return an item?", k=1)[0].doc_id == "returns"


FAST = DEFAULT_EMBEDDER.parent / "embedder-minilm-l3-gk1"


def test_the_shipped_3_layer_student_follows_its_teacher(tmp_path: Path, kb_file: Path) -> None:
    student = OnnxEmbedder(FAST)
    record = student.manifest.distillation
    assert record is not None and record.layers == [0, 3, 5]
    assert record.teacher_sha256 == default_embedder().sha256
    ours, teacher = student.encode(TEXTS), default_embedder().encode(TEXTS)
    cosines = (ours * teacher).sum(axis=1)  # held out at training: mean 0.935, 1 % below 0.81
    assert float(cosines.mean()) > 0.85 and float(cosines.min()) > 0.7, cosines
    # picked by name, found again by id when the index reopens, never copied into it
    result = runner.invoke(
        app,
        ["index", "build", str(kb_file), "--out", str(tmp_path / "ix"), "--embedder", FAST.name],
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "ix" / "embedder").exists()
    reopened = FactIndex.load(tmp_path / "ix")
    assert reopened.embedder.model_id == "guardkit/embedder-minilm-l3-gk1+int8"
    assert reopened.search("How long do I have to return an item?", k=1)[0].doc_id == "returns"
    for named in (str(FAST), FAST.name, "guardkit/embedder-minilm-l3-gk1+int8"):  # as listed
        info = runner.invoke(app, ["models", "info", named])
        assert "distilled from guardkit/embedder-minilm-l6-gk1+int8: layers [0, 3, 5]" in (
            info.output
        )


def test_a_policy_refuses_an_index_that_cannot_open(
    tmp_path: Path, kb_file: Path, own_embedder: Path
) -> None:
    from guardkit.errors import PolicyError
    from guardkit.policy import load_policy

    FactIndex.build([kb_file], embedder=OnnxEmbedder(own_embedder)).save(tmp_path / "ix")
    policy = tmp_path / "p.yaml"
    policy.write_text('id: p\nversion: "1"\nchecks:\n  facts: {index: ix}\n')
    assert load_policy(policy).checks is not None
    shutil.rmtree(tmp_path / "ix" / "embedder")
    with pytest.raises(PolicyError, match=r"not a usable fact index: .*embedder/manifest\.json"):
        load_policy(policy)
    policy.write_text(f'id: p\nversion: "1"\nchecks:\n  facts: {{index: "{own_embedder}"}}\n')
    with pytest.raises(PolicyError, match="not a usable fact index"):
        load_policy(policy)  # an embedder folder has a manifest.json too, but is no index


def test_index_build_names_paths_that_are_no_embedder_folder(tmp_path: Path, kb_file: Path) -> None:
    out = str(tmp_path / "ix")
    for value, message in (
        (str(kb_file), "not an embedder folder"),
        (str(tmp_path / "none" / "emb"), "no such embedder folder"),
        ("", "no embedder named"),
        (
            str(DEFAULT_EMBEDDER.parent / "verifier-minilm-l6-v5"),
            "a verifier folder, not an embedder",
        ),
    ):
        result = runner.invoke(
            app, ["index", "build", str(kb_file), "--out", out, "--embedder", value]
        )
        assert result.exit_code == 2 and message in result.output, (value, result.output)
    assert not (tmp_path / "ix").exists()
    info = runner.invoke(app, ["models", "info", "embedder-minilm-l3-gk1"])
    assert info.exit_code == 0 and "distilled from" in info.output
