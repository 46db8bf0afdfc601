"""Human oversight: flagged calls reach the queue; decisions are final and sealed in the chain."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import guardkit
from guardkit import Outcome
from guardkit.cli import app
from guardkit.records import open_store, verify_records
from guardkit.review import ReviewItem, ReviewQueue

runner = CliRunner()
SCHEMA = {
    "type": "object",
    "properties": {"dose_mg": {"type": "number", "maximum": 100}},
    "required": ["dose_mg"],
}


def write_policy(tmp_path: Path, wait_s: float | None = None) -> Path:
    review = {"queue": "reviews.db", **({"wait_s": wait_s} if wait_s else {})}
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    policy = {
        "id": "dosing",
        "version": "1",
        "output": {"json_schema": "schema.json"},
        "actions": {"schema": {"type": "flag", "reason": "dose out of range"}},
        "records": {"content": "store", "log": "calls.db"},
        "review": review,
    }
    path = tmp_path / "policy.yaml"
    path.write_text(json.dumps(policy))  # JSON is YAML
    return path


def test_flagged_call_is_queued_and_decisions_are_chained(tmp_path: Path) -> None:
    policy = write_policy(tmp_path)

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return '{"dose_mg": 500}'

    first, _ = ask(), ask()
    assert first.outcome is Outcome.FLAGGED and first.output is None

    listed = runner.invoke(app, ["review", "list", "--policy", str(policy)])
    assert (
        listed.exit_code == 0
        and listed.output.count("pending") == 2
        and "dose out of range" in listed.output
    )
    shown = runner.invoke(app, ["review", "show", "1", "--policy", str(policy)])
    assert json.loads(shown.stdout)["output"] == '{"dose_mg": 500}'

    ok = runner.invoke(
        app,
        [
            "review",
            "approve",
            "1",
            "--reviewer",
            "Dr Lee",
            "--note",
            "paediatric",
            "--policy",
            str(policy),
        ],
    )
    assert ok.exit_code == 0 and "approved by Dr Lee" in ok.output
    no = runner.invoke(
        app, ["review", "reject", "2", "--reviewer", "Dr Lee", "--policy", str(policy)]
    )
    assert no.exit_code == 0
    again = runner.invoke(
        app, ["review", "reject", "1", "--reviewer", "Dr Kim", "--policy", str(policy)]
    )
    assert again.exit_code == 2 and "already approved by Dr Lee" in again.output

    records = [r for r in open_store(tmp_path / "calls.db").records() if not isinstance(r, str)]
    assert [r.kind for r in records] == [
        "guard_report",
        "guard_report",
        "review_decision",
        "review_decision",
    ]
    assert [r.data["status"] for r in records[2:]] == ["approved", "rejected"]
    assert (
        records[2].data["call_id"] == first.report.call_id
        and records[2].data["reviewer"] == "Dr Lee"
    )
    assert verify_records(open_store(tmp_path / "calls.db").records()).ok


def test_guard_waits_for_review_when_policy_says_so(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, wait_s=10)

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return '{"dose_mg": 500}'

    queue = ReviewQueue(tmp_path / "reviews.db")

    def reviewer() -> None:
        for _ in range(100):
            pending = queue.list("pending")
            if pending:
                queue.decide(pending[0].id, approve=True, reviewer="Dr Lee", note="checked")
                return
            time.sleep(0.05)

    thread = threading.Thread(target=reviewer)
    thread.start()
    result = ask()
    thread.join()
    assert result.outcome is Outcome.FLAGGED and result.report.review is not None
    assert result.report.review.status == "approved" and result.report.review.reviewer == "Dr Lee"


def test_unanswered_review_refuses_after_the_wait(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, wait_s=0.3)

    @guardkit.guard(policy, sinks=[])
    def ask() -> str:
        return '{"dose_mg": 500}'

    result = ask()
    assert result.outcome is Outcome.REFUSED and result.output is None
    assert result.report.review is not None and result.report.review.status == "pending"
    assert [i.status for i in ReviewQueue(tmp_path / "reviews.db").list()] == ["pending"]


def test_hook_is_called_and_a_failing_hook_only_warns(tmp_path: Path) -> None:
    seen: list[ReviewItem] = []
    queue = ReviewQueue(tmp_path / "q.db", on_flag=seen.append)
    policy = guardkit.Policy.model_validate(
        {"id": "p", "version": "1", "actions": {"schema": "flag"}}
    )

    @guardkit.guard(policy, output=SCHEMA, sinks=[queue])
    def ask() -> str:
        return "{}"

    ask()
    assert len(seen) == 1 and seen[0].status == "pending"

    def broken(item: ReviewItem) -> None:
        raise RuntimeError("pager down")

    queue.on_flag = broken
    with pytest.warns(guardkit.reports.GuardkitSinkWarning, match="pager down"):
        assert ask().outcome is Outcome.FLAGGED


def test_decision_needs_a_reviewer(tmp_path: Path) -> None:
    queue = ReviewQueue(tmp_path / "q.db")
    with pytest.raises(guardkit.ConfigError, match="reviewer"):
        queue.decide(1, approve=True, reviewer=" ")
    with pytest.raises(guardkit.ConfigError, match="no review item 7"):
        queue.get(7)


def test_review_cli_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["review", "list", "--queue", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no review queue" in result.output


def test_reviewing_needs_no_risk_lock(tmp_path: Path) -> None:
    """Listing and deciding read where the queue and log are: a lock the reviewer's machine
    lacks (or one fitted on another verifier) does not stop them."""
    path = write_policy(tmp_path)
    policy = json.loads(path.read_text())
    policy["checks"] = {"risk": {"max_risk": 0.5, "lock": "gone.json"}}
    path.write_text(json.dumps(policy))
    with pytest.raises(guardkit.PolicyError, match=r"gone\.json"):  # a guard still needs it
        guardkit.load_policy(path)
    ReviewQueue(tmp_path / "reviews.db")
    listed = runner.invoke(app, ["review", "list", "--policy", str(path)])
    assert listed.exit_code == 0, listed.output
