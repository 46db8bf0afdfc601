"""Evidence packs: every figure cited, missing inputs marked, tampering detected, deterministic."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import guardkit
from guardkit.cli import app
from guardkit.evidence import build_pack, gather, verify_pack
from guardkit.records import RecordSink
from guardkit.review import ReviewQueue

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "clinical-qa.yaml"


@pytest.fixture
def audit(tmp_path: Path) -> Path:
    """An audit folder and a record log made by real guarded calls."""
    folder = tmp_path / "audit"
    folder.mkdir()
    sink = RecordSink(tmp_path / "calls.db")
    queue = ReviewQueue(tmp_path / "reviews.db", log=sink.store)
    answers = iter(['{"answer": "x"}', "{}", "nope", "nope"])

    @guardkit.guard(POLICY, sinks=[sink, queue])
    def ask() -> str:
        return next(answers)

    results = [ask(), ask()]
    assert [r.outcome.value for r in results] == ["flagged", "flagged"]
    queue.decide(1, approve=False, reviewer="Dr Lee", note="no evidence")
    (folder / "report.json").write_text(
        json.dumps(
            {
                "cases": 2,
                "reliable": 0,
                "rcr": 0.0,
                "rcr_ci": [0.0, 0.6576],
                "cost_total": 0.0,
                "cost_per_reliable": None,
                "outcomes": {"flagged": 2},
                "check_failure_rates": {"schema": 1.0},
                "attempts_histogram": {"2": 2},
            }
        )
    )
    (folder / "records.jsonl").write_text(
        "".join(json.dumps({"id": f"c{i}", "outcome": "flagged"}) + "\n" for i in range(2))
    )
    return tmp_path


def build(base: Path, name: str = "pack", **kwargs: object) -> Path:
    evidence = gather(
        base / "audit", log=base / "calls.db", index=None, policies=[POLICY], locks=[]
    )
    out = base / name
    build_pack(evidence, out, **kwargs)  # type: ignore[arg-type]
    return out


def test_pack_has_every_article_and_cites_its_figures(audit: Path) -> None:
    pack = build(audit)
    names = sorted(p.name for p in pack.iterdir())
    for article in ("09", "10", "11", "12", "13", "14", "15"):
        assert any(n.startswith(f"art{article}") and n.endswith(".md") for n in names)
        assert any(n.startswith(f"art{article}") and n.endswith(".html") for n in names)
    assert verify_pack(pack) == []
    art15 = (pack / "art15-accuracy-robustness.md").read_text()
    assert re.search(
        r"\| reliable-completion rate \| 0 \| \[audit report.json#rcr · sha256 [0-9a-f]{12}\] \|",
        art15,
    )
    art12 = (pack / "art12-record-keeping.md").read_text()
    assert "| chain verification | intact |" in art12 and "review_decision: 1" in art12
    art14 = (pack / "art14-human-oversight.md").read_text()
    assert "rejected: 1" in art14 and "Dr Lee" in art14
    art9 = (pack / "art09-risk-management.md").read_text()
    assert "clinical-qa: `schema`" in art9 and "| 1 |" in art9


def test_missing_inputs_are_marked_not_filled(audit: Path) -> None:
    pack = build(audit)
    art10 = (pack / "art10-data-governance.md").read_text()
    assert "[MISSING fact index manifest: no --index given]" in art10
    index = (pack / "index.md").read_text()
    assert "MISSING: no --index given" in index


def test_missing_audit_part_is_named(audit: Path) -> None:
    (audit / "audit" / "report.json").unlink()
    pack = build(audit)
    art15 = (pack / "art15-accuracy-robustness.md").read_text()
    assert "[MISSING audit report.json:" in art15 and "does not exist" in art15


def test_pack_built_twice_differs_only_in_its_dated_header(audit: Path) -> None:
    one = build(audit, "one", built_at=datetime(2026, 1, 1, tzinfo=UTC))
    two = build(audit, "two", built_at=datetime(2026, 2, 1, tzinfo=UTC))
    differing = sorted(
        p.name for p in one.iterdir() if p.read_bytes() != (two / p.name).read_bytes()
    )
    assert differing == ["MANIFEST.sha256", "index.html", "index.md"]


def test_flipped_byte_in_a_pack_file_is_detected(audit: Path) -> None:
    pack = build(audit)
    target = pack / "art12-record-keeping.md"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    (pack / "extra.txt").write_text("smuggled")
    (pack / "art13-transparency.html").unlink()
    result = runner.invoke(app, ["evidence", "verify", str(pack)])
    assert result.exit_code == 1
    assert "art12-record-keeping.md: sha256 does not match" in result.output
    assert "extra.txt: not in the manifest" in result.output
    assert "art13-transparency.html: listed but missing" in result.output


def test_tampered_log_shows_in_the_pack(audit: Path) -> None:
    import sqlite3

    db = sqlite3.connect(audit / "calls.db")
    with db:
        db.execute("DELETE FROM records WHERE position = 1")
    db.close()
    pack = build(audit)
    assert "TAMPERED at record 1" in (pack / "art12-record-keeping.md").read_text()
    out = audit / "cli-pack"
    args = ["evidence", "--audit", str(audit / "audit"), "--log", str(audit / "calls.db")]
    result = runner.invoke(app, [*args, "--policy", str(POLICY), "--out", str(out)])
    assert result.exit_code == 1 and (out / "MANIFEST.sha256").is_file()  # written, yet failed
    assert "warning: the record log is TAMPERED at record 1" in result.stderr


def test_cli_build_and_refuse_overwrite(audit: Path) -> None:
    args = [
        "evidence",
        "--audit",
        str(audit / "audit"),
        "--log",
        str(audit / "calls.db"),
        "--policy",
        str(POLICY),
        "--out",
        str(audit / "p"),
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "marked missing: fact index manifest" in first.output
    assert runner.invoke(app, ["evidence", "verify", str(audit / "p")]).exit_code == 0
    second = runner.invoke(app, args)
    assert second.exit_code == 2 and "refusing to overwrite" in second.output
    bad = runner.invoke(
        app, ["evidence", "--audit", str(audit / "nope"), "--out", str(audit / "q")]
    )
    assert bad.exit_code == 2 and "audit folder does not exist" in bad.output
    assert not (audit / "q").exists()


def test_a_policy_the_audit_did_not_run_is_refused(audit: Path) -> None:
    report = audit / "audit" / "report.json"
    data = json.loads(report.read_text())
    clinical = guardkit.load_policy(POLICY)
    args = ["evidence", "--audit", str(audit / "audit"), "--policy", str(POLICY)]
    for name, ran, version, refusal in [
        ("other", "support-grounded", clinical.version, "ran policy 'support-grounded'"),
        ("older", clinical.id, "0.0.1", "version '0.0.1'"),
        ("same", clinical.id, clinical.version, None),
    ]:
        data["policy"] = {"id": ran, "version": version, "sha256": "0" * 64}
        report.write_text(json.dumps(data))
        result = runner.invoke(app, [*args, "--out", str(audit / name)])
        if refusal is None:
            assert result.exit_code == 0 and (audit / name).is_dir(), result.output
        else:
            assert result.exit_code == 2 and refusal in result.output, result.output
            assert "was not measured by this audit" in result.output
            assert not (audit / name).exists()


def test_a_locks_certified_threshold_and_the_verifier_manifest_are_cited(audit: Path) -> None:
    lock = audit / "policy.lock.json"
    certification = {"threshold": 0.67, "alpha": 0.1, "delta": 0.1}
    lock.write_text(json.dumps({"calibration_sha256": "ab" * 32, "certification": certification}))
    evidence = gather(
        audit / "audit", log=audit / "calls.db", index=None, policies=[POLICY], locks=[lock]
    )
    build_pack(evidence, audit / "pack")
    art15 = (audit / "pack" / "art15-accuracy-robustness.md").read_text()
    assert "| risk threshold (certified) | 0.67 |" in art15
    assert "| guarantee: alpha | 0.1 |" in art15 and "| guarantee: delta | 0.1 |" in art15
    assert "MISSING" not in art15.split("risk threshold")[1]
    art11 = (audit / "pack" / "art11-technical-documentation.md").read_text()
    assert "verifier manifest (verifier-" in art11 and "embedder-" not in art11


def test_what_a_pack_says_is_what_its_inputs_hold(audit: Path) -> None:
    """Checkpoint signatures are checked with the key or said to be unchecked; a forged one
    shows; figures of a tampered log stop at its first bad record; an edited report.json is
    caught against records.jsonl; a default retention is not called declared; a lock for
    another policy is refused."""
    from guardkit.records import checkpoint, generate_keys, open_store
    from guardkit.records.signing import load_private_key

    generate_keys(audit / "k", audit / "k.pub")
    checkpoint(open_store(audit / "calls.db"), load_private_key(audit / "k"))
    pack = build(audit, "plain")
    art12 = (pack / "art12-record-keeping.md").read_text()
    assert "signatures not checked (no --public-key)" in art12
    bare = audit / "bare.yaml"
    bare.write_text('id: bare\nversion: "1"\n')
    stated = gather(audit / "audit", log=audit / "calls.db", index=None, policies=[bare], locks=[])
    build_pack(stated, audit / "bare-pack")
    bare_art12 = (audit / "bare-pack" / "art12-record-keeping.md").read_text()
    assert "bare: 183 days (the default; none declared)" in bare_art12

    def signatures() -> tuple[str, int]:
        keyed = gather(
            audit / "audit",
            log=audit / "calls.db",
            index=None,
            policies=[POLICY],
            locks=[],
            public_key=audit / "k.pub",
        )
        assert keyed.log_summary is not None
        return keyed.log_summary.signatures, keyed.log_summary.unsigned_tail

    assert signatures() == ("1 verified with k.pub", 0)
    store = open_store(audit / "calls.db")  # a checkpoint nobody signed
    store.append("checkpoint", {"count": 99, "head_sha256": "0" * 64, "signature": "00" * 64})
    assert "DOES NOT DESCRIBE" in signatures()[0]
    unkeyed = gather(audit / "audit", log=audit / "calls.db", index=None, policies=[], locks=[])
    assert unkeyed.log_summary is not None  # caught without the key too
    assert unkeyed.log_summary.checkpoint_problem is not None
    assert "DOES NOT DESCRIBE" in unkeyed.log_summary.signatures
    forged = runner.invoke(
        app,
        [
            "evidence",
            *("--audit", str(audit / "audit"), "--log", str(audit / "calls.db")),
            *("--public-key", str(audit / "k.pub"), "--out", str(audit / "forged-pack")),
        ],
    )
    assert forged.exit_code == 1 and "checkpoints fail: checkpoint" in forged.stderr
    report = audit / "audit" / "report.json"
    data = json.loads(report.read_text())
    data["reliable"] = 2  # records.jsonl holds 2 flagged cases
    report.write_text(json.dumps(data))
    art11 = (build(audit, "edited") / "art11-technical-documentation.md").read_text()
    assert "NO: report.json says 2 reliable of 2, records.jsonl holds 0 of 2" in art11
    clinical = guardkit.load_policy(POLICY)
    data["policy"] = {"id": clinical.id, "version": clinical.version, "sha256": "0" * 64}
    report.write_text(json.dumps(data))
    other = audit / "other.lock.json"
    other.write_text(json.dumps({"policy_id": "another", "policy_version": "9"}))
    with pytest.raises(guardkit.errors.ConfigError, match="this risk lock is for 'another'"):
        gather(audit / "audit", log=None, index=None, policies=[POLICY], locks=[other])


def test_a_default_control_is_stated_as_the_guard_applies_it() -> None:
    from guardkit.evidence.sections import _default_action
    from guardkit.policy import Policy

    assert Policy(id="p", version="1").action_for("schema").max_attempts == 3  # type: ignore[union-attr]
    assert _default_action("schema") == "reask 3 attempts, then raise (the default)"
    assert _default_action("facts") == "raise (the default)"
