from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import HashingEmbedder, LexicalVerifier
from pydantic import BaseModel, Field

import guardkit
from guardkit import Outcome, Policy, PolicyError
from guardkit.checks import CheckContext
from guardkit.checks.facts import FactsCheck, FactsCheckConfig
from guardkit.facts import Document, FactIndex
from guardkit.facts.claims import Claim
from guardkit.facts.verify import ClaimVerifier, VerifySettings
from guardkit.verifier import DEFAULT_MODEL
from guardkit.verifier.types import VerdictProbs

RIGHT = "Items can be returned within 30 days of delivery."
WRONG = "Items can be returned within 60 days of delivery."


@pytest.fixture(autouse=True)
def lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until the shipped verifier lands, the check is built with the test-only lexical one."""
    monkeypatch.setattr("guardkit.checks.facts.default_verifier", lambda folder: LexicalVerifier())


def _policy(index: Path | None, action: Any = "raise", **settings: Any) -> Policy:
    section = {**({"index": str(index)} if index else {}), **settings}
    return Policy.model_validate(
        {"id": "p", "version": "1", "checks": {"facts": section}, "actions": {"facts": action}}
    )


def test_supported_answer_passes_with_citations(saved_index: Path) -> None:
    @guardkit.guard(_policy(saved_index), sinks=[])
    def ask() -> str:
        return f"Hi! {RIGHT} Hope this helps!"

    result = ask()
    assert result.outcome is Outcome.RELIABLE and result.output == f"Hi! {RIGHT} Hope this helps!"
    (check,) = result.report.checks
    assert check.check == "facts" and check.passed and check.score == 1.0
    (claim,) = check.details["claims"]
    assert claim["verdict"] == "supported" and claim["claim"]["text"] == RIGHT
    assert claim["citations"][0]["fact_id"] == "returns#0"
    assert claim["citations"][0]["source"] == "help/returns"
    manifest = FactIndex.load(saved_index).manifest
    assert manifest is not None
    assert check.details["evidence"] == [f"index:{manifest.content_sha256}"]


def _reasked(index: Path, first: str) -> tuple[Any, str]:
    """A guarded call answering ``first``, then ``RIGHT`` once reasked; the result and the
    feedback the reask sent."""
    seen: list[list[dict[str, str]] | None] = []

    @guardkit.guard(_policy(index, {"type": "reask", "max_attempts": 2}), sinks=[])
    def ask(messages: list[dict[str, str]] | None = None) -> str:
        seen.append(messages)
        return RIGHT if messages else first

    result = ask()
    assert result.outcome is Outcome.REPAIRED and result.output == RIGHT
    return result, seen[1][-1]["content"]  # type: ignore[index]


@pytest.mark.parametrize("answer", ["", "  \n "])
def test_an_empty_answer_is_no_reliable_completion(saved_index: Path, answer: str) -> None:
    result, feedback = _reasked(saved_index, answer)
    assert "previous answer was empty" in feedback
    failed = result.report.attempts[0].checks[0]
    assert not failed.passed and failed.details["empty"] and failed.details["support_rate"] == 0


def test_an_answer_in_a_script_without_spaces_is_checked_not_waved_through(
    saved_index: Path,
) -> None:
    result, feedback = _reasked(saved_index, "礼品卡可以兑换现金。")  # gift cards: cash
    (check,) = result.report.attempts[0].checks
    (claim,) = check.details["claims"]
    assert not check.passed and claim["claim"]["text"] == "礼品卡可以兑换现金。"
    assert (claim["verdict"], claim["unread_script"]) == ("unverifiable", "cjk")
    assert "cannot read (cjk), so not checked" in feedback


def _claim(text: str) -> Claim:
    return Claim(text=text, start=0, end=len(text), sentence_start=0, sentence_end=len(text))


def test_claims_in_scripts_the_verifier_does_not_read_are_not_put_to_it(
    hashing: HashingEmbedder,
) -> None:
    fact = "Подарочные карты нельзя обменять на наличные."
    claims = ["Подарочные карты можно обменять на наличные.", "Gift cards: 礼品卡 can be sold."]
    for scripts, asked in (
        (("latin",), [claims[1]]),
        (("Latin", "Cyrillic"), claims),
        (None, claims),
    ):
        model = _Says(0.9, 0.05)
        settings = VerifySettings(min_score=-1.0, verdict_min_score=-1.0, scripts=scripts)
        checker = ClaimVerifier(None, model, settings, embedder=hashing)
        verdicts = checker.verify([_claim(c) for c in claims], [fact])
        assert sorted({claim for _, claim in model.seen}) == sorted(asked)
        unread = [v.unread_script for v in verdicts]
        assert unread == (["cyrillic", None] if len(asked) == 1 else [None, None])
        assert verdicts[0].verdict == ("unverifiable" if unread[0] else "supported")
        assert verdicts[0].citations[0].text == fact  # the evidence is still shown


def test_reask_quotes_the_contradicting_evidence(saved_index: Path) -> None:
    result, feedback = _reasked(saved_index, WRONG)
    assert (
        f'- "{WRONG}": the reference says "{RIGHT}" (source help/returns, fact returns#0)'
        in feedback
    )
    failed = result.report.attempts[0].checks[0]
    assert failed.details["contradicted"] == 1 and failed.details["support_rate"] == 0.0


def test_filter_drops_unsupported_sentences(saved_index: Path) -> None:
    answer = f"{RIGHT} Laptops are made of cheese. The warranty does not cover accidental damage."

    @guardkit.guard(_policy(saved_index, "filter", min_support_rate=1.0), sinks=[])
    def ask() -> str:
        return answer

    result = ask()
    assert result.outcome is Outcome.REPAIRED
    assert result.output == f"{RIGHT} The warranty does not cover accidental damage."
    assert result.report.actions[-1].detail is None  # nothing passed over before the filter
    # the report keeps what the check said before the filter: what was taken out, and why
    (attempt,) = result.report.attempts
    failed = attempt.before_repair[-1]
    assert failed.check == "facts" and not failed.passed
    assert ("Laptops are made of cheese.", "unverifiable") in [
        (c["claim"]["text"], c["verdict"]) for c in failed.details["claims"]
    ]
    assert [c.passed for c in attempt.checks] == [True]  # the repaired output's verdict
    assert [(a.failure, a.action) for a in result.report.actions] == [("facts", "filter")]


def test_documents_given_with_the_call_are_evidence() -> None:
    policy = _policy(None, "flag")
    museum = "The museum opens at 9 am on weekdays."

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return museum

    grounded = ask(guardkit_documents=["Welcome! " + museum + " Entry is free."])
    assert grounded.outcome is Outcome.RELIABLE
    assert grounded.report.checks[0].details["claims"][0]["citations"][0]["source"] == "document[1]"
    ungrounded = ask()
    assert ungrounded.outcome is Outcome.FLAGGED
    assert ungrounded.report.checks[0].details["unverifiable"] == 1


MUSEUM = "The museum opens at 9 am on weekdays."
ENTRY = "Entry to the museum is free on Sundays."


@pytest.mark.parametrize("citations", ["cited", "any"])
def test_a_claim_citing_the_calls_documents_is_held_to_them(citations: str) -> None:
    """[2] names the second document passed: under ``cited`` a statement pinned on a document
    that does not say it is unverifiable, even though another document does say it."""
    policy = _policy(None, "flag", citations=citations)
    documents = [f"Welcome! {MUSEUM} {ENTRY}", "The cafe sells cake."]

    @guardkit.guard(policy, sinks=[])
    def ask(answer: str) -> str:
        return answer

    right = ask(f"{MUSEUM} [1] {ENTRY} [1]", guardkit_documents=documents)
    assert right.outcome is Outcome.RELIABLE
    claims = right.report.checks[0].details["claims"]
    assert [c["claim"]["cites"] for c in claims] == [[1], [1]]
    assert {c["citations"][0]["source"] for c in claims} == {"document[1]"}

    wrong = ask(f"{MUSEUM} [1] {ENTRY} [2]", guardkit_documents=documents)
    if citations == "any":
        assert wrong.outcome is Outcome.RELIABLE
        return
    assert wrong.outcome is Outcome.FLAGGED
    check = wrong.report.checks[0]
    assert [c["verdict"] for c in check.details["claims"]] == ["supported", "unverifiable"]
    assert all(c["source"] == "document[2]" for c in check.details["claims"][1]["citations"])
    assert f'- "{ENTRY}" (cites [2], which does not say so)' in (check.feedback or "")


def test_a_citation_beyond_the_documents_given_is_named() -> None:
    @guardkit.guard(_policy(None, "flag"), sinks=[])
    def ask() -> str:
        return f"{MUSEUM} [1] {ENTRY} [1, 3]"

    result = ask(guardkit_documents=[f"{MUSEUM} {ENTRY}"])
    check = result.report.checks[0]
    assert [c["verdict"] for c in check.details["claims"]] == ["supported", "supported"]
    result = ask(guardkit_documents=[MUSEUM, ENTRY])  # [1, 3]: the first does not say it
    check = result.report.checks[0]
    assert check.details["claims"][1]["verdict"] == "unverifiable"
    assert "(cites [1, 3], but only 2 documents were given)" in (check.feedback or "")


def test_filter_takes_a_sentences_marks_along() -> None:
    """A mark after the full stop belongs to the sentence before: filtering that sentence out
    removes its mark, and a filtered answer of marks alone is no answer."""

    @guardkit.guard(_policy(None, "filter", min_support_rate=1.0), sinks=[])
    def ask(answer: str) -> str:
        return answer

    docs = [MUSEUM, "The cafe sells cake."]
    kept = ask(f"{MUSEUM} [1] The museum has a zoo. [2]", guardkit_documents=docs)
    assert kept.outcome is Outcome.REPAIRED and kept.output == f"{MUSEUM} [1]"
    with pytest.raises(guardkit.GuardFailed):  # nothing left to return: filter gives up
        ask("The museum has a zoo. [2]", guardkit_documents=docs)


def test_filter_keeps_the_answers_lines_and_its_code() -> None:
    """Sentences are cut out of their lines: headings, list items and code blocks keep their
    places; an item cut whole goes with its marker; a greeting left alone is no answer."""

    @guardkit.guard(_policy(None, "filter", min_support_rate=1.0), sinks=[])
    def ask(answer: str) -> str:
        return answer

    docs = [MUSEUM, ENTRY]
    listed = ask(
        f"## Visiting\n- {MUSEUM}\n- The museum has a zoo.\n- {ENTRY}", guardkit_documents=docs
    )
    assert listed.output == f"## Visiting\n- {MUSEUM}\n- {ENTRY}"
    code = ask(
        f"Run:\n```\npip install museum\n```\nThe museum has a zoo. {ENTRY}",
        guardkit_documents=docs,
    )
    assert code.output == f"Run:\n```\npip install museum\n```\n{ENTRY}"
    with pytest.raises(guardkit.GuardFailed):  # only "Hope this helps!" would be left
        ask("The museum has a zoo. Hope this helps!", guardkit_documents=docs)


def test_one_document_given_is_named_in_the_singular() -> None:
    @guardkit.guard(_policy(None, "flag"), sinks=[])
    def ask() -> str:
        return f"{ENTRY} [2]"

    check = ask(guardkit_documents=[ENTRY]).report.checks[0]
    assert "(cites [2], but only 1 document was given)" in (check.feedback or "")


def test_an_index_document_named_like_a_call_document_is_not_cited(tmp_path: Path) -> None:
    """ "[1]" names the first document passed with the call, never an index document that
    happens to have the id ``document[1]``."""
    index = FactIndex()
    index.add_documents([Document("document[1]", ENTRY, "document[1]")])
    index.save(tmp_path / "ix")

    @guardkit.guard(_policy(tmp_path / "ix", "flag", min_support_rate=1.0), sinks=[])
    def ask() -> str:
        return f"{ENTRY} [1]"

    result = ask(guardkit_documents=[MUSEUM])
    (claim,) = result.report.checks[0].details["claims"]
    assert claim["verdict"] == "unverifiable"
    assert [c["text"] for c in claim["citations"]] == [MUSEUM]  # the call's, not the index's
    assert ask().outcome is Outcome.RELIABLE  # without documents the index answers


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "topic": {"type": "string"}},
    "required": ["answer"],
}


def test_a_structured_output_is_checked_by_its_statements() -> None:
    """The claims of a JSON output are its fields' sentences, not the JSON text: a right answer
    in a field passes, a wrong sentence in it is named, a label field is no claim."""

    @guardkit.guard(_policy(None, "flag", min_support_rate=1.0), ANSWER_SCHEMA, sinks=[])
    def ask(answer: str) -> str:
        return json.dumps({"answer": answer, "topic": "opening hours"})

    right = ask(MUSEUM, guardkit_documents=[MUSEUM])
    assert right.outcome is Outcome.RELIABLE and right.output["answer"] == MUSEUM
    (_, facts) = right.report.checks
    assert [c["claim"]["text"] for c in facts.details["claims"]] == [MUSEUM]
    wrong = ask(f"{MUSEUM} The museum has a zoo.", guardkit_documents=[MUSEUM])
    assert wrong.outcome is Outcome.FLAGGED
    verdicts = wrong.report.checks[1].details["claims"]
    assert [(c["claim"]["text"], c["verdict"]) for c in verdicts] == [
        (MUSEUM, "supported"),
        ("The museum has a zoo.", "unverifiable"),
    ]


def test_a_structured_output_without_statements_is_no_empty_answer() -> None:
    schema = {"type": "object", "properties": {"in_stock": {"type": "boolean"}}}

    @guardkit.guard(_policy(None, "flag"), schema, sinks=[])
    def ask() -> str:
        return json.dumps({"in_stock": True})

    result = ask(guardkit_documents=[MUSEUM])
    assert result.outcome is Outcome.RELIABLE and result.output == {"in_stock": True}


def test_filter_cuts_sentences_out_of_a_structured_outputs_fields() -> None:
    """The unsupported sentence leaves the field it is in; the rest of the value stays, and the
    schema check judges the result again."""
    policy = _policy(None, {"type": "filter", "then": "flag"}, min_support_rate=1.0)

    @guardkit.guard(policy, ANSWER_SCHEMA, sinks=[])
    def ask(answer: str) -> str:
        return json.dumps({"answer": answer, "topic": "hours"})

    result = ask(f"{MUSEUM} The museum has a zoo.", guardkit_documents=[MUSEUM])
    assert result.outcome is Outcome.REPAIRED
    assert result.output == {"answer": MUSEUM, "topic": "hours"}
    nothing = ask("The museum has a zoo.", guardkit_documents=[MUSEUM])
    assert nothing.outcome is Outcome.FLAGGED  # nothing true left: no remedy, the fallback
    (flag,) = nothing.report.actions
    assert flag.action == "flag"
    assert "filter: the facts check offers no filter (passed over)" in (flag.detail or "")


class _Aliased(BaseModel):
    full_answer: str = Field(alias="fullAnswer")


def test_filter_keeps_a_models_aliases() -> None:
    """The filtered output is the JSON the schema validated, minus a sentence: a pydantic
    model's aliases stay its keys."""
    policy = _policy(None, {"type": "filter", "then": "flag"}, min_support_rate=1.0)

    @guardkit.guard(policy, _Aliased, sinks=[])
    def ask() -> str:
        return json.dumps({"fullAnswer": f"{MUSEUM} The museum has a zoo."})

    result = ask(guardkit_documents=[MUSEUM])
    assert result.outcome is Outcome.REPAIRED
    assert result.output == _Aliased(fullAnswer=MUSEUM)


