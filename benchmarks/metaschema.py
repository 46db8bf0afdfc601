"""guardkit's metaschema check against ``jsonschema``'s ``check_schema``: same verdicts, and time.

Also counts, for the ``jsonschema-rs`` fast path alone, the schemas it calls valid that
``check_schema`` refuses (must be 0: its "valid" is trusted) and the reverse (harmless: the
``jsonschema`` walk then decides).

    .venv/bin/python benchmarks/metaschema.py --data ../shared/data/jsonschemabench [--limit N]

Every JSONSchemaBench schema (or a seeded sample of ``--limit``) plus three seeded corruptions of
each (a random keyword of a random subschema set to a bad value) is checked both ways; any
verdict that differs is printed. Prints the counts and the seconds each check took in all.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guardkit.decoding._metaschema import _fast_meta_validator, first_error  # noqa: E402

BAD: list[Any] = ["nope", 3, -1, "a", [], {}, [1], None, True, 1.5, "(", "[a-", {"type": 5}]
BAD += [["x", "x"], "#/bad ref"]
KEYS = [
    "type",
    "properties",
    "required",
    "minimum",
    "maxLength",
    "pattern",
    "items",
    "additionalProperties",
    "enum",
    "$ref",
    "$id",
    "$schema",
    "format",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "$defs",
    "definitions",
    "dependencies",
    "dependentRequired",
    "minItems",
    "uniqueItems",
    "patternProperties",
    "prefixItems",
    "contains",
    "if",
    "const",
    "multipleOf",
    "exclusiveMinimum",
    "propertyNames",
    "unevaluatedProperties",
    "$anchor",
    "$dynamicRef",
    "contentSchema",
    "examples",
    "deprecated",
    "default",
]


def subschemas(node: Any) -> list[dict[str, Any]]:
    """Every object inside ``node`` (where a corruption can land)."""
    out, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def variants(schema: Any, rng: random.Random) -> list[Any]:
    """The schema and three corrupted copies."""
    out = [schema]
    for _ in range(3):
        copied = copy.deepcopy(schema)
        nodes = subschemas(copied)
        if not nodes:
            break
        rng.choice(nodes)[rng.choice(KEYS)] = rng.choice(BAD)
        out.append(copied)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "jsonschemabench")
    p.add_argument("--limit", type=int, default=None, help="seeded sample of this many files")
    a = p.parse_args()
    rng = random.Random(0)
    files = sorted(a.data.glob("*/*.json"))
    checks = invalid = differ = fast_accepts_invalid = fast_refuses_valid = 0
    t_ref = t_fast = 0.0
    for path in rng.sample(files, min(a.limit or len(files), len(files))):
        for schema in variants(json.loads(path.read_text())["schema"], rng):
            try:
                cls = jsonschema.validators.validator_for(schema)
            except Exception:  # a non-string $schema breaks validator_for itself
                cls = jsonschema.Draft202012Validator
            t0 = time.perf_counter()
            try:
                cls.check_schema(schema)
                ref = None
            except jsonschema.SchemaError as exc:
                ref = exc
            except RecursionError:
                continue
            t1 = time.perf_counter()
            got = first_error(schema)
            t_ref, t_fast = t_ref + t1 - t0, t_fast + time.perf_counter() - t1
            checks, invalid = checks + 1, invalid + (ref is not None)
            if (ref is None) != (got is None):
                differ += 1
                print("DIFF", path, ref and ref.message[:80], got and got.message[:80])
            try:
                fast = _fast_meta_validator(cls).is_valid(schema)
            except Exception:  # the fast path declines; the walk decides
                fast = None
            fast_accepts_invalid += fast is True and ref is not None
            fast_refuses_valid += fast is False and ref is None
    print(
        f"{checks} checks ({invalid} invalid), {differ} verdict differences; "
        f"check_schema {t_ref:.1f} s, guardkit {t_fast:.1f} s ({t_ref / max(t_fast, 1e-9):.2f}x); "
        f"jsonschema-rs alone: {fast_accepts_invalid} invalid called valid, "
        f"{fast_refuses_valid} valid refused"
    )


if __name__ == "__main__":
    main()
