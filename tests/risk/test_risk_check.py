"""The ``risk`` check inside the guard, its lock file, and ``guardkit calibrate``.

Grounding uses the TEST-ONLY ``WordOverlapVerifier`` double (``risk_support``) for plumbing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result
from risk.risk_support import WordOverlapVerifier
from typer.testing import CliRunner

import guardkit
from guardkit import CheckResult, Outcome, PolicyError, load_policy
from guardkit.checks import risk as risk_check
from guardkit.cli import app
from guardkit.risk import RiskComponents, RiskModel, RiskScorer, read_labelled, read_lock
from guardkit.verifier.types import VerdictProbs

runner = CliRunner()


def run_calibrate(labelled: Path, policy: Path, *args: str) -> Result:
    """``guardkit calibrate --labelled LABELLED --policy POLICY ARGS...``."""
    return runner.invoke(
        app, ["calibrate", "--labelled", str(labelled), "--policy", str(policy), *args]
    )


def support_policy(tmp_path: Path) -> Path:
    """A policy with no checks, ``support`` version 1, in ``tmp_path``."""
    policy = tmp_path / "policy.yaml"
    policy.write_text('id: support\nversion: "1"\n')
    return policy


@pytest.fixture
def double_verifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(risk_check, "load_grounding_verifier", lambda folder: WordOverlapVerifier())


def test_risk_check_accepts_grounded_and_rejects_ungrounded(double_verifier: None) -> None:
    policy = guardkit.Policy.model_validate(
        {
            "id": "p",
            "version": "1",
            "checks": {"risk": {"max_risk": 0.3}},
            "actions": {"risk": {"type": "refrain", "fallback": "I do not know."}},
        }
    )

    @guardkit.guard(policy, sinks=[])
    def answer(text: str) -> str:
        return text

    docs = ["The store opens at nine and closes at five."]
    good = answer("The store opens at nine", guardkit_documents=docs)
    assert good.outcome is Outcome.RELIABLE
    details = good.report.checks[0].details
    assert details["risk"] < 0.3 and details["components"]["grounding"] == details["risk"]
    bad = answer("The store sells purple elephants", guardkit_documents=docs)
    assert bad.outcome is Outcome.REFUSED and bad.output == "I do not know."
    unjudged = answer("Anything at all")  # no documents, no facts: never accepted
    assert unjudged.outcome is Outcome.REFUSED
    assert unjudged.report.attempts[0].checks[0].details["risk"] == 1.0


def test_a_structured_output_is_grounded_by_its_statements(double_verifier: None) -> None:
    """The risk check reads a JSON output's sentences, not its keys and brackets, and leaves
    labels out."""
    policy = guardkit.Policy.model_validate(
        {
            "id": "p",
            "version": "1",
            "checks": {"risk": {"max_risk": 0.3}},
            "actions": {"risk": "flag"},
        }
    )
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "tags": {"type": "array"}},
    }

    @guardkit.guard(policy, schema, sinks=[])
    def answer(text: str) -> str:
        return json.dumps({"answer": text, "tags": ["hours", "store"]})

    docs = ["The store opens at nine and closes at five."]
    result = answer("The store opens at nine. It sells purple elephants.", guardkit_documents=docs)
    check = result.report.checks[1]
    assert check.details["least_supported"] == "It sells purple elephants."
    good = answer("The store opens at nine.", guardkit_documents=docs)
    assert good.outcome is Outcome.RELIABLE


def test_a_failed_risk_check_quotes_its_least_supported_sentence(double_verifier: None) -> None:
    policy = guardkit.Policy.model_validate(
        {
            "id": "p",
            "version": "1",
            "checks": {"risk": {"max_risk": 0.3}},
            "actions": {"risk": "flag"},
        }
    )

    @guardkit.guard(policy, sinks=[])
    def answer(text: str) -> str:
        return text

    docs = ["The store opens at nine and closes at five."]
    result = answer("The store opens at nine. It sells purple elephants.", guardkit_documents=docs)
    (check,) = result.report.checks
    assert check.details["least_supported"] == "It sells purple elephants."
    assert check.feedback is not None
    assert '\nThe least supported:\n- "It sells purple elephants."\n' in check.feedback
    marks = answer("[1] [2]", guardkit_documents=docs)  # marks alone state nothing to judge
    assert marks.report.checks[0].details["components"]["grounding"] is None
    unjudged = answer("Anything at all")  # nothing to ground against: nothing to quote
    assert unjudged.report.checks[0].details["least_supported"] is None
    assert "least supported" not in (unjudged.report.checks[0].feedback or "")


def test_facts_verdicts_feed_the_score() -> None:
    config = risk_check.RiskCheckConfig(max_risk=0.5, grounding=False)
    check = risk_check.RiskCheck(config, risk_check.RiskScorer(None))
    facts = CheckResult(
        check="facts",
        passed=True,
        details={
            "claims": [
                {"verdict": "supported", "confidence": 0.9},
                {"verdict": "contradicted", "confidence": 0.7},
            ]
        },
    )
    ctx = guardkit.CheckContext(text="x", value="x", attempt=2, results=[facts])
    result = check.run(ctx)
    assert result.details["components"] == {"facts": 0.7, "grounding": None, "repairs": 1}
    assert not result.passed and result.details["risk"] == pytest.approx(0.7)


def test_policy_needs_a_threshold_and_a_readable_lock(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text('id: p\nversion: "1"\nchecks:\n  risk: {grounding: false}\n')
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert "give 'max_risk', 'lock'" in err.value.message
    assert err.value.line == 4 and err.value.loc == ("checks", "risk")
    path.write_text('id: p\nversion: "1"\nchecks:\n  risk: {lock: missing.lock.json}\n')
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert (
        "missing.lock.json" in err.value.message
        and "cannot read the risk lock" in err.value.message
    )


def test_a_missing_verifier_folder_is_a_policy_error_and_a_broken_one_fails_the_guard(
    tmp_path: Path,
) -> None:
    def policy(folder: Path) -> guardkit.Policy:
        risk = {"max_risk": 0.3, "verifier": str(folder)}
        return guardkit.Policy.model_validate({"id": "p", "version": "1", "checks": {"risk": risk}})

    with pytest.raises(guardkit.PolicyError, match=r"no model folder at .* shipped: verifier-"):
        policy(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}")
    with pytest.raises(guardkit.PolicyError, match=r"not a usable verifier: .*field name"):
        policy(broken)
    from guardkit.facts._embed_onnx import DEFAULT_EMBEDDER
    from guardkit.verifier import DEFAULT_MODEL

    with pytest.raises(guardkit.PolicyError, match="an embedder folder, not a verifier"):
        policy(DEFAULT_EMBEDDER)
    with pytest.raises(guardkit.PolicyError, match="an embedder folder, not a verifier"):
        policy(Path(DEFAULT_EMBEDDER.name))  # a shipped embedder by its name
    shutil.copyfile(DEFAULT_MODEL / "manifest.json", broken / "manifest.json")  # no weights
    with pytest.raises(guardkit.GuardkitError) as err:
        guardkit.guard(policy(broken), sinks=[])
    assert err.value.code == "model_invalid" and err.value.file == str(broken / "model.onnx")


def test_a_relative_verifier_folder_is_read_from_the_policy_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yaml").write_text(
        'id: p\nversion: "1"\nchecks:\n  risk: {max_risk: 0.3, verifier: models/nowhere}\n'
    )
    monkeypatch.chdir(tmp_path.parent)
    with pytest.raises(guardkit.PolicyError) as err:  # named from the policy's folder
        load_policy(tmp_path / "p.yaml")
    assert str(tmp_path / "models" / "nowhere") in str(err.value)


def labelled_rows(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    """Grounding probabilities whose hallucination odds rise steeply with the probability."""
    rows = []
    for _ in range(n):
        g = float(rng.uniform())
        rows.append(
            {"risk_components": {"grounding": g}, "hallucinated": bool(rng.uniform() < g**3)}
        )
    return rows


def test_calibrate_writes_a_lock_the_risk_check_states(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps(r) + "\n" for r in labelled_rows(rng, 3000)))
    policy = support_policy(tmp_path)
    result = run_calibrate(labelled, policy, "--alpha", "0.1", "--delta", "0.1")
    assert result.exit_code == 0, result.output
    lock = read_lock(tmp_path / "policy.lock.json")
    assert lock.policy_id == "support" and lock.n == 3000
    assert lock.certification.alpha == 0.1 and lock.certification.delta == 0.1
    assert lock.certification.method.startswith("learn-then-test")
    assert lock.model.weights is not None and lock.threshold is not None
    assert "With probability >= 90%" in result.output
    # held-apart data: the accepted hallucination rate is within alpha
    fresh = labelled_rows(np.random.default_rng(99), 20000)
    model = lock.model
    accepted = [
        r
        for r in fresh
        if model.risk(RiskComponents.model_validate(r["risk_components"])) <= lock.threshold
    ]
    assert len(accepted) > 5000
    assert np.mean([r["hallucinated"] for r in accepted]) <= 0.1
    # absolute: check settings do not yet get the policy's folder as base_dir (see the report)
    lock_path = tmp_path / "policy.lock.json"
    policy.write_text(
        f'id: support\nversion: "1"\nchecks:\n  risk: {{lock: "{lock_path}", grounding: false}}\n'
    )
    config = load_policy(policy).check_configs["risk"]
    assert isinstance(config, risk_check.RiskCheckConfig)
    assert config.threshold == lock.threshold
    check = risk_check.RiskCheck(config, risk_check.RiskScorer(None))
    assert check.guarantee is not None and "calibration set sha256" in check.guarantee.lower()


def test_calibrate_leaves_out_cases_that_never_reached_the_risk_check(tmp_path: Path) -> None:
    """An audit's records.jsonl, labelled: refused and failed cases have no risk."""
    rows: list[dict[str, object]] = labelled_rows(np.random.default_rng(5), 400)
    rows[3] = {"id": "c3", "outcome": "refused", "risk_components": None}  # no label needed
    labelled = tmp_path / "records.jsonl"
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_calibrate(labelled, support_policy(tmp_path), "--alpha", "0.2")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "1 rows have no risk" in result.output
    assert "(line 4)" in result.output
    assert read_lock(tmp_path / "policy.lock.json").n == 399
    labelled.write_text(json.dumps(rows[3]) + "\n")
    result = run_calibrate(labelled, support_policy(tmp_path))
    assert result.exit_code == 2 and "no labelled row has a risk to calibrate" in result.output


