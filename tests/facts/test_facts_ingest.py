from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardkit.errors import FactIndexError, UnknownNameError
from guardkit.facts._ingest import (
    SkippedDocumentsWarning,
    read_source,
    read_sources,
    split_facts,
)
from guardkit.facts._segment import sentence_spans


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_jsonl_keeps_source_metadata_and_spans(tmp_path: Path) -> None:
    text = "Dr. Smith joined U.S. Steel in 2001. He left in 2005.  It was 3.5 km away."
    path = _write(
        tmp_path, "a.jsonl", f'{{"id": 7, "text": "{text}", "source": "hr", "team": "x"}}\n'
    )
    (doc,) = read_source(path)
    assert (doc.id, doc.source, doc.metadata) == ("7", "hr", {"team": "x"})
    facts = split_facts(doc)
    assert [f.text for f in facts] == [
        "Dr. Smith joined U.S. Steel in 2001.",
        "He left in 2005.",
        "It was 3.5 km away.",
    ]
    assert [f.fact_id for f in facts] == ["7#0", "7#1", "7#2"]
    assert all(text[f.start : f.end] == f.text for f in facts)


def test_scifact_style_corpus_keeps_sentence_numbers(tmp_path: Path) -> None:
    line = '{"doc_id": 31000, "title": "T", "abstract": ["First one. Still first.", "", "Third."]}'
    (doc,) = read_source(_write(tmp_path, "corpus.jsonl", line + "\n"))
    assert (doc.id, doc.source, doc.metadata) == ("31000", "31000", {"title": "T"})
    facts = split_facts(doc)
    assert [(f.fact_id, f.text) for f in facts] == [
        ("31000#0", "First one. Still first."),
        ("31000#2", "Third."),
    ]
    assert all(doc.text[f.start : f.end] == f.text for f in facts)


def test_csv_reads_rows_with_header(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "a.csv",
        'id,text,region\nr1,"Paris is in France, mostly.",eu\nr2,Rome is old.,eu\n',
    )
    docs = read_source(path)
    assert [(d.id, d.source, d.metadata) for d in docs] == [
        ("r1", "r1", {"region": "eu"}),
        ("r2", "r2", {"region": "eu"}),
    ]
    spaced = _write(tmp_path, "b.csv", 'id,text\n\n\nr7,"Two\nlines."\nr8,after\n')
    assert [d.origin for d in read_source(spaced)] == [f"{spaced}:4", f"{spaced}:6"]


def test_markdown_spans_point_into_the_original(tmp_path: Path) -> None:
    md = (
        "# Returns policy\n\nItems can be returned within **30 days**. Refunds go to the "
        "[card](https://x.y/pay).\n\n## Shipping\n- Standard takes 3 days.\n- Express costs $15\n"
        "  and arrives next day.\n\n```\n# not a heading\nprint('not a fact')\n```\n"
        "# Payment ##\nCards are accepted.\n## Pay in C#\nIt compiles.\n"
    )
    (doc,) = read_source(_write(tmp_path, "help.md", md))
    facts = split_facts(doc)
    assert [(f.text, f.metadata["section"]) for f in facts] == [
        ("Items can be returned within 30 days.", "Returns policy"),
        ("Refunds go to the card.", "Returns policy"),
        ("Standard takes 3 days.", "Returns policy > Shipping"),
        ("Express costs $15 and arrives next day.", "Returns policy > Shipping"),
        ("Cards are accepted.", "Payment"),
        ("It compiles.", "Payment > Pay in C#"),
    ]
    assert md[facts[0].start : facts[0].end] == "Items can be returned within **30 days**."
    assert [f.fact_id for f in facts] == [f"help.md#{n}" for n in range(6)]
    assert doc.id == "help.md"


def test_markdown_table_rows_are_facts_without_their_rule_or_pipes(tmp_path: Path) -> None:
    md = (
        "# Shipping\n\n| Tier | Time | Price |\n|----------|:------:|---|\n"
        "| Express | 1 business day | 25 dollars |\n| Standard | 3 to 5 days | 6 dollars |\n"
    )
    (doc,) = read_source(_write(tmp_path, "prices.md", md))
    facts = split_facts(doc)
    assert [f.text for f in facts] == [
        "Tier Time Price",
        "Express 1 business day 25 dollars",
        "Standard 3 to 5 days 6 dollars",
    ]
    assert md[facts[1].start : facts[1].end] == "Express | 1 business day | 25 dollars"
    other = (
        "|x| is the absolute value of x.\n\nOp | Meaning\n--- | ---\n"
        "a \\| b | a or b in shell pipelines\n\n```\n| a | b |\n|---|---|\n```\nAfter it.\n"
    )
    (doc,) = read_source(_write(tmp_path, "other.md", other))
    assert [f.text for f in split_facts(doc)] == [
        "|x| is the absolute value of x.",  # no table: its pipes stay
        "Op Meaning",
        "a | b a or b in shell pipelines",  # an escaped pipe is a pipe
        "After it.",
    ]


def test_markdown_of_headings_only_has_no_facts(tmp_path: Path) -> None:
    with pytest.raises(FactIndexError, match="source has no documents with text"):
        read_source(_write(tmp_path, "toc.md", "# Help\n\n## Returns\n## Shipping\n"))


def test_plain_text_is_one_document(tmp_path: Path) -> None:
    (doc,) = read_source(
        _write(tmp_path, "notes.txt", "One fact here.\nStill the same\nsentence.\n")
    )
    assert [f.text for f in split_facts(doc)] == ["One fact here.", "Still the same sentence."]