def test_citation_numbers_restrict_index_evidence_too(saved_index: Path) -> None:
    """A claim citing a document gets no evidence from the index: the citation says where
    the statement comes from. Claims citing nothing keep the index and every document."""

    @guardkit.guard(_policy(saved_index, "flag", min_support_rate=1.0), sinks=[])
    def ask(answer: str) -> str:
        return answer

    assert ask(f"{RIGHT} [1]", guardkit_documents=[MUSEUM]).outcome is Outcome.FLAGGED
    assert ask(RIGHT, guardkit_documents=[MUSEUM]).outcome is Outcome.RELIABLE
    # no documents with the call: the numbers cannot point anywhere and are not read
    assert ask(f"{RIGHT} [1]").outcome is Outcome.RELIABLE


def test_thresholds_decide(saved_index: Path) -> None:
    index = FactIndex.load(saved_index)
    text = f"{RIGHT} Express shipping costs 15 dollars. Laptops are made of cheese."
    for rate, passed in ((0.6, True), (0.7, False)):
        config = FactsCheckConfig(index=saved_index, min_support_rate=rate)
        check = FactsCheck(config, ClaimVerifier(index, LexicalVerifier(), config.settings()))
        result = check.run(CheckContext(text=text, value=text, attempt=1))
        assert result.passed is passed and result.score == pytest.approx(2 / 3)
    no_claims = check.run(CheckContext(text="Thanks! Anything else?", value=None, attempt=1))
    assert no_claims.passed and no_claims.details["claims"] == []
    all_bad = check.run(CheckContext(text="Laptops are made of cheese.", value=None, attempt=1))
    assert not all_bad.passed and all_bad.filtered_text is None


