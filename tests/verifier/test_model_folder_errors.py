from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardkit.errors import ModelError
from guardkit.verifier import OnnxVerifier


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _write(folder: Path, data: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(data))


def test_copy_loads(model_copy: Path) -> None:
    assert OnnxVerifier(model_copy).manifest.name


def test_wrong_hash_names_the_file(model_copy: Path) -> None:
    with (model_copy / "model.onnx").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.file == str(model_copy / "model.onnx")
    assert "sha256 mismatch" in err.value.message
    assert err.value.code == "model_invalid"


def test_missing_tokenizer(model_copy: Path) -> None:
    (model_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.file == str(model_copy / "tokenizer.json")
    assert err.value.message == "missing tokenizer.json"


def test_missing_manifest(model_copy: Path) -> None:
    (model_copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match=r"no manifest\.json"):
        OnnxVerifier(model_copy)


def test_labels_that_do_not_match_the_outputs(model_copy: Path) -> None:
    data = _manifest(model_copy)
    data["labels"] = ["supported", "contradicted"]
    _write(model_copy, data)
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.loc == ("labels",)
    assert "3 outputs but the manifest lists 2 labels" in err.value.message


def test_unknown_manifest_key_is_rejected(model_copy: Path) -> None:
    data = _manifest(model_copy)
    data["surprise"] = 1
    _write(model_copy, data)
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.loc == ("surprise",)
    assert err.value.file == str(model_copy / "manifest.json")


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        OnnxVerifier(tmp_path / "nope")