def test_one_huge_document_is_split_and_bounded(tmp_path: Path) -> None:
    sentence = "The quick brown fox jumps over the lazy dog near the bank. "
    big = (sentence * 40 + "\n\n") * 60 + "word " * 5000  # ~150 kB, and a 25 kB run-on "sentence"
    (doc,) = read_source(_write(tmp_path, "big.txt", big))
    facts = split_facts(doc)
    assert len(facts) >= 40 * 60
    assert max(len(f.text) for f in facts) <= 1000
    assert all(" ".join(big[f.start : f.end].split()) == f.text for f in facts)


@pytest.mark.parametrize(
    "text",
    [
        # pysbd returns ". . " for this ending: more than the text holds (an IndexError once).
        'Canby called it "modest"; the performance was a "display of sustained virtuosity . . .',
        "He paused . . . and left. Then . . .",
        "Dr. Smith paid 3.5 EUR at U.S. Steel. Why? Because!",
    ],
)
def test_sentence_spans_cover_every_word_whatever_pysbd_returns(text: str) -> None:
    spans = sentence_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert " ".join(text[a:b] for a, b in spans).split() == text.split()


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("empty.jsonl", "", "source has no documents with text", None),
        ("blank.txt", "  \n\n", "source has no documents with text", None),
        (
            "bad.jsonl",
            '{"id": "a", "text": "ok."}\n{"id": "b", "text": \n',
            "invalid JSON: Expecting value (column 21)",
            2,
        ),
        ("noid.jsonl", '{"text": "no id here."}\n', "missing 'id'", 1),
        ("notext.jsonl", '{"id": "a", "title": "no text key"}\n', "missing 'text'", 1),
        ("blanks.jsonl", '{"id": "a", "text": ""}\n{"id": "b", "text": []}\n', "no doc", None),
        ("list.jsonl", '["a", "b"]\n', "expected an object", 1),
        ("nums.jsonl", '{"id": "a", "text": ["ok.", 3]}\n', "'text' must be a string or a list", 1),
        ("boolid.jsonl", '{"id": true, "text": "ok."}\n', "'id' must be a string or integer", 1),
        ("nocol.csv", "key,text\n1,hello there.\n", "CSV header lacks column(s) id", 1),
        (  # an unclosed quote would swallow the rows after it
            "unclosed.csv",
            'id,text\n1,Good row.\n2,"unclosed quote\n3,more\n',
            "malformed CSV record: unexpected end of data",
            3,
        ),
        ("stray.csv", 'id,text\n1,"a "quoted" word"\n', "malformed CSV record", 2),
        ("header.csv", 'id,"text\n1,hello\n', "malformed CSV record", 1),
        ("blanks.csv", 'id,text\n1,fine\n\n\n2,"not closed\n3,after\n', "malformed CSV", 5),
        (
            "latin.txt",
            "caf\xe9 ok\nline two \xff\n".encode("latin-1"),
            "not UTF-8 text: byte 0xe9",
            1,
        ),
        (
            "dup.jsonl",
            '{"id": "a", "text": "x y z."}\n{"id": "a", "text": "p q r."}\n',
            "duplicate document id 'a'",
            2,
        ),
    ],
)
def test_bad_sources_raise_typed_errors_with_place(
    tmp_path: Path, name: str, content: str | bytes, message: str, line: int | None
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(FactIndexError) as info:
        read_sources([path])
    assert message in info.value.message
    assert info.value.file == str(path) and info.value.line == line
    assert info.value.code == "index_invalid"


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.jsonl", '{"id": "x", "text": "One."}\n')
    b = _write(tmp_path, "b.jsonl", '\n{"id": "x", "text": "Two."}\n')
    with pytest.raises(FactIndexError) as info:
        read_sources([a, b])
    assert info.value.file == str(b) and info.value.line == 2
    assert f"first seen in {a}:1" in info.value.message


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError) as info:
        read_source(tmp_path / "data.parquet")
    assert info.value.known == [".csv", ".jsonl", ".markdown", ".md", ".txt"]
    with pytest.raises(FactIndexError, match="does not exist"):
        read_source(tmp_path / "missing.jsonl")
    with pytest.raises(FactIndexError, match="no sources given"):
        read_sources([])


def test_a_long_paragraph_is_cut_between_sentences() -> None:
    from guardkit.facts._segment import sentence_spans

    text = "The cat sat. " * 10_000  # one 130,000-character paragraph
    assert {text[a:b] for a, b in sentence_spans(text)} == {"The cat sat."}


def test_a_csv_field_of_one_huge_document_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text('id,text\n1,"' + "Word after word. " * 12_000 + '"\n')
    (doc,) = read_source(path)
    assert doc.id == "1" and len(doc.text) > 200_000


def test_documents_without_text_are_skipped_with_a_warning_naming_their_lines(
    tmp_path: Path,
) -> None:
    rows = [{"id": i, "text": "A fact." if i % 3 else []} for i in range(1, 10)]
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    skipped = r"skipped 3 documents without text \(line 3, 6, 9\)"
    with pytest.warns(SkippedDocumentsWarning, match=skipped):
        docs = read_source(path)
    assert [d.id for d in docs] == ["1", "2", "4", "5", "7", "8"]


def test_an_empty_text_field_gives_way_to_a_filled_alias(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        json.dumps({"doc_id": 1, "text": "", "abstract": ["Sentence one here."]}) + "\n"
    )
    (doc,) = read_source(path)
    assert doc.id == "1" and doc.text == "Sentence one here."
