from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from guardkit.errors import ConfigError
from guardkit.verifier import (
    LABELS,
    OnnxVerifier,
    VerdictProbs,
    Verifier,
    join_documents,
    load_verifier,
)
from guardkit.verifier._windows import plan_windows

ENTAILED = [
    ("The Eiffel Tower is in Paris and was completed in 1889.", "The Eiffel Tower is in Paris."),
    ("A man is playing a guitar on a stage in front of a crowd.", "A man plays an instrument."),
    ("Marie Curie won the Nobel Prize in Physics in 1903.", "Marie Curie won a Nobel Prize."),
]
CONTRADICTED = [
    ("A woman is slicing tomatoes in a kitchen.", "A man is sleeping in a car."),
    ("A man is playing a guitar on a stage in front of a crowd.", "Nobody is playing a guitar."),
    ("The meeting was held on Monday in Oslo.", "The meeting was not held in Oslo."),
]
# Swapped facts (a name, a number): the swapped claim must be clearly less supported.
SWAPS = [
    ("The Eiffel Tower is in Paris and was completed in 1889.", "in Paris.", "in Rome."),
    ("The Eiffel Tower is in Paris and was completed in 1889.", "in 1889.", "in 1925."),
]


def test_default_model_loads_once_and_is_a_verifier(verifier: OnnxVerifier) -> None:
    assert load_verifier() is verifier
    assert isinstance(verifier, Verifier)
    assert verifier.manifest.labels == list(LABELS)


@pytest.mark.parametrize(("evidence", "claim"), ENTAILED)
def test_clear_entailment_is_supported(verifier: OnnxVerifier, evidence: str, claim: str) -> None:
    (p,) = verifier.predict([(evidence, claim)])
    assert p.label == "supported", p


@pytest.mark.parametrize(("evidence", "claim"), CONTRADICTED)
def test_clear_contradiction_is_not_supported(
    verifier: OnnxVerifier, evidence: str, claim: str
) -> None:
    (p,) = verifier.predict([(evidence, claim)])
    assert p.supported < 0.5, p
    assert p.contradicted > p.supported, p


@pytest.mark.parametrize(("evidence", "faithful", "swapped"), SWAPS)
def test_swapped_fact_is_less_supported(
    verifier: OnnxVerifier, evidence: str, faithful: str, swapped: str
) -> None:
    stem = "The Eiffel Tower is" if "Paris" in faithful else "The Eiffel Tower was completed"
    good, bad = verifier.predict(
        [(evidence, f"{stem} {faithful}"), (evidence, f"{stem} {swapped}")]
    )
    assert bad.supported < good.supported - 0.05, (good, bad)


def test_probabilities_are_typed_and_sum_to_one(verifier: OnnxVerifier) -> None:
    out = verifier.predict(ENTAILED + CONTRADICTED)
    assert len(out) == 6
    for p in out:
        assert isinstance(p, VerdictProbs)
        assert abs(p.supported + p.contradicted + p.not_enough_info - 1) < 1e-6
    assert verifier.predict([]) == []


def test_batch_order_does_not_change_results(verifier: OnnxVerifier) -> None:
    pairs = ENTAILED + CONTRADICTED
    together = verifier.probs_array(pairs)
    alone = [verifier.probs_array([p])[0] for p in pairs]
    for a, b in zip(together, alone, strict=True):
        # int8 dynamic quantization scales activations per batch: batch-mates move a pair a little
        assert abs(a - b).max() < 0.05


FILLER = " ".join(
    f"Paragraph {i} describes the weather, which was mild and grey for most of the season."
    for i in range(60)
)


def test_long_evidence_is_windowed_not_cut(verifier: OnnxVerifier) -> None:
    evidence = FILLER + " The treaty was signed in Oslo on 3 May 1921 by both governments."
    claim = "The treaty was signed in Oslo."
    segs = plan_windows(verifier.tokenizer, [(evidence, claim)], verifier.manifest.max_length, 3)
    assert len(segs) > 5
    assert "signed in Oslo on 3 May 1921" in segs[-1].evidence  # the end is scored, not dropped
    for seg in segs:  # every window fits the model
        n = len(verifier.tokenizer.encode(seg.evidence, seg.claim).ids)
        assert n <= verifier.manifest.max_length
    # no window leans "contradicted", so the folded result is the most supportive window's own
    # prediction (see _windows)
    (found,) = verifier.predict([(evidence, claim)])
    per_window = verifier.probs_array([(seg.evidence, claim) for seg in segs])
    assert not (per_window.argmax(axis=1) == 1).any()
    best = per_window[per_window[:, 0].argmax()]
    assert abs(found.supported - best[0]) < 0.05
    # only the last window holds the treaty sentence: it decides, and leans "supported" there
    # (the sentence alone is clearly supported; ~100 tokens of filler beside it dilute that).
    # Filler windows draw P(contradicted) up to ~0.4, but lean "not enough info": no vote.
    assert per_window[:-1, 0].max() < per_window[-1, 0]
    assert found.supported > found.contradicted
    (alone,) = verifier.predict([(evidence[len(FILLER) :], claim)])
    assert alone.supported > 0.5 and alone.supported > found.supported


