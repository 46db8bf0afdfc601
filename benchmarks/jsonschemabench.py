"""MaskBench protocol over JSONSchemaBench-format folders, per engine and for the chain.

    python benchmarks/jsonschemabench.py --data ../shared/data/jsonschemabench \
        --engine llguidance --engine chain --out results.json [--limit N] [--e2e N]

Each ``<subset>/*.json`` holds ``schema`` and ``tests`` (``valid`` + ``data``). For every
schema and engine: compile (timed); force each test instance, serialised compactly, token
by token through the matcher (each token must be in the mask, EOS in the mask at the end;
every mask timed). A valid instance must get through; an invalid one that gets through is
``mask_unsound``, and if the final validation (jsonschema with format checking) then
accepts it too it is ``invalid_accepted`` (must be 0). A schema passes when it compiles,
all its valid instances get through and no invalid instance survives the whole chain.
``--e2e N`` also generates for N sampled schemas with the embedded model through the chain.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import jsonschema
import torch

from guardkit.decoding import Constraint, EngineChain, EngineError, Vocab, backend
from guardkit.decoding._base import allocate_bitmask, bitmask_allows
from guardkit.decoding.chain import _VALID_SCHEMAS, DEFAULT_CHAIN, UNCONSTRAINED, check_schema
from guardkit.errors import SchemaDefinitionError
from guardkit.generation._embedded import load_tokenizer

ENGINE_CHOICES = ("llguidance", "outlines-core", "xgrammar", "llguidance-relaxed", "chain")


def load_cases(data: Path, limit: int | None, seed: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(subset, file name, case) for every file; ``limit`` = a seeded sample per subset."""
    cases = []
    for subset in sorted(p for p in data.iterdir() if p.is_dir()):
        files = sorted(subset.glob("*.json"))
        if limit is not None and len(files) > limit:
            files = sorted(random.Random(f"{seed}/{subset.name}").sample(files, limit))
        for path in files:
            cases.append((subset.name, path.name, json.loads(path.read_text(encoding="utf-8"))))
    return cases


def final_validator(schema: Any) -> Any:
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def force(grammar: Any, tokens: list[int], eos: int, size: int, times: list[float]) -> bool:
    """Whether every token, then EOS, is allowed by the masks (the MaskBench check)."""
    matcher = grammar.matcher()
    bitmask = allocate_bitmask(size)
    for token in [*tokens, eos]:
        start = time.perf_counter()
        matcher.fill_bitmask(bitmask)
        times.append(time.perf_counter() - start)
        if not bitmask_allows(bitmask, token) or (token != eos and not matcher.consume(token)):
            return False
    return True


class EngineRun:
    """Counters for one engine (or the chain) over all schemas."""

    def __init__(self, name: str) -> None:
        self.name = name
        order = DEFAULT_CHAIN if name == "chain" else tuple(name.partition(":")[2].split(","))
        self.chain = EngineChain(order, cache_size=64) if name.startswith("chain") else None
        self.rows: list[dict[str, Any]] = []
        self.compile_ms: list[float] = []
        self.mask_s: list[float] = []

    def compile(self, schema: Any, vocab: Vocab) -> tuple[Any, str, list[str], str]:
        """(grammar or None, engine used, relaxed, failure feature).

        The chain is timed from the schema dict on, as guardkit gets it: the canonical JSON,
        the metaschema check and every engine tried. An engine alone is timed on its compile.
        """
        try:
            # The chain is timed as on first sight of a schema: an engine run before it in this
            # process must not leave the metaschema verdict cached.
            _VALID_SCHEMAS.clear()
            start = time.perf_counter()
            constraint = Constraint.json_schema(schema)
            if self.chain is not None:
                compiled = self.chain.compile(constraint, vocab)
                self.compile_ms.append((time.perf_counter() - start) * 1000)
                info = compiled.info
                why = "; ".join(info.fallbacks) if info.engine == UNCONSTRAINED else ""
                return compiled.grammar, info.engine, info.relaxed, why
            check_schema(constraint)  # untimed: MaskBench times the engine alone
            start = time.perf_counter()
            grammar = backend(self.name).compile(constraint, vocab)
        except EngineError as exc:
            return None, self.name, [], exc.feature
        except SchemaDefinitionError as exc:
            return None, self.name, [], f"invalid-schema: {exc.message[:60]}"
        self.compile_ms.append((time.perf_counter() - start) * 1000)
        return grammar, self.name, grammar.relaxed, ""

    def run(self, subset: str, name: str, case: dict[str, Any], vocab: Vocab) -> None:
        grammar, engine, relaxed, why = self.compile(case["schema"], vocab)
        row: dict[str, Any] = {
            "subset": subset,
            "file": name,
            "engine": engine,
            "compiled": grammar is not None,
            "why": why,
            "relaxed": len(relaxed),
            "valid_rejected": 0,
            "mask_unsound": 0,
            "invalid_accepted": 0,
        }
        if grammar is not None:
            self._tests(row, grammar, case, vocab)
        row["passed"] = (
            row["compiled"] and row["valid_rejected"] == 0 and row["invalid_accepted"] == 0
        )
        self.rows.append(row)

    def _tests(self, row: dict[str, Any], grammar: Any, case: dict[str, Any], vocab: Vocab) -> None:
        validator = final_validator(case["schema"])
        for test in case["tests"]:
            text = json.dumps(test["data"], separators=(",", ":"), ensure_ascii=False)
            through = force(grammar, vocab.encode(text), vocab.eos_ids[0], vocab.size, self.mask_s)
            if test["valid"] and not through:
                row["valid_rejected"] += 1
            elif not test["valid"] and through:
                row["mask_unsound"] += 1
                row["invalid_accepted"] += int(validator.is_valid(test["data"]))

    def summary(self) -> dict[str, Any]:
        return {
            "summary": _totals(self.rows, self.compile_ms, self.mask_s),
            "subsets": {
                s: _totals([r for r in self.rows if r["subset"] == s])
                for s in sorted({r["subset"] for r in self.rows})
            },
        }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _totals(
    rows: list[dict[str, Any]],
    compile_ms: list[float] | None = None,
    mask_s: list[float] | None = None,
) -> dict[str, Any]:
    passed = sum(r["passed"] for r in rows)
    out: dict[str, Any] = {
        "schemas": len(rows),
        "passed": passed,
        "pass_rate": round(passed / len(rows), 4) if rows else 0.0,
        "compiled": sum(r["compiled"] for r in rows),
        "valid_rejected_schemas": sum(r["valid_rejected"] > 0 for r in rows),
        "mask_unsound": sum(r["mask_unsound"] for r in rows),
        "invalid_accepted": sum(r["invalid_accepted"] for r in rows),
        "engines_used": dict(Counter(r["engine"] for r in rows if r["compiled"])),
        "relaxed_schemas": sum(r["relaxed"] > 0 for r in rows),
        "compile_failures": dict(Counter(r["why"] for r in rows if r["why"]).most_common(8)),
    }
    if compile_ms is not None and mask_s is not None:
        out.update(
            {
                "compile_ms_p50": round(_pct(compile_ms, 0.5), 3),
                "compile_ms_p99": round(_pct(compile_ms, 0.99), 3),
                "mask_us_mean": round(statistics.fmean(mask_s) * 1e6, 2) if mask_s else 0.0,
                "mask_us_p99": round(_pct(mask_s, 0.99) * 1e6, 2),
                "masks": len(mask_s),
            }
        )
    return out


