from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import HashingEmbedder, LexicalVerifier
from typer.testing import CliRunner

from guardkit.cli import app
from guardkit.facts import Document, FactIndex

runner = CliRunner()


@pytest.fixture(autouse=True)
def lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guardkit.facts.verify.default_verifier", LexicalVerifier)


def test_build_add_query_info_delete(kb_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ix"
    result = runner.invoke(app, ["index", "build", str(kb_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"built {out}: 6 facts from 3 documents (flat index)\n"
    extra = tmp_path / "faq.md"
    extra.write_text("# Gift cards\n\nGift cards never expire.\n")
    result = runner.invoke(app, ["index", "add", str(out), str(extra)])
    assert result.output == f"added 1 fact to {out}: 7 facts in all\n"  # the heading is no fact
    result = runner.invoke(
        app, ["index", "query", str(out), "do gift cards expire", "-k", "2", "--json"]
    )
    hits = json.loads(result.stdout)
    assert [h["fact_id"] for h in hits][:1] == ["faq.md#0"] and len(hits) == 2
    assert hits[0]["metadata"]["section"] == "Gift cards"
    assert set(hits[0]) >= {"fact_id", "source", "text", "score", "start", "end"}
    result = runner.invoke(app, ["index", "query", str(out), "(expire?", "--mode", "lexical"])
    assert result.exit_code == 0 and result.output.split("  ")[1] == "faq.md#0"
    result = runner.invoke(app, ["index", "query", str(out), "gift", "--mode", "bm25"])
    assert result.exit_code == 2 and "'bm25' is not one of" in result.output
    info = json.loads(runner.invoke(app, ["index", "info", str(out), "--json"]).stdout)
    assert (info["fact_count"], info["generation"], info["index"]["kind"]) == (7, 2, "flat")
    assert info["search_mode"] == "hybrid"
    result = runner.invoke(app, ["index", "delete", str(out), "faq.md"])
    assert result.output == f"removed 1 fact from {out}: 6 facts in all\n"
    assert (
        "6 facts, 3 documents, flat index, hybrid search"
        in runner.invoke(app, ["index", "info", str(out)]).output
    )


def _built(kb_file: Path, out: Path, *options: str) -> Path:
    result = runner.invoke(app, ["index", "build", str(kb_file), "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    return out


def test_build_saves_the_search_mode_that_queries_then_use(kb_file: Path, tmp_path: Path) -> None:
    out = _built(kb_file, tmp_path / "dense", "--mode", "dense")
    assert (
        json.loads(runner.invoke(app, ["index", "info", str(out), "--json"]).stdout)["search_mode"]
        == "dense"
    )
    assert FactIndex.load(out).search_mode == "dense"
    result = runner.invoke(
        app, ["index", "build", str(kb_file), "--out", str(tmp_path / "x"), "--mode", "bm25"]
    )
    assert result.exit_code == 2 and not (tmp_path / "x").exists()


def test_info_names_the_hnsw_query_effort(kb_file: Path, tmp_path: Path) -> None:
    out = _built(kb_file, tmp_path / "h", "--index-type", "hnsw")
    shown = runner.invoke(app, ["index", "info", str(out)]).output
    assert "hnsw (efSearch 128 by size) index" in shown


def test_verify_claims_file_adds_verdicts_keeping_fields(saved_index: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.jsonl"
    rows = [
        {"id": 1, "claim": "Items can be returned within 30 days of delivery."},
        {
            "id": 2,
            "claim": "Items can be returned within 90 days of delivery.",
            "gold": "x",
            "evidence": {"7": [{"sentences": [0], "label": "REFUTE"}]},  # SciFact-style gold
        },
        {"id": 3, "claim": "The moon is made of cheese."},
    ]
    claims.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["verify", "--index", str(saved_index), "--claims", str(claims), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output == f"claims=3 supported=1 contradicted=1 unverifiable=1 out={out}\n"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["verdict"]) for r in lines] == [
        (1, "supported"),
        (2, "contradicted"),
        (3, "unverifiable"),
    ]
    assert lines[1]["gold"] == "x" and 0.0 <= lines[1]["confidence"] <= 1.0
    assert lines[1]["given_evidence"] == rows[1]["evidence"]  # kept beside guardkit's own
    keys = {"fact_id", "source", "text", "score", "supported", "contradicted"}
    assert set(lines[0]["evidence"][0]) == keys
    assert lines[0]["evidence"][0]["fact_id"] == "returns#0"


def test_verify_fail_on_exits_1_after_writing_everything(saved_index: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.jsonl"
    rows = [
        "Items can be returned within 30 days of delivery.",  # supported
        "Items can be returned within 90 days of delivery.",  # contradicted
        "The moon is made of cheese.",  # unverifiable
    ]
    claims.write_text("".join(json.dumps({"claim": c}) + "\n" for c in rows))
    out = tmp_path / "out.jsonl"
    base = ["verify", "--index", str(saved_index), "--claims", str(claims), "--out", str(out)]
    for fail_on, why in (("contradicted", "1 of 3 claims contradicted"), ("unsupported", "2 of 3")):
        out.unlink(missing_ok=True)
        result = runner.invoke(app, [*base, "--fail-on", fail_on])
        assert result.exit_code == 1 and why in result.stderr, result.output
        assert (
            result.stdout.startswith("claims=3 supported=1")
            and len(out.read_text().split("\n")) == 4
        )

    def on_text(claim: str, fail_on: str) -> Any:
        args = ["verify", "--index", str(saved_index), "--text", claim, "--fail-on", fail_on]
        return runner.invoke(app, args)

    assert on_text(rows[0], "unsupported").exit_code == 0
    result = on_text(rows[1], "contradicted")
    assert result.exit_code == 1 and result.stdout.startswith("contradicted")
    assert runner.invoke(app, [*base, "--fail-on", "refuted"]).exit_code == 2


def test_verify_names_a_script_the_verifier_does_not_read(saved_index: Path) -> None:
    text = "礼品卡可以兑换现金。"
    result = runner.invoke(app, ["verify", "--index", str(saved_index), "--text", text])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"unverifiable 1.00  {text}\n")
    assert "(in cjk script, which the verifier does not read)" in result.output
    as_json = runner.invoke(app, ["verify", "--index", str(saved_index), "--text", text, "--json"])
    assert json.loads(as_json.stdout)[0]["unread_script"] == "cjk"
    result = runner.invoke(
        app, ["verify", "--index", str(saved_index), "--text", text, "--fail-on", "unsupported"]
    )
    assert result.exit_code == 1
    assert "1 of 1 claim unsupported (1 in a script the verifier does not read)" in result.stderr
    both = f"Items can be returned within 90 days of delivery. {text}"
    result = runner.invoke(
        app, ["verify", "--index", str(saved_index), "--text", both, "--fail-on", "contradicted"]
    )
    assert result.exit_code == 1 and "1 of 2 claims contradicted\n" in result.stderr


def test_verify_text_says_when_there_is_nothing_to_check_and_takes_no_out(
    saved_index: Path, tmp_path: Path
) -> None:
    base = ["verify", "--index", str(saved_index), "--text"]
    result = runner.invoke(app, [*base, "Hello! Thanks for reaching out, happy to help."])
    assert result.exit_code == 0 and result.stdout == ""
    assert "no claims: nothing in the text states a fact to check" in result.stderr
    out = tmp_path / "x.jsonl"
    result = runner.invoke(app, [*base, "Refunds take 5 days.", "--out", str(out)])
    assert result.exit_code == 2 and "--out is for --claims" in result.stderr
    assert not out.exists()
    nowhere = str(tmp_path / "no" / "such" / "x.jsonl")
    result = runner.invoke(app, [*base, "Refunds take 5 days.", "--out", nowhere])
    assert result.exit_code == 2 and "--out is for --claims" in result.stderr


def test_verify_keeps_an_input_field_named_like_an_output_one_aside(
    saved_index: Path, tmp_path: Path
) -> None:
    claims, out = tmp_path / "claims.jsonl", tmp_path / "out.jsonl"
    line = {"claim": "Items can be returned within 90 days of delivery.", "unread_script": "x"}
    claims.write_text(json.dumps(line) + "\n")
    args = ["verify", "--index", str(saved_index), "--claims", str(claims), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["given_unread_script"] == "x" and "unread_script" not in row


def test_verify_text(saved_index: Path) -> None:
    text = "Hello! Items can be returned within 30 days of delivery. Is that all?"
    result = runner.invoke(app, ["verify", "--index", str(saved_index), "--text", text, "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["verdict"], row["start"], row["end"]) == ("supported", 7, 56)
    plain = runner.invoke(app, ["verify", "--index", str(saved_index), "--text", text])
    assert plain.output.startswith("supported    0.90  Items can be returned")


def test_verify_text_against_documents_reads_their_numbers(
    saved_index: Path, tmp_path: Path
) -> None:
    museum, cafe = tmp_path / "museum.txt", tmp_path / "cafe.txt"
    museum.write_text("The museum opens at 9 am on weekdays.\n")
    cafe.write_text("The cafe sells cake.\n")
    docs = ["--document", str(museum), "--document", str(cafe)]
    text = "The museum opens at 9 am on weekdays [1]. The cafe sells cake [1]."
    result = runner.invoke(app, ["verify", *docs, "--text", text, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["cites"], r["verdict"]) for r in rows] == [
        ([1], "supported"),
        ([1], "unverifiable"),  # the cafe sentence is in the second document, not the first
    ]
    assert rows[0]["evidence"][0]["source"] == "document[1]"  # numbered as cited
    right = runner.invoke(app, ["verify", *docs, "--text", text.replace("cake [1]", "cake [2]")])
    assert right.output.count("supported") == 2
    # documents beside an index: a claim citing nothing is checked against both
    both = runner.invoke(
        app,
        ["verify", "--index", str(saved_index), *docs, "--json", "--text",
         "Items can be returned within 30 days of delivery. The cafe sells cake."],
    )  # fmt: skip
    assert [r["verdict"] for r in json.loads(both.stdout)] == ["supported", "supported"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the document"),
        (b"\xff\xfe oops", "not UTF-8 text (byte 0)"),
        (b"  \n", "the document is empty"),
    ],
)
def test_a_bad_document_exits_2_naming_it(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    doc = tmp_path / "doc.txt"
    if content is not None:
        doc.write_bytes(content)
    result = runner.invoke(app, ["verify", "--document", str(doc), "--text", "It opens at 9."])
    assert result.exit_code == 2
    assert f"{doc}: {expected}" in result.output


def test_verify_needs_an_index_or_documents() -> None:
    result = runner.invoke(app, ["verify", "--text", "It opens at 9."])
    assert result.exit_code == 2 and "give --index DIR, --document FILE or both" in result.output


def _hashing_index(tmp_path: Path) -> Path:
    index = FactIndex(embedder=HashingEmbedder())
    index.add_documents([Document("a", "Some fact about widgets.", "a")])
    index.save(tmp_path / "hashing")
    return tmp_path / "hashing"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "latin1",
            "latin.txt:1: not UTF-8 text: byte 0xe9 (byte 4 of the line) "
            "(hint: re-encode the file as UTF-8) [index_invalid]",
        ),
        ("empty", "empty.jsonl: source has no documents with text [index_invalid]"),
        (
            "out_not_empty",
            "not empty and holds no fact index ('keep.txt'); nothing written [index_invalid]",
        ),
        ("missing_index", "index folder does not exist [index_invalid]"),
        ("other_model", "index was built with embedding model 'tests/hashing-bow'"),
        ("both_inputs", "error: give exactly one of --text or --claims [config_error]"),
        ("claims_no_out", "error: --claims needs --out FILE.jsonl [config_error]"),
        (
            "bad_claim",
            "claims.jsonl:2 field claim: field 'claim' must be a non-empty string [config_error]",
        ),
        ("unknown_type", "unknown source type '.pdf'; known: .csv, .jsonl, .markdown, .md, .txt"),
        ("csv_extra", "extra.csv:2: row has 3 fields, the header 2 (quote text that holds commas)"),
        ("csv_header", "dup.csv:1: CSV header repeats column(s) text"),
        ("blank_text", "blank.jsonl: source has no documents with text"),
        ("surrogate", "sur.jsonl:1 field text: 'text' holds a lone surrogate escape"),
        ("deep", "deep.jsonl:1: invalid JSON: nested too deeply"),
        ("empty_text", "error: --text must be non-empty text"),
        ("out_folder", "cannot write the output: it is a folder"),
        ("out_is_file", "the index path is a file, not a folder"),
        ("empty_query", "error: TEXT must be non-empty text"),
        ("twice", "good.jsonl: the same source is given twice"),
        ("out_is_claims", "--out is the --claims file: it would be overwritten"),
    ],
)
def test_bad_input_exits_2_with_one_typed_line(
    case: str, expected: str, tmp_path: Path, saved_index: Path
) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "a", "text": "A fact."}\n')
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"claim": "ok"}\n{"claim": ""}\n')
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "empty.jsonl").write_text("\n")
    (tmp_path / "extra.csv").write_text("id,text\n2,Refunds take 5 days, not 10.\n")
    (tmp_path / "dup.csv").write_text("id,text,text\n1,a,b\n")
    (tmp_path / "blank.jsonl").write_text('{"id": "a", "text": " "}\n{"id": "b", "text": []}\n')
    (tmp_path / "sur.jsonl").write_text('{"id": "a", "text": "Bad \\ud800 here."}\n')
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.jsonl").write_text('{"id": "a", "text": "x", "m": ' + deep + "}\n")
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    ix = str(saved_index)
    args = {
        "latin1": ["index", "build", str(tmp_path / "latin.txt"), "--out", str(tmp_path / "o")],
        "empty": ["index", "build", str(tmp_path / "empty.jsonl"), "--out", str(tmp_path / "o")],
        "out_not_empty": ["index", "build", str(good), "--out", str(tmp_path / "used")],
        "missing_index": ["index", "info", str(tmp_path / "nope")],
        "other_model": ["index", "query", str(_hashing_index(tmp_path)), "widgets"],
        "both_inputs": ["verify", "--index", ix, "--text", "x", "--claims", str(claims)],
        "claims_no_out": ["verify", "--index", ix, "--claims", str(claims)],
        "bad_claim": [
            "verify",
            "--index",
            ix,
            "--claims",
            str(claims),
            "--out",
            str(tmp_path / "v"),
        ],
        "unknown_type": ["index", "build", str(tmp_path / "doc.pdf"), "--out", str(tmp_path / "o")],
        **{
            name: ["index", "build", str(tmp_path / file), "--out", str(tmp_path / "o")]
            for name, file in (
                ("csv_extra", "extra.csv"),
                ("csv_header", "dup.csv"),
                ("blank_text", "blank.jsonl"),
                ("surrogate", "sur.jsonl"),
                ("deep", "deep.jsonl"),
            )
        },
        "empty_text": ["verify", "--index", ix, "--text", "  "],
        "out_folder": ["verify", "--index", ix, "--claims", str(claims), "--out", str(tmp_path)],
        "out_is_file": ["index", "build", str(good), "--out", str(tmp_path / "afile")],
        "empty_query": ["index", "query", ix, " "],
        "twice": ["index", "build", str(good), str(good), "--out", str(tmp_path / "o")],
        "out_is_claims": ["verify", "--index", ix, "--claims", str(claims), "--out", str(claims)],
    }[case]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert not (tmp_path / "o").exists() and not (tmp_path / "v").exists()
    assert sorted(p.name for p in (tmp_path / "used").iterdir()) == ["keep.txt"]


def test_documents_without_text_are_skipped_with_one_warning_line(tmp_path: Path) -> None:
    # CitInt's corpus.jsonl has such rows ("abstract": []): the rest of the corpus is indexed.
    source = tmp_path / "corpus.jsonl"
    rows = [
        {"doc_id": 1, "abstract": ["Refunds take 5 days."]},
        {"doc_id": 2, "abstract": []},
        {"id": "c", "text": "  "},
        {"id": "d", "text": "Delivery is free."},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(app, ["index", "build", str(source), "--out", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    assert f"warning: {source}: skipped 2 documents without text (line 2, 3)" in result.stderr
    assert "built" in result.stdout and "2 facts from 2 documents" in result.stdout
    (tmp_path / "more.jsonl").write_text('{"id": "e", "text": ""}\n{"id": "f", "text": "Hi."}\n')
    more = str(tmp_path / "more.jsonl")
    result = runner.invoke(app, ["index", "add", str(tmp_path / "ix"), more])
    assert result.exit_code == 0 and "skipped 1 document without text (line 1)" in result.stderr


def test_help_on_every_new_command() -> None:
    for args in (
        ["index", "--help"],
        ["index", "build", "--help"],
        ["index", "query", "--help"],
        ["verify", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_build_with_another_bundled_embedder_which_the_index_then_keeps(
    kb_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plain"
    result = runner.invoke(
        app,
        [
            "index",
            "build",
            str(kb_file),
            "--out",
            str(out),
            "--embedder",
            "embedder-minilm-l6-int8",
        ],
    )
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(app, ["index", "info", str(out), "--json"]).stdout)
    assert info["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2+int8"
    result = runner.invoke(app, ["index", "query", str(out), "refund", "-k", "1", "--json"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 1


def test_an_unknown_embedder_name_lists_the_bundled_ones(kb_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "x"
    result = runner.invoke(
        app, ["index", "build", str(kb_file), "--out", str(out), "--embedder", "bert-large"]
    )
    assert result.exit_code == 2
    assert "unknown embedder 'bert-large'; known:" in result.output
    assert "embedder-minilm-l6-gk1" in result.output and not out.exists()