@pytest.mark.parametrize(
    ("section", "loc", "message"),
    [
        (
            {"index": "no/such/index"},
            ("checks", "facts", "index"),
            "no fact index at no/such/index",
        ),
        ({"top_k": 0}, ("checks", "facts", "top_k"), "greater than or equal to 1"),
        (
            {"min_support_rate": 1.5},
            ("checks", "facts", "min_support_rate"),
            "less than or equal to 1",
        ),
        ({"max_contradiction": 1}, ("checks", "facts", "max_contradiction"), "Extra inputs"),
        ({"scripts": ["english"]}, ("checks", "facts", "scripts"), "unknown script 'english'"),
        ({"scripts": []}, ("checks", "facts", "scripts"), "use null to read every one"),
    ],
)
def test_bad_sections_are_policy_errors(
    section: dict[str, Any], loc: tuple[str, ...], message: str
) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.model_validate({"id": "p", "version": "1", "checks": {"facts": section}})
    (issue,) = info.value.issues
    assert issue.loc == loc and message in issue.message


def test_index_path_is_relative_to_the_policy_file(saved_index: Path, tmp_path: Path) -> None:
    policy_file = saved_index.parent / "policy.yaml"
    policy_file.write_text(
        f'id: p\nversion: "1"\nchecks:\n  facts: {{index: {saved_index.name}}}\n'
    )
    policy = guardkit.load_policy(policy_file)
    assert policy.check_configs["facts"].index == saved_index  # type: ignore[attr-defined]


