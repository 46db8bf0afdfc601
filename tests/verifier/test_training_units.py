from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from guardkit.errors import ConfigError
from guardkit.verifier.metrics import auroc, balanced_accuracy, best_threshold, ece, macro_f1
from guardkit.verifier.scoring import aggregate, split_claims
from guardkit.verifier.training.examples import CONTRADICTED, NOT_ENOUGH_INFO, SUPPORTED
from guardkit.verifier.training.halueval import halueval_pairs, rows
from guardkit.verifier.training.loop import TrainConfig, fast_bf16, partial_label_loss
from guardkit.verifier.training.mix import read_user_pairs
from guardkit.verifier.training.synthetic import (
    _other_subject,
    _restate,
    _subject_names,
    _swap_name,
    synthetic_pairs,
)

torch.set_num_threads(1)


def test_partial_label_loss() -> None:
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.7, 0.2, 0.1]]))
    loss = partial_label_loss(logits, torch.tensor([0, 1, 3]))
    expected = -(math.log(0.7) + math.log(0.2) + math.log(0.3)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_split_claims_uses_a_sentence_segmenter() -> None:
    text = "Dr. Smith arrived at 3 p.m. on Monday. He left early! Was it 5.5 km? ..."
    assert split_claims(text) == [
        "Dr. Smith arrived at 3 p.m. on Monday.",
        "He left early!",
        "Was it 5.5 km?",
    ]
    assert split_claims("Arthur's Magazine") == ["Arthur's Magazine"]  # all there is: judged
    assert split_claims("Yes.") == ["Yes."]  # answers the question the evidence holds
    assert split_claims("- **Refunds** take 5 days. Hope this helps!") == ["Refunds take 5 days."]
    closers = "Please contact us. If you have any questions, let me know. I'm happy to help."
    assert split_claims(f"Refunds take 5 days. {closers}") == ["Refunds take 5 days."]


def test_aggregate() -> None:
    assert aggregate([0.1, 0.8], 0.4, "max_claim") == 0.8
    assert aggregate([0.1, 0.8], 0.4, "whole_and_max_claim") == pytest.approx(0.6)
    with pytest.raises(ConfigError, match="unknown aggregation 'mean'"):
        aggregate([0.1], 0.1, "mean")


def test_metrics() -> None:
    assert auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert auroc([0, 1], [0.5, 0.5]) == 0.5
    assert balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0]) == 0.5
    assert macro_f1([0, 1, 2], [0, 1, 2], 3) == 1.0
    assert ece([1, 0], [1.0, 0.0]) == 0.0
    assert ece([1, 1, 0, 0], [0.5, 0.5, 0.5, 0.5]) == 0.0
    assert best_threshold([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9]) == 0.5  # ties keep 0.5
    assert best_threshold([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.9]) == 0.7


def test_synthetic_pairs_are_deterministic_and_labelled() -> None:
    docs = [
        [
            "The plant opened in 1998 in Leeds.",
            "It employs 420 people on two shifts.",
            "Output increased after the new line was installed.",
            "The company was founded by Maria Lopez.",
            "Its products are sold in Europe and Asia.",
        ]
    ]
    a = synthetic_pairs(docs, 60, seed=3)
    assert a == synthetic_pairs(docs, 60, seed=3)
    labels = {e.label for e in a}
    assert labels == {SUPPORTED, CONTRADICTED, NOT_ENOUGH_INFO}
    for e in a:
        if e.label == CONTRADICTED:
            assert e.claim not in e.evidence
        if e.label == NOT_ENOUGH_INFO:
            assert e.claim not in e.evidence


