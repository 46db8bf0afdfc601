"""Claims that cite their sources: checked against those sources alone, citation marks left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import HashingEmbedder, LexicalVerifier
from typer.testing import CliRunner

from guardkit.cli import app
from guardkit.errors import ConfigError
from guardkit.facts import ClaimVerifier, Document, FactIndex, IndexParams, SearchMode
from guardkit.facts.claims import cited_numbers, extract_claims, without_citation_marks

runner = CliRunner()
MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "lexical")

# Two papers state opposite things; a claim citing one must be judged by that one.
PAPERS = [
    ("p1", "Drug X lowers blood pressure in adults. The trial enrolled 200 adults."),
    ("p2", "Drug X does not lower blood pressure in adults. The study ran for 12 weeks."),
    ("p3", "Coffee improves alertness in the morning. Tea has less caffeine."),
]


def _index(hashing: HashingEmbedder, kind: str = "flat") -> FactIndex:
    index = FactIndex(embedder=hashing, params=IndexParams(kind=kind))  # type: ignore[arg-type]
    index.add_documents(Document(doc, text, doc) for doc, text in PAPERS)
    return index


@pytest.mark.parametrize(
    ("text", "checked"),
    [
        ("as shown before (Lee, 2019; <|cit|>) [3, 4].", "as shown before (Lee, 2019)."),
        ("mediated by a mechanism (<|cit|>).", "mediated by a mechanism."),
        ("foam-cell activity [<|cit|>].", "foam-cell activity."),
        ("x [<|multi_cit|>,7] y", "x y"),
        ("Lee et al. (<|cit|>, 2019) found it", "Lee et al. (2019) found it"),
        ("It costs 4.5 euros [12].", "It costs 4.5 euros."),
        ("Results (see [2]) hold.", "Results (see) hold."),
        ("The population was 2,000[3][4] in 1900.", "The population was 2,000 in 1900."),
        # nothing to remove: the text stays exactly as written
        ("Prices ( in euros ) are 4 , then 5.", "Prices ( in euros ) are 4 , then 5."),
        ("Dates [sic] are kept.", "Dates [sic] are kept."),
        ("The probability lies in [0, 1].", "The probability lies in [0, 1]."),  # an interval
        ("Call f() twice [2].", "Call f() twice."),  # brackets the marks did not empty stay
        ("It holds [Doc 1].", "It holds."),  # numbers named as generated answers name them
        ("It holds [Source 2, Source 3].", "It holds."),
        ("It is [Documented] as such.", "It is [Documented] as such."),
        ("It was built in [2019].", "It was built in [2019]."),  # a year, not a reference
        ("The tower is in Paris [0].", "The tower is in Paris."),  # sources numbered from 0
        ("It holds [Doc 0].", "It holds."),
        ("The tower is in Paris [1][0].", "The tower is in Paris."),
        ("Read items[0] first.", "Read items[0] first."),  # an index, not a mark
    ],
)
def test_citation_marks_are_left_out(text: str, checked: str) -> None:
    assert without_citation_marks(text) == checked


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("It holds [2].", (2,)),
        ("It holds [1, 4-6] and [3][9].", (1, 3, 4, 5, 6, 9)),
        ("It holds [7\u20138].", (7, 8)),
        ("It lies in [0, 1].", ()),  # an interval, not references
        ("Pages [3-500] of the book.", ()),  # a span of text, not 498 references
        ("See <|cit|>.", ()),  # placeholders name no number
        ("It opened in 2019 [2019].", ()),  # a year, not the 2019th reference
        ("It holds [998-1001].", ()),
        ("It holds [Doc 1] and [source 2, Source 4].", (1, 2, 4)),
        ("It holds [docs 1-2].", (1, 2)),
        ("It holds [0].", ()),  # numbered from 0: no document of ours
    ],
)
def test_cited_numbers(text: str, numbers: tuple[int, ...]) -> None:
    assert cited_numbers(text) == numbers


def test_a_claim_cites_the_marks_of_its_clause_else_of_its_sentence() -> None:
    claims = extract_claims(
        "Refunds take 5 days [2], and shipping is free [1]. "
        "The frame has a warranty, and the battery has one too [1, 3]. Delivery takes two days."
    )
    assert [(c.text, c.cites) for c in claims] == [
        ("Refunds take 5 days", (2,)),
        ("shipping is free.", (1,)),
        ("The frame has a warranty", (1, 3)),
        ("the battery has one too.", (1, 3)),
        ("Delivery takes two days.", ()),
    ]
    # A mark after the full stop opens the next sentence, but cites the one it follows, and
    # its sentence's span covers it (filtering the sentence out takes its marks along).
    text = "It opens at 9. [2] Entry is free. [1, 3]"
    claims = extract_claims(text)
    assert [c.cites for c in claims] == [(2,), (1, 3)]
    assert [text[c.sentence_start : c.sentence_end] for c in claims] == [
        "It opens at 9. [2]",
        "Entry is free. [1, 3]",
    ]
    plain = "Refunds take 5 days. Shipping is free."  # without marks, spans are the sentences'
    spans = [plain[c.sentence_start : c.sentence_end] for c in extract_claims(plain)]
    assert spans == ["Refunds take 5 days.", "Shipping is free."]


def test_extracted_claims_are_checked_without_marks_but_keep_their_spans() -> None:
    text = "Drug X lowers blood pressure [1]. Coffee improves alertness (<|cit|>)."
    claims = extract_claims(text)
    assert [c.text for c in claims] == [
        "Drug X lowers blood pressure.",
        "Coffee improves alertness.",
    ]
    assert text[claims[0].start : claims[0].end] == "Drug X lowers blood pressure [1]."
    assert extract_claims("See [1].") == []  # a citation's digits do not make a fragment a claim


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_search_within_sources_returns_only_their_facts(
    mode: SearchMode, kind: str, hashing: HashingEmbedder
) -> None:
    index = _index(hashing, kind)
    query = "Drug X lowers blood pressure in adults."
    anywhere, in_p2, in_p3, nowhere = index.search_many(
        [query] * 4, 3, mode=mode, within=[None, {"p2"}, ["p3", "p2"], {"missing"}]
    )
    assert {h.source for h in in_p2} == {"p2"} and {h.source for h in in_p3} <= {"p2", "p3"}
    assert in_p2[0].text == "Drug X does not lower blood pressure in adults."
    assert nowhere == []
    if mode == "lexical":  # words alone: facts sharing no word with the query are not found
        assert len(in_p2) == 1
    else:
        assert len(in_p2) == 2 and len(in_p3) == 3
        assert anywhere[0].source == "p1"
        assert in_p2[0].score == pytest.approx(
            float(hashing.encode([query])[0] @ hashing.encode([in_p2[0].text])[0]), abs=1e-5
        )


def test_search_within_matches_document_ids_and_source_names(hashing: HashingEmbedder) -> None:
    index = FactIndex(embedder=hashing)
    index.add_documents(Document(doc, text, f"journal/{doc}") for doc, text in PAPERS)
    by_doc, by_source = index.search_many(["Drug X"] * 2, 5, within=[{"p2"}, {"journal/p3"}])
    assert {h.doc_id for h in by_doc} == {"p2"} and {h.doc_id for h in by_source} == {"p3"}
    assert index.holds_any(["p1", "nope"]) and not index.holds_any(["nope"])


def test_search_within_skips_deleted_facts_and_checks_lengths(hashing: HashingEmbedder) -> None:
    index = _index(hashing, "hnsw")
    index.delete(["p2"])
    assert index.search_many(["Drug X"], 3, within=[{"p2"}]) == [[]]
    with pytest.raises(ConfigError, match="2 texts but 1 source sets"):
        index.search_many(["a", "b"], 3, within=[None])
    with pytest.raises(ConfigError, match="a collection of names, not the string 'p2'"):
        index.search_many(["a"], 3, within=["p2"])
    anywhere = index.search_many(["Drug X"], 3)
    assert index.search_many(["Drug X"], 3, within=[set()]) == anywhere  # cites nothing


def test_a_claim_citing_a_source_is_judged_by_it(hashing: HashingEmbedder) -> None:
    checker = ClaimVerifier(_index(hashing), LexicalVerifier(), embedder=hashing)
    claims = extract_claims("Drug X does not lower blood pressure in adults.")
    anywhere = checker.verify(claims)[0]
    citing_p1 = checker.verify(claims, cited=[{"p1"}])[0]
    citing_p2 = checker.verify(claims, cited=[{"p2"}])[0]
    assert anywhere.verdict == "supported"  # p2 says so, and p2 is in the index
    assert citing_p1.verdict == "contradicted" and {c.source for c in citing_p1.citations} == {"p1"}
    assert citing_p2.verdict == "supported"
    with pytest.raises(ConfigError, match="1 claims but 2 citation sets"):
        checker.verify(claims, cited=[None, None])


@pytest.fixture
def cited_index(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"doc_id": int(doc[1:]), "abstract": text.split(". ")}) + "\n"
            for doc, text in PAPERS
        )
    )
    folder = tmp_path / "ix"
    assert runner.invoke(app, ["index", "build", str(corpus), "--out", str(folder)]).exit_code == 0
    return folder


def test_verify_claims_reads_cited_sources_from_each_line(
    cited_index: Path, tmp_path: Path
) -> None:
    claims = tmp_path / "claims.jsonl"
    rows = [
        {
            "id": 1,
            "claim": "Drug X lowers blood pressure in adults (<|cit|>).",
            "cited_doc_ids": [2],
        },
        {"id": 2, "claim": "Drug X lowers blood pressure in adults [4].", "sources": ["3"]},
        {"id": 3, "claim": "Tea has less caffeine.", "cited_doc_ids": []},
        {"id": 4, "claim": "Tea has less caffeine.", "cited_doc_ids": [99]},
    ]
    claims.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    args = ["verify", "--index", str(cited_index), "--claims", str(claims), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["claim"] for r in lines] == [r["claim"] for r in rows]  # the input, as given
    assert {e["source"] for e in lines[0]["evidence"]} == {"2"}
    assert {e["source"] for e in lines[1]["evidence"]} <= {"3"}
    assert any(e["source"] == "3" for e in lines[2]["evidence"])  # cites nothing: whole index
    assert lines[3]["evidence"] == [] and lines[3]["verdict"] == "unverifiable"
    assert "1 claims cite nothing the index holds (line 4)" in result.stderr

    whole = runner.invoke(app, [*args[:-1], str(tmp_path / "whole.jsonl"), "--whole-index"])
    assert whole.exit_code == 0 and "cite nothing" not in whole.stderr
    first = json.loads((tmp_path / "whole.jsonl").read_text().splitlines()[0])
    assert first["evidence"][0]["source"] == "1"


@pytest.mark.parametrize(
    "value",
    ['"2"', "[true]", "[[2]]", '[""]', '{"a": 1}'],
    ids=["str", "bool", "nested", "blank", "obj"],
)
def test_a_malformed_citation_field_names_its_line(
    value: str, cited_index: Path, tmp_path: Path
) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        '{"claim": "Tea has less caffeine."}\n{"claim": "A b c.", "cited_doc_ids": ' + value + "}\n"
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["verify", "--index", str(cited_index), "--claims", str(claims), "--out", str(out)]
    )
    assert result.exit_code == 2 and not out.exists()
    assert (
        "claims.jsonl:2 field cited_doc_ids: field 'cited_doc_ids' must be a list" in result.output
    )


def test_search_within_survives_save_and_load(tmp_path: Path, hashing: HashingEmbedder) -> None:
    index = _index(hashing)
    before = index.search_many(["Drug X lowers blood pressure."], 2, within=[{"p2"}])
    index.save(tmp_path / "ix")  # the source lookup table built by that search is saved too
    loaded = FactIndex.load(tmp_path / "ix", embedder=hashing)
    assert loaded.search_many(["Drug X lowers blood pressure."], 2, within=[{"p2"}]) == before
    loaded.add_documents([Document("p4", "Drug X lowers blood pressure in mice.", "p2")])
    after = loaded.search_many(["Drug X lowers blood pressure in mice."], 1, within=[{"p2"}])
    assert after[0][0].fact_id == "p4#0"
