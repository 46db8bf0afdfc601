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


def _repin(folder: Path, name: str) -> None:
    """Re-pin ``name``'s hash, as someone swapping the file in on purpose would."""
    from guardkit._files import sha256_file

    data = _manifest(folder)
    data["files"][name] = sha256_file(folder / name)
    _write(folder, data)


def test_a_tokenizer_that_is_not_one_names_the_file(model_copy: Path) -> None:
    (model_copy / "tokenizer.json").write_text('{"x": 1}')
    _repin(model_copy, "tokenizer.json")
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.file == str(model_copy / "tokenizer.json")
    assert "not a tokenizer" in err.value.message


def test_a_tokenizer_of_a_larger_vocabulary_fails_when_loaded(model_copy: Path) -> None:
    data = json.loads((model_copy / "tokenizer.json").read_text())
    data["model"]["vocab"]["zzzsky"] = 500_000
    (model_copy / "tokenizer.json").write_text(json.dumps(data))
    _repin(model_copy, "tokenizer.json")
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.file == str(model_copy / "tokenizer.json")
    assert "beyond the model's vocabulary" in err.value.message


def test_a_max_length_beyond_the_models_positions_fails_when_loaded(model_copy: Path) -> None:
    data = _manifest(model_copy)
    data["max_length"] = 2048
    _write(model_copy, data)
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.file == str(model_copy / "manifest.json")
    assert "max_length 2048" in err.value.message


def test_two_outputs_with_one_verdict_are_refused(model_copy: Path) -> None:
    data = _manifest(model_copy)
    data["labels"] = ["supported", "supported", "not_enough_info"]
    _write(model_copy, data)
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.loc == ("labels",) and "its own label and verdict" in err.value.message


def test_an_unknown_calibration_signal_names_the_manifest(model_copy: Path) -> None:
    data = _manifest(model_copy)
    data["calibration"]["slope_weights"] = {"bogus_signal": 1.0}
    _write(model_copy, data)
    with pytest.raises(ModelError) as err:
        OnnxVerifier(model_copy)
    assert err.value.loc == ("calibration", "slope_weights") and "bogus_signal" in err.value.message


def test_models_info_warns_about_labels_in_the_wrong_order(model_copy: Path) -> None:
    from typer.testing import CliRunner

    from guardkit.cli import app

    data = _manifest(model_copy)
    data["labels"] = ["contradicted", "supported", "not_enough_info"]
    _write(model_copy, data)
    result = CliRunner().invoke(app, ["models", "info", str(model_copy)])
    assert result.exit_code == 0
    assert "warning: the model calls a sentence checked against itself" in result.output
    # scoring with it would invert every risk: what scores and checks load refuses it
    from guardkit.verifier import load_verifier

    with pytest.raises(ModelError, match="not in its output order") as err:
        load_verifier(model_copy)
    assert err.value.file == str(model_copy / "manifest.json")
    pairs = model_copy.parent / "pairs.jsonl"
    pairs.write_text('{"context": "The sky is blue.", "response": "The sky is blue."}\n')
    out = model_copy.parent / "scored.jsonl"
    scored = CliRunner().invoke(
        app, ["score", "--pairs", str(pairs), "--out", str(out), "--model", str(model_copy)]
    )
    assert scored.exit_code == 2 and "not in its output order" in scored.output
    assert not out.exists()