def test_calibrate_reports_bad_lines(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        '{"hallucinated": true, "risk_components": {"grounding": 0.2}}\n{"risk": 1}\n'
    )
    policy = support_policy(tmp_path)
    result = run_calibrate(labelled, policy)
    assert result.exit_code == 2
    assert f"{labelled}:2 field hallucinated: needs 'hallucinated'" in result.output


def test_uncalibrated_model_takes_the_weakest_evidence() -> None:
    model = RiskModel()
    assert model.risk(RiskComponents(facts=0.2, grounding=0.6, repairs=3)) == 0.6
    assert model.risk(RiskComponents()) == 1.0


def write_lock_for(tmp_path: Path, policy_id: str) -> Path:
    rng = np.random.default_rng(5)
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps(r) + "\n" for r in labelled_rows(rng, 1000)))
    policy = tmp_path / "calibrated.yaml"
    policy.write_text(f'id: {policy_id}\nversion: "1"\n')
    args = ["calibrate", "--labelled", str(labelled), "--policy", str(policy), "--alpha", "0.1"]
    assert runner.invoke(app, args).exit_code == 0
    return tmp_path / "calibrated.lock.json"


def test_lock_of_another_policy_is_refused(tmp_path: Path) -> None:
    """Refused when the policy is validated (so `guardkit policy check` says so too)."""
    lock = write_lock_for(tmp_path, "other")
    section = {"lock": str(lock), "grounding": False}
    with pytest.raises(PolicyError) as err:
        guardkit.Policy.model_validate({"id": "mine", "version": "1", "checks": {"risk": section}})
    assert "calibrated for policy 'other' version '1', not 'mine' version '1'" in str(err.value)
    assert err.value.issues[0].loc == ("checks", "risk", "lock")
    mine = write_lock_for(tmp_path, "mine")
    section = {"lock": str(mine), "grounding": False}
    with pytest.raises(PolicyError) as err:  # the same policy, another version
        guardkit.Policy.model_validate({"id": "mine", "version": "2", "checks": {"risk": section}})
    assert "version '1', not 'mine' version '2'" in str(err.value)


