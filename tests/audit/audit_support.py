"""Helpers for audit tests: a small policy, a suite, recorded responses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}
POLICY = """\
id: audit-test
version: "1"
output:
  json_schema: answer.schema.json
actions:
  schema: {type: fix, then: {type: reask, max_attempts: 2, then: raise}}
  error: {type: reask, max_attempts: 2, then: raise}
costs:
  test-model: {input_per_1k: 0.001, output_per_1k: 0.002}
records: {content: store}
"""


def completion(content: str, prompt: int = 100, completion_tokens: int = 20) -> dict[str, Any]:
    """An OpenAI chat completion payload, as a recorded response."""
    return {
        "model": "test-model",
        "choices": [{"message": {"content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens},
    }


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def answer(i: int) -> str:
    return json.dumps({"answer": f"answer {i}"})


def suite_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"c{i}",
            "input": f"question {i}?",
            "context": [f"doc {i}"],
            "hallucinated": i % 4 == 0,
        }
        for i in range(n)
    ]


def response_rows(n: int) -> list[dict[str, Any]]:
    """Case i: every 5th needs a reask (bad JSON first), every 7th a fix (code fence), every
    11th has no valid answer at all (fails), the rest answer well on the first attempt."""
    rows = []
    for i in range(n):
        if i % 11 == 10:
            answers = [completion("nope"), completion("still nope")]
        elif i % 5 == 4:
            answers = [completion("{broken"), completion(answer(i))]
        elif i % 7 == 6:
            answers = [completion(f"```json\n{answer(i)}\n```")]
        else:
            answers = [completion(answer(i))]
        rows.append({"id": f"c{i}", "responses": answers})
    return rows