@pytest.mark.parametrize(
    ("sentence", "restated"),
    [
        (
            "Standard delivery within Germany takes 3 to 5 working days and costs 49 euros.",
            "Standard delivery within Germany costs 49 euros.",
        ),
        ("The company was founded in 1998 and is based in Oslo.", "The company is based in Oslo."),
        (
            "He has pleaded not guilty and is being tried separately.",
            "He is being tried separately.",
        ),
        # Not a second predicate: coordinated subjects, nouns and participles, relative clauses.
        ("Smith and Jones won the race.", None),
        ("The results showed a decline in mortality and improved survival in 30 patients.", None),
        ("Table 2 shows the size of the link between weight loss and changes in risk.", None),
        ("Patients who received the drug had fewer events and were discharged early.", None),
        ("The plant opened in 1998.", None),
    ],
)
def test_restate_joins_the_subject_to_its_second_predicate(
    sentence: str, restated: str | None
) -> None:
    assert _restate(sentence) == restated


def test_restated_claims_are_supported_and_have_contradicted_twins() -> None:
    """Restatable sentences are drawn often enough to teach the form under both labels."""
    doc = [
        "The shop opened in 2004 in a former bank.",
        "Standard delivery within Germany takes 3 to 5 working days and costs 49 euros.",
        "Returns are accepted for 30 days.",
        "The store is closed on Sundays.",
        "Gift cards never expire.",
    ]
    pairs = synthetic_pairs([doc], 400, seed=1)
    restated = "Standard delivery within Germany costs 49 euros."
    assert any(e.claim == restated and e.label == SUPPORTED for e in pairs)
    twins = [e for e in pairs if e.source.startswith("synthetic_restated_")]
    assert twins and all(e.label == CONTRADICTED for e in twins)
    assert any(e.claim.startswith("Standard delivery within Germany costs") for e in twins)


@pytest.mark.parametrize(
    ("sentence", "subject"),
    [
        ("Delivery to Austria costs 89 euros.", ["Austria"]),
        ("The Nordlicht 625 battery has a capacity of 625 watt-hours.", ["Nordlicht"]),
        ("Marie Curie was born in Warsaw.", ["Marie Curie"]),
        # A name only after the predicate, a capitalised word that is no name, no predicate,
        # and a role only one subject can hold (another subject there is a contradiction).
        ("The battery was made in Germany.", []),
        ("Patients treated early had fewer events.", []),
        ("Obama in Berlin.", []),
        ("Paris is the capital of France.", []),
        ("Austria was the first country to ban it.", []),
    ],
)
def test_subject_names_are_the_names_before_the_first_predicate(
    sentence: str, subject: list[str]
) -> None:
    known = {"Austria", "Nordlicht", "Marie Curie", "Germany", "Obama", "Berlin", "Paris"}
    assert [sentence[a:b] for a, b in _subject_names(sentence, known)] == subject


def test_another_subject_is_not_enough_info_and_another_object_a_contradiction() -> None:
    known = {"Austria", "Germany", "Marie Curie", "Warsaw"}
    rng = random.Random(0)
    claims = {_other_subject("Delivery to Austria costs 89 euros.", rng, ["Germany"], known)}
    for _ in range(20):
        claims.add(_other_subject("Delivery to Austria costs 89 euros.", rng, ["Germany"], known))
    assert "Delivery to Germany costs 89 euros." in claims  # the value kept ...
    assert all(c and c.startswith("Delivery to Germany costs ") for c in claims)
    assert len(claims) > 1  # ... or changed: neither settles a fact about Germany
    assert _other_subject("Delivery to Austria costs 89 euros.", rng, ["Austria"], known) is None
    swapped = _swap_name("Marie Curie was born in Warsaw.", rng, ["Lyon"])
    assert swapped == "Marie Curie was born in Lyon."  # the subject is never the swapped name
    assert _swap_name("Delivery to Austria costs 89 euros.", rng, ["Lyon"]) is None


def test_synthetic_other_subject_pairs_are_not_enough_info() -> None:
    doc = [
        "The company opened its first shop in 2004.",
        "Delivery to Austria takes 5 working days and costs 89 euros.",
        "Returns to Germany are free for 30 days.",
        "The store is closed on Sundays.",
        "Gift cards never expire.",
    ]
    pairs = synthetic_pairs([doc], 400, seed=2)
    moved = [e for e in pairs if e.source == "synthetic_other_subject"]
    assert moved and all(e.label == NOT_ENOUGH_INFO for e in moved)
    assert all(e.claim not in e.evidence for e in moved)
    assert any(e.claim.startswith("Delivery to Germany takes") for e in moved)