def test_guarantee_is_stated_only_for_the_certified_threshold(tmp_path: Path) -> None:
    lock = write_lock_for(tmp_path, "mine")
    certified = read_lock(lock).threshold
    assert certified is not None
    for max_risk, stated in ((None, True), (certified / 2, False), (1.0, True)):
        section: dict[str, object] = {"lock": str(lock), "grounding": False}
        if max_risk is not None:
            section["max_risk"] = max_risk
        config = risk_check.RiskCheckConfig.model_validate(section)
        check = risk_check.RiskCheck(config, risk_check.RiskScorer(None))
        assert (check.guarantee is not None) is stated


def test_text_rows_are_scored_against_documents_and_question(tmp_path: Path) -> None:
    labelled = tmp_path / "text.jsonl"
    labelled.write_text(
        json.dumps(
            {
                "response": "Delhi",
                "context": "The head office is in Delhi.",
                "question": "Where is the head office?",
                "hallucinated": False,
            }
        )
        + "\n"
        + json.dumps(
            {
                "response": "Mumbai",
                "context": ["The head office is in Delhi."],
                "hallucinated": True,
            }
        )
        + "\n"
    )
    seen: list[tuple[str, list[str]]] = []

    def grounder(items: Sequence[tuple[str, list[str]]]) -> list[RiskComponents]:
        seen.extend(items)
        return RiskScorer(WordOverlapVerifier()).many(items)

    rows = read_labelled(labelled, grounder)
    assert seen == [
        ("Delhi", ["The head office is in Delhi.\nQuestion: Where is the head office?"]),
        ("Mumbai", ["The head office is in Delhi."]),
    ]
    assert rows[0].components.grounding is not None and rows[0].components.grounding < 0.1
    assert rows[1].components.grounding is not None and rows[1].components.grounding > 0.9
    assert [r.line for r in rows] == [1, 2] and [r.hallucinated for r in rows] == [False, True]


