from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardkit.cli import app
from guardkit.verifier import join_documents

runner = CliRunner()

CONTEXT = "The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair."
ROWS = [
    {"id": "a", "context": CONTEXT, "response": "The Eiffel Tower is in Paris."},
    {"id": "b", "context": CONTEXT, "response": "The Eiffel Tower is in Rome. It opened in 1950."},
]


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_end_to_end(tmp_path: Path) -> None:
    src, out = _jsonl(tmp_path / "in.jsonl", ROWS), tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "--pairs", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]  # order and other fields kept
    for line in lines:
        assert 0.0 <= line["risk"] <= 1.0
        assert isinstance(line["hallucinated"], bool)
    assert lines[1]["risk"] > lines[0]["risk"]
    assert lines[1]["hallucinated"]
    assert "scored 2 responses" in result.output


def test_a_response_without_words_states_nothing(tmp_path: Path) -> None:
    rows = [{"context": CONTEXT, "response": r} for r in ("...", "\U0001f642", "?!", "___")]
    rows.append(ROWS[1])  # scored beside them as it is alone
    src, out = _jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "--pairs", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["risk"], x["hallucinated"]) for x in lines[:4]] == [(0.0, False)] * 4
    alone = _jsonl(tmp_path / "alone.jsonl", [ROWS[1]])
    assert runner.invoke(app, ["score", "--pairs", str(alone), "--out", str(out)]).exit_code == 0
    assert lines[4]["risk"] == json.loads(out.read_text())["risk"] > 0.5


def test_a_list_of_documents_is_read_as_joined_documents(tmp_path: Path) -> None:
    """A list is the evidence ``join_documents`` makes of its non-empty documents (how it is
    windowed: tests/verifier/test_runtime.py)."""
    docs = ["The Eiffel Tower is in Paris.", "  ", "It was completed in 1889 for the World's Fair."]
    rows = [
        {"id": "list", "context": docs, "response": "It was completed in 1889."},
        {
            "id": "text",
            "context": join_documents([docs[0], docs[2]]),
            "response": "It was completed in 1889.",
        },
    ]
    src, out = _jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", "--pairs", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["context"] == docs  # the line as given
    assert lines[0]["risk"] == lines[1]["risk"] and not lines[0]["hallucinated"]


def test_the_question_and_dialogue_so_far_are_read_with_the_context(tmp_path: Path) -> None:
    rome = "Rome is in Italy."
    rows = [
        {"context": CONTEXT, "question": "When was it completed?", "response": "1889"},
        {"context": f"{CONTEXT}\nQuestion: When was it completed?", "response": "1889"},
        {"context": CONTEXT, "dialogue_history": "[Human]: Is it old?", "response": "1889"},
        {"context": f"{CONTEXT}\n[Human]: Is it old?", "response": "1889"},
        {"context": CONTEXT, "dialogue_history": ["[Human]: Is it", " old?"], "response": "1889"},
        {"context": f"{CONTEXT}\n[Human]: Is it\nold?", "response": "1889"},
        {"context": [CONTEXT, rome], "question": "When?", "response": "1889"},
        {"context": join_documents([CONTEXT, rome], "Question: When?"), "response": "1889"},
        {"context": CONTEXT, "question": "", "response": "1889"},
        {"context": CONTEXT, "response": "1889"},
    ]
    src, out = _jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
    assert runner.invoke(app, ["score", "--pairs", str(src), "--out", str(out)]).exit_code == 0
    risk = [json.loads(x)["risk"] for x in out.read_text().splitlines()]
    assert all(risk[i] == risk[i + 1] for i in range(0, len(rows), 2))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"context": "c", "response": "r"}\n{oops\n', ":2: not valid JSON"),
        ('{"context": "c"}\n', ":1 field response: missing field 'response'"),
        ('{"context": "  ", "response": "r"}\n', ":1 field context: field 'context' must be"),
        ('{"context": ["", " "], "response": "r"}\n', ":1 field context: field 'context' must be"),
        ('{"context": ["a", 3], "response": "r"}\n', ":1 field context: field 'context' must be a"),
        ('{"context": {"a": 1}, "response": "r"}\n', ":1 field context: field 'context' must be a"),
        ('{"response": "r"}\n', ":1 field context: missing field 'context'"),
        ('{"context": "c", "question": 3, "response": "r"}\n', ":1 field question: field 'ques"),
        (
            '{"context": "c", "dialogue_history": [1], "response": "r"}\n',
            ":1 field dialogue_history: field 'dialogue_history' must be a string or a list",
        ),
        ("[1, 2]\n", ":1: each line must be a JSON object"),
        ("\n", ": no (context, response) lines"),
        ('{"context": "caf\xe9", "response": "r"}\n', ":1: not UTF-8 text"),
        (
            '{"context": "The sky \\ud800 is blue.", "response": "r"}\n',
            ":1: a field holds a lone surrogate",
        ),
    ],
)
def test_bad_input_exits_2_with_file_and_line(tmp_path: Path, content: str, expected: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(content.encode("latin-1") if "\xe9" in content else content.encode())
    result = runner.invoke(app, ["score", "--pairs", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"error: {src}{expected}" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_broken_model_exits_2_naming_the_file(tmp_path: Path, model_copy: Path) -> None:
    (model_copy / "tokenizer.json").write_text("{}")
    src = _jsonl(tmp_path / "in.jsonl", ROWS)
    result = runner.invoke(
        app,
        ["score", "--pairs", str(src), "--out", str(tmp_path / "o"), "--model", str(model_copy)],
    )
    assert result.exit_code == 2
    assert f"error: {model_copy / 'tokenizer.json'}: sha256 mismatch" in result.output
    assert "[model_invalid]" in result.output


def test_models_list_and_info(model_copy: Path) -> None:
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "(default)" in listed.output
    info = runner.invoke(app, ["models", "info", str(model_copy)])
    assert info.exit_code == 0, info.output
    assert "ok (hashes, labels, vocabulary and max length checked)" in info.output
    raw = runner.invoke(app, ["models", "info", str(model_copy), "--json"])
    assert json.loads(raw.stdout)["labels"] == ["supported", "contradicted", "not_enough_info"]


def test_models_info_on_broken_folder(model_copy: Path) -> None:
    (model_copy / "model.onnx").unlink()
    result = runner.invoke(app, ["models", "info", str(model_copy)])
    assert result.exit_code == 2
    assert f"error: {model_copy / 'model.onnx'}: missing model.onnx" in result.output


def test_models_train_rejects_bad_pairs_before_training(tmp_path: Path) -> None:
    src = tmp_path / "pairs.jsonl"
    src.write_text('{"evidence": "e", "claim": "c", "label": "maybe"}\n')
    result = runner.invoke(
        app, ["models", "train", "--pairs", str(src), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert f"error: {src}:1 field label: unknown label 'maybe'" in result.output


def test_an_output_path_that_is_a_folder_exits_2_naming_it(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "in.jsonl", ROWS)
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, ["score", "--pairs", str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"error: {tmp_path / 'out'}: cannot write the output: it is a folder" in result.output