def end_to_end(cases: list[tuple[str, str, dict[str, Any]]], n: int, seed: int) -> dict[str, Any]:
    """Generate for ``n`` sampled schemas with the embedded model; count invalid-as-valid."""
    from guardkit.errors import OutputError
    from guardkit.generation import LocalModel

    model = LocalModel.embedded()
    picked = random.Random(seed).sample(cases, min(n, len(cases)))
    counts: Counter[str] = Counter()
    for subset, name, case in picked:
        prompt = "Give one realistic example instance of the schema."  # schema: system message
        try:
            result = model.generate(prompt, case["schema"], max_new_tokens=256, reasks=1)
        except OutputError as exc:
            counts[f"error:{exc.code}"] += 1
            continue
        except SchemaDefinitionError:
            counts["schema_refused"] += 1
            continue
        counts["returned"] += 1
        counts[f"engine:{result.info.engine}"] += 1
        if not final_validator(case["schema"]).is_valid(json.loads(result.text)):
            counts["invalid_returned_as_valid"] += 1
            print(f"INVALID returned: {subset}/{name}", file=sys.stderr)
    return {
        "schemas": len(picked),
        "invalid_returned_as_valid": counts["invalid_returned_as_valid"],
        "counts": dict(counts),
    }


SUMMARY_COLUMNS = (
    "schemas",
    "passed",
    "pass_rate",
    "compile_ms_p50",
    "compile_ms_p99",
    "mask_us_mean",
    "mask_us_p99",
    "mask_unsound",
    "invalid_accepted",
)


def table(report: dict[str, Any]) -> str:
    """Markdown tables of a report: one summary row per engine, then pass rates per subset."""
    engines = report["engines"]
    lines = [
        "| engine | " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|---" * (len(SUMMARY_COLUMNS) + 1) + "|",
    ]
    for name, result in engines.items():
        lines.append(
            f"| {name} | " + " | ".join(str(result["summary"][c]) for c in SUMMARY_COLUMNS) + " |"
        )
    subsets = sorted({s for result in engines.values() for s in result["subsets"]})
    lines += ["", "| subset | " + " | ".join(engines) + " |", "|---" * (len(engines) + 1) + "|"]
    for subset in subsets:
        cells = []
        for result in engines.values():
            row = result["subsets"].get(subset, {})
            cells.append(
                f"{row.get('passed', 0)}/{row.get('schemas', 0)} ({row.get('pass_rate', 0):.1%})"
            )
        lines.append(f"| {subset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--table":
        print(table(json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))))
        return 0
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--engine",
        action="append",
        required=True,
        help=f"one of {', '.join(ENGINE_CHOICES)}, or chain:ENGINE,ENGINE,... for another order",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="seeded sample per subset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--e2e", type=int, default=0, help="schemas to generate for end to end")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    vocab = Vocab(load_tokenizer())
    cases = load_cases(args.data, args.limit, args.seed)
    runs = [EngineRun(name) for name in args.engine]
    started = time.time()
    for i, (subset, name, case) in enumerate(cases, 1):
        for run in runs:
            run.run(subset, name, case, vocab)
        if i % 200 == 0:
            print(f"{i}/{len(cases)} {time.time() - started:.0f}s", file=sys.stderr, flush=True)
    report: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "tokenizer": "SmolLM2-135M-Instruct (embedded GGUF, per-digit pre-tokenizer restored)",
        "engines": {run.name: run.summary() for run in runs},
        "rows": {run.name: run.rows for run in runs},
    }
    if args.e2e:
        report["end_to_end"] = end_to_end(cases, args.e2e, args.seed)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    for run in runs:
        print(run.name, json.dumps(report["engines"][run.name]["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