def test_calibrate_scores_text_rows_with_the_policys_risk_verifier(tmp_path: Path) -> None:
    labelled = tmp_path / "text.jsonl"
    row = {"response": "Delhi", "context": "The office is in Delhi.", "hallucinated": False}
    labelled.write_text(json.dumps(row) + "\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'id: support\nversion: "1"\nchecks:\n  risk: {max_risk: 0.5, verifier: models/mine}\n'
    )
    result = run_calibrate(labelled, policy)
    assert result.exit_code == 2
    assert str(tmp_path / "models" / "mine") in result.output


def _text_rows(n: int) -> str:
    grounded = {"response": "The office is in Delhi.", "hallucinated": False}
    made_up = {"response": "The office is in Mumbai.", "hallucinated": True}
    rows = [dict(r, context="Our office is in Delhi.") for r in (grounded, made_up)] * (n // 2)
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_lock_fitted_on_another_verifiers_scores_is_refused(tmp_path: Path) -> None:
    from guardkit.verifier import verifier_identity

    labelled = tmp_path / "text.jsonl"
    labelled.write_text(_text_rows(40))
    policy = support_policy(tmp_path)
    result = run_calibrate(labelled, policy, "--alpha", "0.2", "--delta", "0.2")
    assert result.exit_code == 0, result.output
    lock = read_lock(tmp_path / "policy.lock.json")
    assert lock.scored_with == verifier_identity()
    policy.write_text(
        'id: support\nversion: "1"\nchecks:\n  risk: {max_risk: 0.5, lock: policy.lock.json}\n'
    )
    guardkit.guard(load_policy(policy), sinks=[])  # the same verifier: accepted

    data = json.loads((tmp_path / "policy.lock.json").read_text())
    data["scored_with"] = "verifier-minilm-l6-v4 sha256:" + "0" * 64
    (tmp_path / "policy.lock.json").write_text(json.dumps(data))
    with pytest.raises(guardkit.PolicyError) as err:  # when the policy is read
        load_policy(policy)
    (issue,) = err.value.issues
    assert issue.file == str(policy) and issue.loc[:2] == ("checks", "risk")
    assert "verifier-minilm-l6-v4" in str(err.value) and verifier_identity() in str(err.value)
    checked = CliRunner().invoke(app, ["policy", "check", str(policy)])
    assert checked.exit_code == 2 and "fitted on scores of" in checked.output
    broken = tmp_path / "models" / "broken"  # a verifier folder whose manifest cannot be read
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{}")
    policy.write_text(
        'id: support\nversion: "1"\nchecks:\n  risk: {max_risk: 0.5, lock: policy.lock.json,'
        " verifier: models/broken}\n"
    )
    checked = CliRunner().invoke(app, ["policy", "check", str(policy)])
    assert checked.exit_code == 2 and "Traceback" not in checked.output, checked.output


def test_a_lock_from_scored_records_names_no_verifier(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        "".join(json.dumps(r) + "\n" for r in labelled_rows(np.random.default_rng(1), 1000))
    )
    policy = support_policy(tmp_path)
    result = run_calibrate(labelled, policy, "--alpha", "0.1")
    assert result.exit_code == 0, result.output
    assert read_lock(tmp_path / "policy.lock.json").scored_with is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, ": the labelled file does not exist"),
        (b'{"hallucinated": true, "response": "caf\xe9"}\n', ":1: not UTF-8 text"),
        (b'{"hallucinated": true, "response": "  ", "context": "c"}\n', ":1 field response:"),
        (b'{"hallucinated": true, "response": "r"}\n', ":1 field context: a 'response' row"),
        (b'{"hallucinated": true, "response": "r", "context": [" "]}\n', ":1 field context:"),
    ],
)
def test_calibrate_bad_labelled_files_exit_2_naming_file_and_line(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    labelled = tmp_path / "labelled.jsonl"
    if content is not None:
        labelled.write_bytes(content)
    policy = support_policy(tmp_path)
    result = run_calibrate(labelled, policy)
    assert result.exit_code == 2
    assert f"error: {labelled}{expected}" in result.output
    assert "Traceback" not in result.output


def test_calibrate_writes_no_lock_when_nothing_can_be_certified(tmp_path: Path) -> None:
    labelled = tmp_path / "few.jsonl"
    labelled.write_text(
        "".join(json.dumps(r) + "\n" for r in labelled_rows(np.random.default_rng(5), 20))
    )
    policy = support_policy(tmp_path)
    result = run_calibrate(labelled, policy, "--no-fit")
    assert result.exit_code == 2
    assert "45 accepted test-split rows are needed; the lock was not written" in result.output
    assert not (tmp_path / "policy.lock.json").exists()


def test_labels_may_be_1_and_0_but_nothing_else(tmp_path: Path) -> None:
    labelled = tmp_path / "l.jsonl"
    rows = [{"hallucinated": h, "risk_components": {"grounding": 0.5}} for h in (1, 0, True)]
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [r.hallucinated for r in read_labelled(labelled, None)] == [True, False, True]
    for bad in ("yes", 2, 1.0):
        labelled.write_text(json.dumps({**rows[0], "hallucinated": bad}) + "\n")
        with pytest.raises(guardkit.GuardkitError, match="true or false"):
            read_labelled(labelled, None)


def test_a_policy_naming_its_lock_can_be_calibrated_before_the_lock_exists(
    tmp_path: Path,
) -> None:
    """The lock is what calibrate writes: a policy that already names it is calibrated the
    first time too, and again over a stale lock."""
    labelled = tmp_path / "labelled.jsonl"
    rows = labelled_rows(np.random.default_rng(5), 2000)
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    policy = tmp_path / "policy.yaml"
    policy.write_text('id: support\nversion: "1"\nchecks:\n  risk: {lock: policy.lock.json}\n')
    for _ in range(2):
        result = run_calibrate(labelled, policy, "--alpha", "0.1", "--delta", "0.1")
        assert result.exit_code == 0, result.output
    assert load_policy(policy).check_configs["risk"].locked is not None  # type: ignore[attr-defined]


def test_a_lock_certifying_threshold_zero_states_its_guarantee(tmp_path: Path) -> None:
    lock_path = tmp_path / "policy.lock.json"
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        "".join(json.dumps(r) + "\n" for r in labelled_rows(np.random.default_rng(3), 3000))
    )
    policy = support_policy(tmp_path)
    assert run_calibrate(labelled, policy, "--alpha", "0.1", "--delta", "0.1").exit_code == 0
    data = json.loads(lock_path.read_text())
    data["certification"]["threshold"] = 0.0
    lock_path.write_text(json.dumps(data))
    policy.write_text(
        f'id: support\nversion: "1"\nchecks:\n  risk: {{lock: "{lock_path}", grounding: false}}\n'
    )
    config = load_policy(policy).check_configs["risk"]
    check = risk_check.RiskCheck(config, risk_check.RiskScorer(None))  # type: ignore[arg-type]
    assert config.threshold == 0.0 and check.guarantee is not None  # type: ignore[attr-defined]


