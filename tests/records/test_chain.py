"""Tamper evidence: every kind of edit to a log is detected and the first bad record named."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import guardkit
from guardkit.cli import app
from guardkit.records import RecordSink, checkpoint, generate_keys, open_store, verify_records
from guardkit.records.content import ContentRecorder
from guardkit.records.signing import load_private_key

runner = CliRunner()


def filled(path: Path, n: int = 5) -> Path:
    store = open_store(path)
    for i in range(n):
        store.append("event", {"i": i, "text": f"record {i}"})
    return path


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def rewrite(path: Path, new: list[str]) -> None:
    path.write_text("\n".join(new) + "\n")


def edit(path: Path) -> None:
    rows = lines(path)
    rows[2] = rows[2].replace("record 2", "record X")
    rewrite(path, rows)


def delete(path: Path) -> None:
    rows = lines(path)
    del rows[2]
    rewrite(path, rows)


def reorder(path: Path) -> None:
    rows = lines(path)
    rows[1], rows[2] = rows[2], rows[1]
    rewrite(path, rows)


def insert(path: Path) -> None:
    rows = lines(path)
    rows.insert(3, rows[1])
    rewrite(path, rows)


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("tamper", "first_bad", "reason"),
    [
        (edit, 3, "edited"),
        (delete, 3, "deleted, inserted or reordered"),
        (reorder, 2, "deleted, inserted or reordered"),
        (insert, 4, "deleted, inserted or reordered"),
    ],
    ids=["edit", "delete", "reorder", "insert"],
)
def test_jsonl_tampering_is_named(
    tmp_path: Path, tamper: Callable[[Path], None], first_bad: int, reason: str
) -> None:
    path = filled(tmp_path / "log.jsonl")
    assert verify_records(open_store(path).records()).ok
    tamper(path)
    result = verify_records(open_store(path).records())
    assert not result.ok and result.first_bad == first_bad and reason in (result.reason or "")


def test_flipped_byte_is_detected(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.jsonl")
    flip_byte(path)
    assert not verify_records(open_store(path).records()).ok


def test_sqlite_edit_is_detected(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.db")
    db = sqlite3.connect(path)
    with db:
        text = db.execute("SELECT record FROM records WHERE position = 4").fetchone()[0]
        db.execute(
            "UPDATE records SET record = ? WHERE position = 4", (text.replace("record 3", "r3"),)
        )
    db.close()
    result = verify_records(open_store(path).records())
    assert not result.ok and result.first_bad == 4


def test_sqlite_delete_is_detected(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.db")
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM records WHERE position = 2")
    db.close()
    result = verify_records(open_store(path).records())
    assert not result.ok and result.first_bad == 2


def test_non_monotonic_timestamps_are_named(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.jsonl", 3)
    rows = [json.loads(r) for r in lines(path)]
    # re-seal a consistent chain whose third record goes back in time
    from guardkit.records.chain import GENESIS, canonical_json, seal

    prev, out = GENESIS, []
    for i, row in enumerate(rows):
        ts = row["ts"] if i < 2 else "2000-01-01T00:00:00Z"
        record = seal(row["seq"], ts, row["kind"], row["data"], prev)  # type: ignore[arg-type]
        out.append(canonical_json(record.model_dump(mode="json")))
        prev = record.sha256
    rewrite(path, out)
    result = verify_records(open_store(path).records())
    assert not result.ok and result.first_bad == 3 and "earlier" in (result.reason or "")


def test_concurrent_writers_never_fork_the_chain(tmp_path: Path) -> None:
    for name in ("log.jsonl", "log.db"):
        store = open_store(tmp_path / name)

        def work(store=store) -> None:  # type: ignore[no-untyped-def]
            for i in range(25):
                store.append("event", {"i": i})

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result = verify_records(open_store(tmp_path / name).records())
        assert result.ok and result.records == 100


def test_signed_checkpoints(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.jsonl", 3)
    generate_keys(tmp_path / "k", tmp_path / "k.pub")
    checkpoint(open_store(path), load_private_key(tmp_path / "k"))
    open_store(path).append("event", {"after": True})
    ok = runner.invoke(app, ["log", "verify", str(path), "--public-key", str(tmp_path / "k.pub")])
    assert ok.exit_code == 0 and "1 signed checkpoints verified" in ok.output
    # someone rewrites the chain consistently with another key: hashes agree, the signature cannot
    generate_keys(tmp_path / "other", tmp_path / "other.pub")
    forged = filled(tmp_path / "forged.jsonl", 3)
    checkpoint(open_store(forged), load_private_key(tmp_path / "other"))
    bad = runner.invoke(
        app, ["log", "verify", str(forged), "--public-key", str(tmp_path / "k.pub")]
    )
    assert bad.exit_code == 1 and "invalid signature" in bad.output
    unkeyed = runner.invoke(app, ["log", "verify", str(path)])
    assert (
        unkeyed.exit_code == 0 and "1 checkpoints agree with it (signatures not" in unkeyed.output
    )
    # a checkpoint that does not describe the chain before it is caught without the key too
    open_store(path).append("checkpoint", {"count": 99, "head_sha256": "0" * 64, "signature": ""})
    stale = runner.invoke(app, ["log", "verify", str(path)])
    assert stale.exit_code == 1 and "does not describe the chain before it" in stale.output


def test_unreadable_keys_are_typed_errors_naming_the_file(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.jsonl", 2)
    generate_keys(tmp_path / "k", tmp_path / "k.pub")
    (tmp_path / "garbage.pem").write_text("not a key\n")
    cases = {  # option, key file -> what the error says
        ("--public-key", "garbage.pem"): "not a readable public key PEM",
        ("--public-key", "k"): "not a readable public key PEM",  # the private half
        ("--public-key", "missing.pem"): "cannot read the public key",
        ("--key", "garbage.pem"): "not a readable private key PEM",
        ("--key", "k.pub"): "not a readable private key PEM",
        ("--key", "missing.pem"): "cannot read the private key",
    }
    for (option, name), message in cases.items():
        command = "verify" if option == "--public-key" else "checkpoint"
        result = runner.invoke(app, ["log", command, str(path), option, str(tmp_path / name)])
        assert result.exit_code == 2, (option, name, result.output)
        assert name in result.output and message in result.output, result.output
    assert len(lines(path)) == 2  # no checkpoint was half-appended


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    path = filled(tmp_path / "log.jsonl")
    assert runner.invoke(app, ["log", "verify", str(path)]).exit_code == 0
    edit(path)
    result = runner.invoke(app, ["log", "verify", str(path)])
    assert result.exit_code == 1 and "record 3" in result.output
    missing = runner.invoke(app, ["log", "verify", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "no such record log" in missing.output
    wrong = runner.invoke(app, ["log", "verify", str(tmp_path / "x.txt")])
    assert wrong.exit_code == 2 and "unknown record store suffix '.txt'" in wrong.output


def test_reports_are_sealed_with_content_per_policy(tmp_path: Path) -> None:
    policy = guardkit.Policy.model_validate(
        {"id": "p", "version": "1", "records": {"content": "redact", "log": "calls.jsonl"}},
        context={"base_dir": str(tmp_path)},
    )

    @guardkit.guard(policy, sinks=[])
    def ask(messages: list[dict[str, str]]) -> str:
        return "Write to ada@example.com or call +44 20 7946 0958."

    parts = [{"type": "text", "text": "card 4111 1111 1111 1111, mail bob@example.com"}]
    ask(
        [
            {"role": "user", "content": "My IBAN is DE89 3704 0044 0532 0130 00"},
            {"role": "user", "content": parts},  # content as a list of parts
        ]
    )
    [record] = list(open_store(tmp_path / "calls.jsonl").records())
    assert not isinstance(record, str) and record.kind == "guard_report"
    content = record.data["content"]
    assert content["output"] == "Write to [EMAIL] or call [PHONE]."
    assert content["messages"][0]["content"] == "My IBAN is [IBAN]"
    assert content["messages"][1]["content"][0]["text"] == "card [CARD], mail [EMAIL]"
    assert "bob@example.com" not in (tmp_path / "calls.jsonl").read_text()
    assert len(content["input_sha256"]) == 64


@pytest.mark.parametrize("mode", ["hash", "redact", "store"])
def test_a_call_without_messages_records_its_arguments_as_its_input(mode: str) -> None:
    policy = guardkit.Policy.model_validate(
        {"id": "p", "version": "1", "records": {"content": mode}}
    )

    @guardkit.guard(policy, sinks=[])
    def extract(text: str, client: object = None, retries: int = 2) -> str:
        return '{"ok": true}'

    one = extract("order for bob@example.com", client=object(), retries=3).report.content
    two = extract("order for eve@example.com").report.content
    assert one.input_sha256 is not None and one.input_sha256 != two.input_sha256
    if mode == "hash":
        assert one.arguments is None and "bob@" not in one.model_dump_json()
        return
    assert one.arguments is not None and one.arguments["retries"] == 3
    assert one.arguments["text"] == (
        "order for bob@example.com" if mode == "store" else "order for [EMAIL]"
    )
    assert one.arguments["client"].startswith("<object object at")  # no JSON: its repr
    with_messages = guardkit.guard(policy, sinks=[])(lambda messages: "ok")
    content = with_messages([{"role": "user", "content": "hi"}]).report.content
    assert content.arguments is None and content.messages is not None  # the messages are input


def test_hash_mode_keeps_no_text(tmp_path: Path) -> None:
    sink = RecordSink(tmp_path / "calls.db")

    @guardkit.guard(guardkit.Policy(id="p", version="1"), sinks=[sink])
    def ask() -> str:
        return "secret"

    ask()
    [record] = list(open_store(tmp_path / "calls.db").records())
    assert not isinstance(record, str)
    assert record.data["content"]["output"] is None and "secret" not in json.dumps(record.data)


@pytest.mark.parametrize(("mode", "kept"), [("hash", False), ("redact", False), ("store", True)])
def test_findings_that_quote_the_output_are_redacted_unless_stored(
    mode: str, kept: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from risk.risk_support import WordOverlapVerifier

    from guardkit.checks import risk as risk_check

    monkeypatch.setattr(risk_check, "load_grounding_verifier", lambda folder: WordOverlapVerifier())
    policy = guardkit.Policy.model_validate(
        {
            "id": "p",
            "version": "1",
            "checks": {"risk": {"max_risk": 0.3}},
            "actions": {"risk": {"type": "reask", "max_attempts": 2, "then": "flag"}},
            "records": {"content": mode},
        }
    )

    @guardkit.guard(policy, sinks=[])
    def ask(**_: object) -> str:
        return "The shop opens at nine. Mail ada@example.com about purple elephants."

    report = ask(guardkit_documents=["The shop opens at nine."]).report
    quoted = report.checks[0].details["least_supported"]
    assert ("ada@example.com" in quoted) is kept and ("[EMAIL]" in quoted) is not kept
    assert ("ada@example.com" in report.model_dump_json()) is kept  # attempts and feedback too


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Call +49 30 1234567 or (030) 123-4567.", "Call [PHONE] or [PHONE]."),
        ("Pay with 4111 1111 1111 1111.", "Pay with [CARD]."),
        ("Write to ana@example.org.", "Write to [EMAIL]."),
        # what a reviewer needs to read stays: dates, spans of years, amounts, non-card numbers
        ("Due on 2024-03-31, for 2010-2015 and 2010 - 2015.", None),
        ("It costs 2,250.00 EUR.", None),
        # no card (the Luhn check fails), but a long run of digits all the same
        ("Order 4111 1111 1111 1112 failed.", "Order [PHONE] failed."),
        ("Card 4111-1111-1111-1111 10 times.", "Card [CARD] 10 times."),  # not one long number
        ("Amex 3782 822463 10005.", "Amex [CARD]."),
        ("Call (+1 555 123 4567) or 555-123-4567.", "Call [PHONE]) or [PHONE]."),
        ("Due 03/31/2024, 31/03/2024, 31-03-2024, 31.03.2024.", None),
        ("From 2024-03-31 - 2024-04-05.", None),
        ("Call \u0660\u0663\u0660 \u0661\u0662\u0663 \u0664\u0665\u0666\u0667.", "Call [PHONE]."),
    ],
)
def test_redaction_patterns(text: str, redacted: str | None) -> None:
    assert ContentRecorder("hash").redact(text) == (text if redacted is None else redacted)


def test_policy_patterns_apply_to_texts_without_digits_too() -> None:
    recorder = ContentRecorder("hash", [r"project-[a-z]+"])
    assert recorder.redact("Ask about project-falcon.") == "Ask about [CUSTOM1]."
    assert recorder.redact("Mail x@y.org on project-owl.") == "Mail [EMAIL] on [CUSTOM1]."


def test_remembered_redactions_answer_as_the_patterns_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guardkit.records.content._REMEMBERED_CHARS", 100)
    recorder = ContentRecorder("redact", [r"project-[a-z]+"])
    texts = [f"Mail a{i}@b.org about project-owl {i}." for i in range(5)] * 3
    for text in texts:  # more than it keeps: forgotten, then redacted again
        assert recorder.redact(text) == ContentRecorder("redact", [r"project-[a-z]+"])._redact(text)
        assert recorder._redacted_chars <= 100
    assert recorder.redact(texts[0]) == "Mail [EMAIL] about [CUSTOM1] 0."
    assert not any("@" in kept for kept in recorder._redacted.values())
    assert all(isinstance(key, bytes) for key in recorder._redacted)  # digests, not the text
    long = "Mail x@y.org. " * 200
    assert recorder.redact(long) == "Mail [EMAIL]. " * 200
    assert recorder.redact("lone \ud800 surrogate 555-123-4567") == "lone \ud800 surrogate [PHONE]"


def test_a_file_that_is_no_record_log_is_a_typed_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("this is not sqlite at all, just text bytes here....")
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE records (a, b)")
    db.commit()
    db.close()
    for path, why in ((text, "file is not a database"), (other, "has columns ['a', 'b']")):
        result = CliRunner().invoke(app, ["log", "verify", str(path)])
        assert result.exit_code == 2
        assert f"{path}: not a guardkit record log" in result.output and why in result.output
    queue = CliRunner().invoke(app, ["review", "list", "--queue", str(text)])
    assert queue.exit_code == 2 and "not a guardkit review queue" in queue.output


def test_a_log_ending_in_a_half_written_line_is_refused_for_appending(tmp_path: Path) -> None:
    """Appending after a torn last line would fail for every report, silently but for one
    warning; the log is refused when opened to append, and still verifiable."""
    log = tmp_path / "calls.jsonl"
    store = open_store(log)
    store.append("test", {"n": 1})
    with log.open("a") as fh:
        fh.write('{"seq": 2, "kind": "te')
    with pytest.raises(guardkit.GuardkitError) as err:
        open_store(log)
    assert err.value.file == str(log) and "cannot be extended" in str(err.value)
    assert verify_records(open_store(log, create=False).records()).ok is False
