"""One section per EU AI Act article, each a pure function of the gathered evidence.

Every figure is followed by the citation of the file (and JSON pointer) it came from; an input
that is missing is written as missing. Output is deterministic: same inputs, same text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from guardkit.evidence.sources import Evidence, Missing, Source
from guardkit.policy.model import DEFAULT_ACTIONS

__all__ = ["SECTIONS"]


def _value(source: Source | Missing, key: str) -> tuple[Any, str]:
    """A value of a JSON object input and its citation, or ``None`` and why it is missing."""
    if isinstance(source, Missing):
        return None, source.cite(key)
    data: Any = source.data if isinstance(source.data, dict) else {}
    for part in key.split("."):  # "certification.threshold": a value inside an object
        if not isinstance(data, dict) or part not in data:
            return None, f"[MISSING: {source.label} has no '{key}']"
        data = data[part]
    return data, source.cite(key)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple) and all(isinstance(v, int | float) for v in value):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in sorted(value.items()))
    return str(value)


def _fact(label: str, source: Source | Missing, key: str) -> str:
    value, cite = _value(source, key)
    return f"| {label} | {_fmt(value)} | {cite} |"


def _table(rows: list[str]) -> str:
    return "| measure | value | source |\n|---|---|---|\n" + "\n".join(rows)


def _policies(ev: Evidence) -> list[dict[str, Any]]:
    out = []
    for source in ev.policies:
        data = yaml.safe_load(source.data) if isinstance(source.data, str) else {}
        out.append({"source": source, "data": data if isinstance(data, dict) else {}})
    return out


def _default_action(mode: str) -> str:
    """The control a policy applies to ``mode`` when it names none (the guard's own default)."""
    spec = DEFAULT_ACTIONS.get(mode)
    if spec is None:
        return "raise (the default)"
    return f"{spec['type']} {spec.get('max_attempts')} attempts, then raise (the default)"


def art9(ev: Evidence) -> str:
    """Risk register: failure modes, the controls the policies apply, measured rates."""
    rates, cite = _value(ev.report, "check_failure_rates")
    lines = [
        "| failure mode | control (policy action chain) | measured failure rate | source |",
        "|---|---|---|---|",
    ]
    policies = _policies(ev)
    if not policies:
        lines.append("| — | [MISSING: no --policy given] | — | — |")
    for item in policies:
        data, source = item["data"], item["source"]
        actions = data.get("actions") or {}
        checks = data.get("checks") or {}
        schema = {"schema"} if data.get("output") or "schema" in checks else set()
        modes = sorted({"error", *schema, *checks, *actions})  # a check that never ran: none
        for mode in modes:
            action = actions.get(mode, _default_action(mode))
            rate = rates.get(mode) if isinstance(rates, dict) else None
            lines.append(
                f"| {data.get('id')}: `{mode}` | `{_fmt(action)}` {source.cite('actions')} | {_fmt(rate)} | {cite} |"
            )
    return (
        "## Article 9 — Risk management\n\nEach failure mode the guard detects, the control the policy applies, and how often it occurred in the audit.\n\n"
        + "\n".join(lines)
    )


def art10(ev: Evidence) -> str:
    """Data governance: the reference data checked against, with hashes and dates."""
    index = ev.index
    rows = [
        _fact("embedding model", index, "embedding_model"),
        _fact("embedding model sha256", index, "embedding_sha256"),
        _fact("index type", index, "index.kind"),
        _fact("facts", index, "fact_count"),
        _fact("content sha256", index, "content_sha256"),
        _fact("source documents", index, "document_count"),
        _fact("created", index, "created_at"),
        _fact("updated", index, "updated_at"),
    ]
    return (
        "## Article 10 — Data and data governance\n\nThe fact index that outputs are checked against.\n\n"
        + _table(rows)
    )


def art11(ev: Evidence) -> str:
    """Technical documentation (Annex IV): system, models, policies, procedures, metrics, logs."""
    policy_rows = ["| policy | version | description | file sha256 |", "|---|---|---|---|"]
    for item in _policies(ev):
        data, source = item["data"], item["source"]
        description = " ".join(str(data.get("description", "")).split())
        policy_rows.append(
            f"| {data.get('id')} | {data.get('version')} | {description} | {source.cite()} |"
        )
    if len(policy_rows) == 2:
        policy_rows.append("| [MISSING: no --policy given] | | | |")
    verifier = [
        _fact("verifier base model", ev.verifier, "training.base_model"),
        _fact("verifier labels", ev.verifier, "labels"),
        _fact("verifier metrics", ev.verifier, "metrics"),
    ]
    metrics = [
        _fact("audit run at", ev.report, "generated_at"),
        _fact("policy audited", ev.report, "policy"),
        _fact("suite", ev.report, "suite"),
        _fact("answers from", ev.report, "source"),
        _fact("cases audited", ev.report, "cases"),
        _fact("reliable completions", ev.report, "reliable"),
        _fact("reliable-completion rate", ev.report, "rcr"),
        _fact("95 % Wilson interval", ev.report, "rcr_ci"),
        _fact("total cost", ev.report, "cost_total"),
        _fact("cases without a price (not in the cost)", ev.report, "unpriced_cases"),
        _fact("currency", ev.report, "currency"),
        _fact("cost per reliable completion", ev.report, "cost_per_reliable"),
        _fact("latency (ms)", ev.report, "latency_ms"),
    ]
    records = ev.records
    test_log = (
        f"{len(records.data)} case records {records.cite()}"
        if isinstance(records, Source)
        else records.cite()
    )
    metrics.append(_agreement(ev))
    return (
        "## Article 11 and Annex IV — Technical documentation\n\n"
        "### System\nguardkit guards model calls: each output is validated against a schema, checked "
        "against reference facts and scored for hallucination risk, then passed, repaired, flagged for "
        "review, refused or failed, as the policy says. Every call yields a report.\n\n"
        "### Policies\n" + "\n".join(policy_rows) + "\n\n"
        "### Models\n" + _table(verifier) + "\n\n"
        "### Validation and testing procedure\nThe audit runs every case of a suite through the guarded "
        "call (or judges recorded responses) and writes one record per case; the report adds them up "
        "with Wilson 95 % intervals.\n\n"
        "### Metrics\n" + _table(metrics) + "\n\n"
        f"### Test logs\n{test_log}"
    )


def _agreement(ev: Evidence) -> str:
    """Whether report.json's counts are those of records.jsonl (an edited report is not)."""
    if not (isinstance(ev.report, Source) and isinstance(ev.records, Source)):
        return "| report and records agree | — | [MISSING: report.json or records.jsonl] |"
    rows = [r for r in ev.records.data if isinstance(r, dict)]
    counted = (len(rows), sum(bool(r.get("reliable")) for r in rows))
    data = ev.report.data if isinstance(ev.report.data, dict) else {}
    stated = (data.get("cases"), data.get("reliable"))
    verdict = (
        "yes"
        if stated == counted
        else f"NO: report.json says {stated[1]} reliable of {stated[0]}, records.jsonl holds "
        f"{counted[1]} of {counted[0]}"
    )
    return f"| report and records agree | {verdict} | {ev.report.cite()} {ev.records.cite()} |"


def art12(ev: Evidence) -> str:
    """Record-keeping: is the log intact, what it holds, how long it is kept."""
    summary = ev.log_summary
    if summary is None:
        return f"## Article 12 — Record-keeping\n\n{ev.log.cite()}"
    result = summary.result
    status = "intact" if result.ok else f"TAMPERED at record {result.first_bad}: {result.reason}"
    retention = []
    for item in _policies(ev):
        declared = (item["data"].get("records") or {}).get("retention_days")
        days = (
            f"{declared} days" if declared is not None else "183 days (the default; none declared)"
        )
        retention.append(f"{item['data'].get('id')}: {days} {item['source'].cite('records')}")
    rows = [
        f"| chain verification | {status} | {ev.log.cite()} |",
        f"| records verified | {result.records} | {ev.log.cite()} |",
        f"| head sha256 | {result.head_sha256 or '—'} | {ev.log.cite()} |",
        f"| signed checkpoints | {summary.signatures} | {ev.log.cite()} |",
        f"| records after the last checkpoint | {summary.unsigned_tail} | {ev.log.cite()} |",
        f"| records by kind{_before_bad(summary)} | {_fmt(summary.kinds)} | {ev.log.cite()} |",
        f"| first / last record | {summary.first_ts} / {summary.last_ts} | {ev.log.cite()} |",
        f"| declared retention | {'; '.join(retention) or '[MISSING: no --policy given]'} | |",
    ]
    return (
        "## Article 12 — Record-keeping\n\n| measure | value | source |\n|---|---|---|\n"
        + "\n".join(rows)
    )


def _before_bad(summary: Any) -> str:
    """A note that figures stop at the first bad record of a tampered log."""
    if summary is None or summary.result.first_bad is None:
        return ""
    return f" (the {summary.result.first_bad - 1} records before the first bad one)"


def art13(ev: Evidence) -> str:
    """Transparency: declared limitations and the verifier's measured accuracy."""
    metrics, cite = _value(ev.verifier, "metrics")
    rows = (
        [f"| {k} | {_fmt(v)} | {cite} |" for k, v in sorted(metrics.items())]
        if isinstance(metrics, dict)
        else [f"| verifier accuracy | — | {cite} |"]
    )
    limits = (
        "- The claim verifier is a small model trained by guardkit; its accuracy per benchmark is below.\n"
        "- Risk thresholds hold under the stated guarantee only for data like the calibration set.\n"
        "- Pattern-based redaction lowers exposure of personal data; it is not anonymisation.\n"
    )
    return (
        "## Article 13 — Transparency\n\n### Declared limitations\n"
        + limits
        + "\n### Verifier accuracy\n| benchmark | value | source |\n|---|---|---|\n"
        + "\n".join(rows)
    )


def art14(ev: Evidence) -> str:
    """Human oversight: flagged outputs and the decisions taken on them."""
    outcomes, cite = _value(ev.report, "outcomes")
    flagged = outcomes.get("flagged") if isinstance(outcomes, dict) else None
    summary = ev.log_summary
    decisions = _fmt(summary.decisions) if summary else ev.log.cite()
    reviewers = ", ".join(summary.reviewers) if summary and summary.reviewers else "—"
    rows = [
        f"| outputs flagged for review in the audit | {_fmt(flagged)} | {cite} |",
        f"| review decisions in the record log{_before_bad(summary)} | {decisions} "
        f"| {ev.log.cite()} |",
        f"| reviewers | {reviewers} | {ev.log.cite()} |",
    ]
    return (
        "## Article 14 — Human oversight\n\n| measure | value | source |\n|---|---|---|\n"
        + "\n".join(rows)
    )


def art15(ev: Evidence) -> str:
    """Accuracy and robustness: reliable completions, the risk guarantee, bad input."""
    rows = [
        _fact("reliable-completion rate", ev.report, "rcr"),
        _fact("95 % Wilson interval", ev.report, "rcr_ci"),
        _fact("outcomes", ev.report, "outcomes"),
        _fact("attempts histogram", ev.report, "attempts_histogram"),
        _fact("malformed suite lines (skipped, recorded)", ev.report, "skipped_lines"),
        _fact("provider errors during the audit", ev.report, "provider_errors"),
        _fact("risk guarantee stated by the audit", ev.report, "guarantee"),
        _fact("calibration", ev.report, "calibration"),
    ]
    for lock in ev.locks:
        rows.append(_fact("risk threshold (certified)", lock, "certification.threshold"))
        rows.append(_fact("guarantee: alpha", lock, "certification.alpha"))
        rows.append(_fact("guarantee: delta", lock, "certification.delta"))
        rows.append(_fact("calibration set sha256", lock, "calibration_sha256"))
    if not ev.locks:
        rows.append("| risk guarantee | — | [MISSING: no --lock given] |")
    return "## Article 15 — Accuracy, robustness and cybersecurity\n\n" + _table(rows)


SECTIONS: dict[str, Callable[[Evidence], str]] = {
    "art09-risk-management": art9,
    "art10-data-governance": art10,
    "art11-technical-documentation": art11,
    "art12-record-keeping": art12,
    "art13-transparency": art13,
    "art14-human-oversight": art14,
    "art15-accuracy-robustness": art15,
}
