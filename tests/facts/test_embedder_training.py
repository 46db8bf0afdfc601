"""Fine-tuning the fact embedder: pairs files, mined negatives, the CLI, one real training run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder
from typer.testing import CliRunner

from guardkit.cli import app
from guardkit.errors import ConfigError
from guardkit.facts.training import RetrievalPair, mine_negatives, read_pairs

runner = CliRunner()


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_pairs_file_is_read_with_optional_negatives(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "p.jsonl",
        [
            {"query": "refund time?", "positive": "Refunds take 14 days."},
            {"query": "ship to Norway?", "positive": "We ship to Norway.", "negatives": ["Hi."]},
        ],
    )
    pairs = read_pairs(path)
    assert pairs[0].negatives == () and pairs[1].negatives == ("Hi.",)


@pytest.mark.parametrize(
    ("row", "message", "loc"),
    [
        ({"query": "q"}, "missing field 'positive'", "positive"),
        ({"query": "q", "positive": " "}, "must be a non-empty string", "positive"),
        (
            {"query": "q", "positive": "p", "negatives": "n"},
            "list of non-empty strings",
            "negatives",
        ),
        (
            {"query": "q", "positive": "p", "negatives": [""]},
            "list of non-empty strings",
            "negatives",
        ),
        ({"query": "q", "positive": "p", "label": 1}, "unknown field 'label'", "label"),
    ],
)
def test_bad_pair_lines_name_file_line_and_field(
    tmp_path: Path, row: dict[str, object], message: str, loc: str
) -> None:
    path = _write(tmp_path / "p.jsonl", [{"query": "a", "positive": "b"}, row])
    with pytest.raises(ConfigError, match=message) as err:
        read_pairs(path)
    assert err.value.line == 2 and err.value.loc == (loc,) and err.value.file == str(path)


def test_one_pair_is_too_few_for_in_batch_negatives(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 2"):
        read_pairs(_write(tmp_path / "p.jsonl", [{"query": "a", "positive": "b"}]))


def test_mined_negatives_skip_the_positives_and_the_nearest(hashing: HashingEmbedder) -> None:
    corpus = [
        "Refunds take 14 days.",  # the positive
        "Refunds take 10 days in Norway.",
        "Refunds are paid by card.",
        "Shipping takes 3 days.",
        "We sell blue widgets.",
    ]
    pair = RetrievalPair(query="How many days do refunds take?", positive=corpus[0])
    other = RetrievalPair(query="Do you sell widgets?", positive=corpus[4])
    mined = mine_negatives([pair, other], corpus, hashing.encode, skip=1, take=2)
    sims = hashing.encode(corpus[1:4]) @ hashing.encode([pair.query])[0]
    ranked = [corpus[1:4][i] for i in np.argsort(-sims)]
    assert mined[0].negatives == tuple(ranked[1:3])  # nearest non-positive passed over
    assert corpus[0] not in mined[0].negatives and corpus[4] not in mined[1].negatives


def test_cli_refuses_a_bad_pairs_file_before_loading_models(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.jsonl", [{"query": "a", "positive": "b"}, {"query": "c"}])
    result = runner.invoke(
        app, ["models", "train-embedder", "--pairs", str(path), "--out", str(tmp_path / "e")]
    )
    assert result.exit_code != 0 and "p.jsonl:2 field positive" in result.output
    assert not (tmp_path / "e").exists()


@pytest.mark.slow
def test_training_pulls_queries_toward_their_passages(tmp_path: Path) -> None:
    from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER, OnnxEmbedder, read_embedder_manifest

    codes = ["ZX-9", "QT-4", "MB-7", "RL-2", "KP-5", "WD-8", "HN-3", "FS-6"]
    meanings = [
        "a damaged parcel",
        "a late courier",
        "a wrong address",
        "a lost label",
        "a customs hold",
        "a refused delivery",
        "a missing item",
        "a duplicate order",
    ]
    rows = [
        {
            "query": f"What does status {c} mean?",
            "positive": f"Our warehouse marks {m} with a flag.",
        }
        for c, m in zip(codes, meanings, strict=True)
    ]
    path = _write(tmp_path / "p.jsonl", rows)
    out = tmp_path / "tuned"
    result = runner.invoke(
        app,
        [
            *("models", "train-embedder", "--pairs", str(path), "--out", str(out)),
            *("--epochs", "10", "--lr", "1e-4", "--batch-size", "8"),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = read_embedder_manifest(out)
    assert manifest.training is not None and manifest.training.steps == 10
    assert manifest.training.pairs == 8 and np.isfinite(manifest.training.final_loss)

    def margin(folder: Path) -> float:
        """How much closer each query is to its own passage than to the others."""
        embedder = OnnxEmbedder(folder, threads=1)
        q = embedder.encode([r["query"] for r in rows])
        sims = q @ embedder.encode([r["positive"] for r in rows]).T
        off = (sims.sum(axis=1) - np.diag(sims)) / (len(rows) - 1)
        return float(np.mean(np.diag(sims) - off))

    assert margin(out) > margin(DEFAULT_EMBEDDER) + 0.05