def test_long_claim_is_split_into_pieces(verifier: OnnxVerifier) -> None:
    claim = " ".join(["The committee approved the annual budget without changes."] * 20)
    segs = plan_windows(verifier.tokenizer, [("Short evidence.", claim)], 128, 3)
    assert len({s.piece for s in segs}) > 1
    assert len(verifier.predict([("Short evidence.", claim)])) == 1


def test_thread_safe(verifier: OnnxVerifier) -> None:
    pairs = ENTAILED + CONTRADICTED
    expected = verifier.probs_array(pairs)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: verifier.probs_array(pairs), range(8)))
    for got in results:
        assert abs(got - expected).max() < 1e-6


@pytest.mark.parametrize(("pair", "which"), [(("", "claim"), "evidence"), (("ev", "  "), "claim")])
def test_empty_text_is_a_config_error(
    verifier: OnnxVerifier, pair: tuple[str, str], which: str
) -> None:
    with pytest.raises(ConfigError) as err:
        verifier.predict([pair])
    assert err.value.loc == (0, which)


def test_public_surface_is_sorted_and_complete() -> None:
    import guardkit.verifier as pkg

    assert pkg.__all__ == sorted(pkg.__all__)
    for name in pkg.__all__:
        assert hasattr(pkg, name)


def test_load_verifier_is_shared_across_threads(model_copy) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(lambda _: load_verifier(model_copy), range(4)))
    assert all(v is loaded[0] for v in loaded)


@pytest.mark.parametrize(
    ("evidence", "claim"),
    [
        ("Ceci n'est pas une pipe. 東京は日本の首都です。", "Tokyo is the capital of Japan."),
        ("@@@ ### ~~~ ;;; \x00\x01 ))))", "!!! ??? ..."),
        ("a " * 3000, "b " * 400),
    ],
)
def test_odd_text_gets_valid_probabilities(
    verifier: OnnxVerifier, evidence: str, claim: str
) -> None:
    (p,) = verifier.predict([(evidence, claim)])
    assert abs(p.supported + p.contradicted + p.not_enough_info - 1) < 1e-6


