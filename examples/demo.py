"""The main job on the embedded defaults: a guarded extraction call, end to end, offline.

A scripted model behind a real OpenAI-compatible HTTP server on 127.0.0.1 makes the mistake
real models make (a number written as a word); the official openai client, wrapped by
guardkit with the shipped invoice policy, gets it back validated after one reask, and the
report and the ledger say what happened and what it cost.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai

import guardkit
from guardkit.testing import Answer, ScriptedLLMServer

ROOT = Path(__file__).resolve().parent.parent
INVOICE = {
    "invoice_number": "INV-2026-0042",
    "issue_date": "2026-11-02",
    "due_date": "2026-12-02",
    "vendor": {"name": "Nordlicht Office Supplies GmbH", "vat_id": "DE123456789"},
    "currency": "EUR",
    "total": 86.9,
    "line_items": [
        {"description": "A4 paper, 500 sheets", "quantity": 10, "unit_price": 5.99},
        {"description": "Toner cartridge", "quantity": 1, "unit_price": 27.0},
    ],
}


def main() -> None:
    broken = {**INVOICE, "line_items": [{**INVOICE["line_items"][0], "quantity": "ten"}]}
    server = ScriptedLLMServer().start()
    server.answer(
        Answer(json.dumps(broken), input_tokens=850, output_tokens=160),
        Answer(json.dumps(INVOICE), input_tokens=1120, output_tokens=170),
    )
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
        ledger = guardkit.ReliabilityLedger()
        guarded = guardkit.wrap(
            client, policy=ROOT / "policies/invoice-extraction.yaml", sinks=[ledger]
        )
        result = guarded.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Extract the invoice fields from: ..."}],
        )
    finally:
        server.stop()

    report = result.report
    print(f"outcome: {report.outcome.value} after {len(report.attempts)} attempts")
    for attempt in report.attempts:
        errors = [str(e) for c in attempt.checks for e in c.errors]
        print(f"  attempt {attempt.number}: {attempt.failure or 'passed'} {errors}")
    print(f"output: {json.dumps(result.output)[:100]}...")
    summary = ledger.summary()
    print(
        f"ledger: {summary.reliable}/{summary.calls} reliable, rcr {summary.rcr:.2f} "
        f"(95% CI {summary.rcr_ci[0]:.2f}-{summary.rcr_ci[1]:.2f}), "
        f"cost per reliable completion ${summary.cost_per_reliable:.6f}"
    )


if __name__ == "__main__":
    main()