def test_verifier_folder_is_relative_to_the_policy_file(
    saved_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy_file = saved_index.parent / "policy.yaml"
    section = f"{{index: {saved_index.name}, verifier: models/mine}}"
    policy_file.write_text(f'id: p\nversion: "1"\nchecks:\n  facts: {section}\n')
    with pytest.raises(guardkit.PolicyError, match="no model folder at"):  # not there yet
        guardkit.load_policy(policy_file)
    folder = saved_index.parent / "models" / "mine"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_MODEL / "manifest.json", folder / "manifest.json")  # stubbed below
    policy = guardkit.load_policy(policy_file)
    assert policy.check_configs["facts"].verifier == folder  # type: ignore[attr-defined]
    loaded: list[Path | None] = []
    monkeypatch.setattr(
        "guardkit.checks.facts.default_verifier",
        lambda folder: loaded.append(folder) or LexicalVerifier(),
    )
    guardkit.guard(policy, sinks=[])
    assert loaded == [folder]


class CountingVerifier(LexicalVerifier):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def predict(self, pairs):  # type: ignore[no-untyped-def]
        self.seen += pairs
        return super().predict(pairs)


def test_a_fact_found_twice_takes_one_place_and_is_verified_once(saved_index: Path) -> None:
    index = FactIndex.load(saved_index)
    counting = CountingVerifier()
    fact = index.search("return window", k=1)[0].text
    checker = ClaimVerifier(index, counting, VerifySettings(top_k=3, min_score=-1.0))
    (verdict,) = checker.verify_text(fact, documents=[fact + " Our shop is in Berlin."])
    texts = [c.text for c in verdict.citations]
    assert texts.count(fact) == 1 and len(texts) == 3  # the copy's place went to other evidence
    assert len(counting.seen) == len(set(counting.seen))
    assert verdict.verdict == "supported"