def test_halueval_test_rows_are_never_training_pairs() -> None:
    with pytest.raises(ValueError, match="never used"):
        halueval_pairs(Path(), "test", seed=0)


def test_halueval_split_rule(tmp_path: Path) -> None:
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(10)))
    assert [i for i, _ in rows(tmp_path, "qa", "test")] == [0, 5]
    assert [i for i, _ in rows(tmp_path, "qa", "calibration")] == [1, 6]
    assert [i for i, _ in rows(tmp_path, "qa", "train")] == [2, 3, 4, 7, 8, 9]


def test_user_pairs_split_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "pairs.jsonl"
    rng = random.Random(0)
    labels = ["supported", "contradicted", "not_enough_info", "unsupported"]
    good.write_text(
        "".join(
            json.dumps({"evidence": f"ev {i}", "claim": f"claim {i}", "label": rng.choice(labels)})
            + "\n"
            for i in range(60)
        )
    )
    mix = read_user_pairs(good, seed=1)
    assert len(mix.train) + len(mix.calib_pairs) == 60
    assert 2 <= len(mix.calib_pairs) <= 25
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"evidence": "e", "claim": "c", "label": "supported"}\n{"evidence": ""}\n')
    with pytest.raises(ConfigError) as err:
        read_user_pairs(bad, seed=1)
    assert (err.value.file, err.value.line, err.value.loc) == (str(bad), 2, ("evidence",))
    one_kind = tmp_path / "supported.jsonl"
    one_kind.write_text(
        "".join(
            json.dumps({"evidence": f"ev {i}", "claim": f"claim {i}", "label": "supported"}) + "\n"
            for i in range(60)
        )
    )
    with pytest.raises(ConfigError, match="holds only supported pairs"):  # no threshold to fit
        read_user_pairs(one_kind, seed=1)


def test_fold_rule_picks_the_most_decisive_window() -> None:
    from guardkit.verifier._windows import Segment, fold

    segs = [Segment(0, 0, "w1", "c"), Segment(0, 0, "w2", "c"), Segment(1, 0, "w", "c")]
    probs = np.array([[0.2, 0.1, 0.7], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2]])
    out = fold(segs, probs, 2)
    assert out[0].tolist() == [0.1, 0.8, 0.1]
    assert out[1].tolist() == [0.6, 0.2, 0.2]


def test_claim_signals() -> None:
    from guardkit.verifier.signals import claim_signals

    ctx = "Arthur's Magazine (1844) was published in Philadelphia. First for Women is newer."
    assert claim_signals(ctx, "Arthur's Magazine") == {
        "novel_number": 0.0,
        "novel_name": 0.0,
        "novel_content": 0.0,
    }
    s = claim_signals(ctx, "It was founded in 1901 in Boston by Tom Hanks.")
    assert s["novel_number"] == 1.0
    assert s["novel_name"] == 1.0
    assert s["novel_content"] > 0.5


def test_claim_count_signal_is_log_scaled_and_capped() -> None:
    from guardkit.verifier.signals import RESPONSE_SIGNALS, response_signals

    assert set(response_signals(1, 10, 128)) == set(RESPONSE_SIGNALS)
    counts = [response_signals(n, 10, 128)["claim_count"] for n in (0, 1, 2, 10, 50)]
    assert counts[:2] == [0.0, 0.0] and counts[3:] == [1.0, 1.0]
    assert counts[2] == pytest.approx(math.log(2) / math.log(10))