@pytest.mark.parametrize(("env", "expected"), [("1", 1), ("3", 3)])
def test_threads_follow_omp_num_threads(
    monkeypatch: pytest.MonkeyPatch, verifier: OnnxVerifier, env: str, expected: int
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", env)
    fresh = OnnxVerifier(verifier.folder)  # int8: pairs alone, one-thread runs side by side
    assert (
        fresh.threads == expected and fresh.session.get_session_options().intra_op_num_threads == 1
    )
    batched = OnnxVerifier(verifier.folder, intra_op_threads=2, batch_size=8)
    assert batched.session.get_session_options().intra_op_num_threads == 2


def test_pair_that_fits_the_model_is_one_window(verifier: OnnxVerifier) -> None:
    tok, width = verifier.tokenizer, verifier.manifest.max_length
    claim = "The committee approved the budget."
    evidence = "word"
    while len(tok.encode(evidence + " word", claim).ids) <= width:
        evidence += " word"
    assert len(tok.encode(evidence, claim).ids) == width
    assert len(plan_windows(tok, [(evidence, claim)], width, verifier._special)) == 1
    longer = evidence + " word"
    assert len(plan_windows(tok, [(longer, claim)], width, verifier._special)) == 2


def test_a_pair_scores_the_same_whatever_it_is_batched_with(verifier: OnnxVerifier) -> None:
    pairs = [*ENTAILED, *CONTRADICTED]
    alone = [verifier.predict([pair])[0] for pair in pairs]
    filler = ("A long note about the weather, the trains and the price of bread in 1990. " * 5, "x")
    together = verifier.predict([filler, *pairs, filler])[1:-1]
    assert alone == together


def test_documents_are_windowed_apart_and_together(verifier: OnnxVerifier) -> None:
    """Joined by ``join_documents``, each document gets its own windows and the documents
    joined get theirs; what the response replies to follows each document. One document reads
    as it always did."""
    tok, width = verifier.tokenizer, verifier.manifest.max_length
    docs = ["The Eiffel Tower is in Paris.", " ", "Rome is in Italy."]
    claim = "The Eiffel Tower is in Paris."
    joined = join_documents(docs, "Question: Where?")
    windows = [s.evidence for s in plan_windows(tok, [(joined, claim)], width, verifier._special)]
    first, second = f"{docs[0]}\nQuestion: Where?", f"{docs[2]}\nQuestion: Where?"
    assert windows == [first, second, f"{first}\n\n{second}"]
    assert join_documents([" Paris. "], "Question: Where?") == "Paris.\nQuestion: Where?"
    assert join_documents(["Paris."]) == "Paris."
    # a document that says it is read alone as well as among the others ...
    (apart,) = verifier.predict([(join_documents(docs), claim)])
    (alone,) = verifier.predict([(docs[0], claim)])
    assert apart.supported >= alone.supported > 0.5
    # ... and a claim that needs two documents still finds them together
    two = ["The Eiffel Tower is in Paris.", "It was completed in 1889 for the World's Fair."]
    (both,) = verifier.predict(
        [(join_documents(two), "The Eiffel Tower in Paris was completed in 1889.")]
    )
    assert both.supported > 0.5


def test_window_cap_ranks_by_the_claims_content_words(verifier: OnnxVerifier) -> None:
    """With more windows than ``max_windows``, the ones sharing the claim's content words are
    kept, not those sharing "the" and "in"."""
    filler = [f"It was in the {w} town, the one that was in the north." for w in "abcdefgh"]
    docs = [*filler, "Eiffel Tower work ended 1889."]
    claim = "The tower was finished in 1889."
    segs = plan_windows(verifier.tokenizer, [(join_documents(docs), claim)], 128, 3, 6)
    assert len(segs) == 6 and docs[-1] in [s.evidence for s in segs]


@pytest.mark.parametrize(
    ("text", "spelt"),
    [
        ("Gift cards cannot be used.", "Gift cards can not be used."),
        ("We can't ship. Won't work", "We can not ship. Will not work"),
        (
            "It doesn\u2019t open; they aren't; I haven't",
            "It does not open; they are not; I have not",
        ),
        ("Cannot", "Can not"),
        ("canned goods, a cannon, don't", "canned goods, a cannon, do not"),
        ("Ain't so", "Ain't so"),
        ("aren\u00b4t, can\u02bct, won`t", "are not, can not, will not"),
    ],
)
def test_negative_contractions_are_spelt_out(text: str, spelt: str) -> None:
    from guardkit.verifier._negations import spell_out_negations

    assert spell_out_negations(text) == spelt


def test_a_contracted_negation_contradicts_the_plain_claim() -> None:
    """v5 read "cannot" as support (0.85) and "can't" / "won't" as a coin toss."""
    v = load_verifier()
    claims = [
        ("Gift cards cannot be exchanged for cash.", "Gift cards can be exchanged for cash."),
        ("The courier won't collect on Saturdays.", "The courier will collect on Saturdays."),
        ("Customers can't change plans online.", "Customers can change plans online."),
    ]
    assert [p.label for p in v.predict(claims)] == ["contradicted"] * 3


def test_training_reads_pairs_as_the_runtime_does() -> None:
    from tokenizers import Tokenizer

    from guardkit.verifier import DEFAULT_MODEL
    from guardkit.verifier.training.loop import encode_batch

    tok = Tokenizer.from_file(str(DEFAULT_MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    contracted = encode_batch(tok, [("It can't rain.", "It won't.")], 128)["input_ids"]
    spelt = encode_batch(tok, [("It can not rain.", "It will not.")], 128)["input_ids"]
    assert contracted.tolist() == spelt.tolist()


def test_the_verifiers_identity_names_how_it_reads_pairs() -> None:
    from guardkit._shipped import shipped_folder
    from guardkit.verifier import DEFAULT_MODEL, verifier_identity

    assert verifier_identity().endswith(" reading:2")
    assert shipped_folder(DEFAULT_MODEL.name) == DEFAULT_MODEL
    for path in (f"./{DEFAULT_MODEL.name}", f"~/{DEFAULT_MODEL.name}", "", ".."):
        assert shipped_folder(path) is None