class _Says:
    """Gives every pair the same reading, as the shipped verifier often does for unrelated
    evidence (its numbers and names read as a contradiction, its wording as support)."""

    def __init__(self, supported: float, contradicted: float) -> None:
        self.probs = VerdictProbs(
            supported=supported,
            contradicted=contradicted,
            not_enough_info=1.0 - supported - contradicted,
        )

        self.seen: list[tuple[str, str]] = []

    def predict(self, pairs: Any) -> list[VerdictProbs]:
        self.seen += pairs
        return [self.probs] * len(pairs)


@pytest.mark.parametrize(
    ("reading", "verdict"), [((0.05, 0.9), "contradicted"), ((0.9, 0.05), "supported")]
)
def test_only_evidence_about_the_same_thing_decides(
    reading: tuple[float, float], verdict: str, hashing: HashingEmbedder
) -> None:
    claim = "Express shipping costs 15 dollars."
    same_thing, other_thing = "Express shipping costs 20 dollars.", "Laptops carry a warranty."
    vectors = hashing.encode([claim, same_thing, other_thing])
    assert vectors[0] @ vectors[1] > 0.5 > vectors[0] @ vectors[2]

    def judged(documents: list[str], **settings: float) -> tuple[str, list[str]]:
        checker = ClaimVerifier(None, _Says(*reading), VerifySettings(**settings), embedder=hashing)
        (v,) = checker.verify_text(claim, documents)
        return v.verdict, [c.text for c in v.citations]

    assert judged([other_thing], min_score=-1.0) == ("unverifiable", [other_thing])  # shown
    says = _Says(*reading)
    (alone,) = ClaimVerifier(
        None, says, VerifySettings(min_score=-1.0), embedder=hashing
    ).verify_text(claim, [other_thing])
    assert says.seen == [] and alone.citations[0].supported is None  # never sent to the model
    assert judged([other_thing, same_thing], min_score=-1.0) == (verdict, [same_thing, other_thing])
    assert judged([other_thing], verdict_min_score=-1.0, min_score=-1.0)[0] == verdict
    config = FactsCheckConfig(verdict_min_score=0.1)  # the policy's facts section sets it
    assert config.settings().verdict_min_score == 0.1