def test_long_context_signal_counts_model_windows_on_a_log_scale() -> None:
    from guardkit.verifier.signals import response_signals

    longs = [response_signals(1, n, 128)["long_context"] for n in (0, 128, 256, 1024, 50_000)]
    assert longs[:2] == [0.0, 0.0] and longs[3:] == [1.0, 1.0]
    assert longs[2] == pytest.approx(1 / 3)
    assert response_signals(1, 256, 512)["long_context"] == 0.0


def test_calibrated_risk_uses_signal_weights() -> None:
    from guardkit.verifier.manifest import Calibration
    from guardkit.verifier.scoring import calibrate_risk

    cal = Calibration(risk_a=1.0, risk_b=0.0, signal_weights={"novel_number": 2.0})
    raw = np.array([0.5, 0.5])
    out = calibrate_risk(raw, cal, {"novel_number": np.array([0.0, 1.0])})
    assert out[0] == pytest.approx(0.5)
    assert out[1] == pytest.approx(1 / (1 + math.exp(-2.0)))
    with pytest.raises(ConfigError, match="novel_number"):
        calibrate_risk(raw, cal)


def test_calibrated_risk_scales_the_model_logit_by_slope_signals() -> None:
    from guardkit.verifier.manifest import Calibration
    from guardkit.verifier.scoring import calibrate_risk

    cal = Calibration(risk_a=1.0, risk_b=0.0, slope_weights={"long_context": 2.0})
    raw = np.array([0.8, 0.8])
    out = calibrate_risk(raw, cal, {"long_context": np.array([0.0, 1.0])})
    assert out[0] == pytest.approx(0.8)
    assert out[1] == pytest.approx(1 / (1 + math.exp(-3 * math.log(4))))
    with pytest.raises(ConfigError, match="long_context"):
        calibrate_risk(raw, cal)