def test_a_shipped_verifier_is_named_by_its_folder_name_unless_a_folder_of_that_name_is_there(
    tmp_path: Path,
) -> None:
    from guardkit.verifier import DEFAULT_MODEL, load_verifier, verifier_identity

    (tmp_path / "p.yaml").write_text(
        f'id: p\nversion: "1"\nchecks:\n  risk: {{max_risk: 0.3, verifier: {DEFAULT_MODEL.name}}}\n'
    )
    policy = guardkit.load_policy(tmp_path / "p.yaml")
    assert policy.check_configs["risk"].verifier == DEFAULT_MODEL  # type: ignore[attr-defined]
    assert load_verifier(DEFAULT_MODEL.name) is load_verifier()
    assert verifier_identity(DEFAULT_MODEL.name) == verifier_identity()  # calibrate --verifier
    own = tmp_path / DEFAULT_MODEL.name  # the user's own folder of that name wins
    own.mkdir()
    with pytest.raises(guardkit.PolicyError, match="no model folder at"):
        guardkit.load_policy(tmp_path / "p.yaml")
    shutil.copyfile(DEFAULT_MODEL / "manifest.json", own / "manifest.json")
    policy = guardkit.load_policy(tmp_path / "p.yaml")
    assert policy.check_configs["risk"].verifier == own  # type: ignore[attr-defined]
    for name in ("../verifier-minilm-l6-v5", "no-such-model", "."):
        with pytest.raises(guardkit.GuardkitError):
            load_verifier(name)


class _Asked(WordOverlapVerifier):
    def __init__(self) -> None:
        self.claims: list[str] = []

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[VerdictProbs]:
        self.claims += [claim for _, claim in pairs]
        return super().predict(pairs)


def test_a_sentence_in_a_script_the_verifier_does_not_read_is_unsupported_unasked() -> None:
    text = "The head office is in Delhi. 总部位于孟买。"  # "The head office is in Mumbai."
    docs = ["The head office is in Delhi."]
    verifier = _Asked()
    ((worst, sentence),) = RiskScorer(verifier).least_supported([(text, docs)])
    assert (worst, sentence) == (1.0, "总部位于孟买。")
    assert verifier.claims == ["The head office is in Delhi."]
    verifier = _Asked()
    RiskScorer(verifier, None).least_supported([(text, docs)])  # null: every sentence asked
    assert verifier.claims == ["The head office is in Delhi.", "总部位于孟买。"]
    with pytest.raises(PolicyError, match="unknown script 'english'"):
        guardkit.Policy.model_validate(
            {
                "id": "p",
                "version": "1",
                "checks": {"risk": {"max_risk": 0.5, "scripts": ["english"]}},
            }
        )