def test_clauses_of_a_sentence_stated_word_for_word_are_supported(
    hashing: HashingEmbedder,
) -> None:
    """A sentence cut into clauses ("takes 3 days" / "costs 49 euros") that the evidence states
    word for word is supported clause by clause, whatever the model reads into a part."""
    fact = "Standard delivery within Germany takes 3 to 5 working days and costs 49 euros."
    model = _Says(0.0, 0.9)
    checker = ClaimVerifier(
        None, model, VerifySettings(min_score=-1.0, verdict_min_score=-1.0), embedder=hashing
    )
    verdicts = checker.verify_text(fact, [f"Delivery. {fact} Returns are free."])
    assert [(v.claim.text, v.verdict) for v in verdicts] == [
        ("Standard delivery within Germany takes 3 to 5 working days", "supported"),
        ("Standard delivery within Germany costs 49 euros.", "supported"),
    ]
    assert all(evidence != fact for evidence, _ in model.seen)  # settled without the model
    assert {v.claim.sentence for v in verdicts} == {fact}
    (other,) = checker.verify_text("Standard delivery within Germany costs 49 euros.", [fact])
    assert other.verdict == "contradicted"  # a sentence of its own: the model decides


def test_a_repair_names_the_actions_passed_over_before_it() -> None:
    policy = _policy(
        None, {"type": "reask", "max_attempts": 1, "then": "filter"}, min_support_rate=1.0
    )

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return f"{MUSEUM} The museum has a zoo."

    result = ask(guardkit_documents=[MUSEUM])
    (filtered,) = result.report.actions
    assert filtered.action == "filter"
    assert filtered.detail == "reask: 1 attempts used (passed over)"