def _responses(
    n: int, long_slope: float, seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Raw risks whose logit is the true log odds times 1 (short contexts) or ``long_slope``."""
    from guardkit.verifier.signals import RESPONSE_SIGNALS, SIGNALS

    rng = np.random.default_rng(seed)
    true_logit = rng.normal(0.0, 2.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(np.float64)
    long = (np.arange(n) % 2).astype(np.float64)
    raw_logit = true_logit * np.where(long == 1, long_slope, 1.0)
    raw = 1 / (1 + np.exp(-raw_logit))
    raws = {name: rng.random(n) for name in (*SIGNALS, *RESPONSE_SIGNALS)}
    raws["long_context"] = long
    return raw, raws, y


def test_risk_fit_scales_the_logit_where_long_contexts_need_it() -> None:
    from guardkit.verifier.manifest import Calibration
    from guardkit.verifier.scoring import calibrate_risk
    from guardkit.verifier.training.calibrate import choose_risk_fit

    raw, raws, y = _responses(6000, long_slope=0.4, seed=1)
    half = np.arange(len(y)) < len(y) // 2
    names, slopes, w, metrics = choose_risk_fit(raw, raws, y, half)
    assert slopes == ["long_context"]
    cal = Calibration(
        risk_a=float(w[0]),
        risk_b=float(w[-1]),
        signal_weights=dict(zip(names, map(float, w[1 : 1 + len(names)]), strict=True)),
        slope_weights={"long_context": float(w[-2])},
    )
    # a raw logit 0.4 times the truth in long contexts: the slope is fitted back to ~1 / 0.4
    assert w[0] + w[-2] == pytest.approx(2.5, rel=0.2)
    risk = calibrate_risk(raw, cal, raws)
    assert np.corrcoef(risk, raw)[0, 1] > 0.9
    assert any("model*long_context" in key for key in metrics)


def test_risk_fit_keeps_the_model_alone_when_signals_are_noise() -> None:
    from guardkit.verifier.training.calibrate import choose_risk_fit

    raw, raws, y = _responses(6000, long_slope=1.0, seed=2)
    raws["long_context"] = np.random.default_rng(3).random(len(y))
    half = np.arange(len(y)) < len(y) // 2
    names, slopes, w, _ = choose_risk_fit(raw, raws, y, half)
    assert (names, slopes) == ([], [])
    assert w[0] == pytest.approx(1.0, abs=0.15)


def test_repeat_shows_one_sources_pairs_n_times_and_refuses_unknown_sources() -> None:
    from guardkit.verifier.training.examples import Example
    from guardkit.verifier.training.mix import Mix, _repeat

    mix = Mix()
    mix.train = [Example("e", f"c{i}", SUPPORTED, "a" if i % 2 else "b") for i in range(6)]
    _repeat(mix, {"a": 3})
    assert mix.counts() == {"a": 9, "b": 3}
    assert mix.trained_on == ["a pairs seen 3x"]
    with pytest.raises(ConfigError) as err:
        _repeat(mix, {"nope": 2})
    assert err.value.loc == ("repeat", "nope")
    with pytest.raises(ConfigError):
        _repeat(mix, {"a": 0})


def test_fold_ignores_windows_that_lean_not_enough_info() -> None:
    from guardkit.verifier._windows import Segment, fold

    # a filler window leaning "not enough info" (0.38 contradicted) against the window that
    # supports the claim (0.33): the supporting window decides
    segs = [Segment(0, 0, "filler", "c"), Segment(0, 0, "the fact", "c")]
    probs = np.array([[0.06, 0.38, 0.56], [0.33, 0.20, 0.47]])
    assert fold(segs, probs, 1)[0].tolist() == [0.33, 0.20, 0.47]
    # a window that plainly contradicts, more firmly than the best support, still decides
    probs = np.array([[0.06, 0.50, 0.44], [0.33, 0.20, 0.47]])
    assert fold(segs, probs, 1)[0].tolist() == [0.06, 0.50, 0.44]


def test_a_window_about_something_else_cannot_overrule_the_support() -> None:
    from guardkit.verifier._windows import Segment, fold

    claim = "The Eiffel Tower was completed in 1889."
    fact = "The Eiffel Tower in Paris was completed in 1889 for the World's Fair."
    filler = "The weather report for day 12 mentioned light winds and 30 degrees."
    segs = [Segment(0, 0, filler, claim), Segment(0, 0, fact, claim)]
    probs = np.array([[0.04, 0.70, 0.26], [0.55, 0.30, 0.15]])
    assert fold(segs, probs, 1)[0].tolist() == [0.55, 0.30, 0.15]
    # a best window that does not support the claim protects nothing
    probs = np.array([[0.04, 0.70, 0.26], [0.23, 0.30, 0.47]])
    assert fold(segs, probs, 1)[0].tolist() == [0.04, 0.70, 0.26]
    # a window sharing as many of the claim's words still contradicts
    other = "No: the Eiffel Tower was not completed in 1889 but in 1925."
    segs = [Segment(0, 0, other, claim), Segment(0, 0, fact, claim)]
    probs = np.array([[0.04, 0.70, 0.26], [0.55, 0.30, 0.15]])
    assert fold(segs, probs, 1)[0].tolist() == [0.04, 0.70, 0.26]


def test_whole_response_aggregation_must_clearly_win() -> None:
    from guardkit.verifier.training.calibrate import WHOLE_RESPONSE_MARGIN, choose_aggregation

    assert choose_aggregation({"max_claim": 0.9585, "whole_and_max_claim": 0.9589}) == "max_claim"
    clear = 0.9585 + 2 * WHOLE_RESPONSE_MARGIN
    assert choose_aggregation({"max_claim": 0.9585, "whole_and_max_claim": clear}) == (
        "whole_and_max_claim"
    )


@pytest.mark.parametrize(
    ("capability", "bf16"), [("AVX2", False), ("AVX512", True), ("DEFAULT", False)]
)
def test_bf16_autocast_only_where_the_cpu_makes_it_fast(
    monkeypatch: pytest.MonkeyPatch, capability: str, bf16: bool
) -> None:
    """Emulated bf16 made a step 14x slower on an AVX2 CPU than fp32."""
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    assert fast_bf16() is bf16
    assert TrainConfig().bf16 is bf16
