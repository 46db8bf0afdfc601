"""Audit benchmarks: throughput on recorded responses, Ray scaling, the risk guarantee.

    .venv/bin/python benchmarks/audit.py throughput --cases 2000 --ray-cases 2000 [--risk]
    .venv/bin/python benchmarks/audit.py halueval --data ../shared/data/halueval \\
        --calib-rows 1000 --test-rows 500 --alpha 0.1 --delta 0.1

``throughput``: each case has a context document (the same for all; ``--distinct-context``
adds a sentence of its own to each) and a five-sentence recorded answer (JSON, one in ten needs
a fix), judged through the guard by the local engine, then by Ray with one and two
workers. ``--risk`` adds the risk check (grounding with guardkit's verifier); ``--index DIR``
adds the facts check on that fact index. ``--grow-index N`` first grows a copy of it to ``N``
facts without embedding them (its vectors replicated with noise, as ``benchmarks/facts.py``
scales CitInt) plus the answers' five sentences, embedded, so every claim has its evidence:
the issue's configuration is ``--index <CitInt index> --grow-index 100000``.

``halueval``: rows are split as the data's PROVENANCE says: 0-based line ``i`` with
``i % 5 == 0`` is test and is never used to fit or calibrate. Each row gives two answers, the
right one (faithful) and the hallucinated one. Calibration answers are scored with the verifier
into risk components and go through ``calibrate`` (learn-then-test); the test answers become a
suite with ``hallucinated`` labels and recorded responses, audited through a policy whose risk
check reads the lock, so the figures come from ``report.json`` as a user would get them.

Both print a markdown block; ``--results FILE`` appends it there with the command and date.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from guardkit.audit import AuditConfig, SourceSpec, run_audit
from guardkit.policy import load_policy
from guardkit.risk import RiskScorer, calibrate, load_grounding_verifier, read_labelled, write_lock
from guardkit.risk.score import evidence

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SENTENCES = [
    "Orders ship within two business days.",
    "Refunds are issued to the original payment method.",
    "The warranty covers manufacturing defects for one year.",
    "Support is available Monday to Friday from nine to five.",
    "Express delivery costs twelve euros.",
]


def write_inputs(
    folder: Path, n: int, risk: bool, index: str | None, distinct_context: bool = False
) -> tuple[Path, Path, Path]:
    (folder / "answer.schema.json").write_text(json.dumps(SCHEMA))
    checks = []
    if index:
        checks.append(f'  facts: {{index: "{index}"}}')
    if risk:
        checks.append("  risk: {max_risk: 0.5}")
    policy = folder / "policy.yaml"
    policy.write_text(
        'id: bench\nversion: "1"\noutput:\n  json_schema: answer.schema.json\n'
        + ("checks:\n" + "\n".join(checks) + "\n" if checks else "")
        + "actions:\n  schema: {type: fix, then: raise}\n"
        + "costs:\n  bench-model: {input_per_1k: 0.0001, output_per_1k: 0.0004}\n"
    )
    suite, responses = folder / "suite.jsonl", folder / "responses.jsonl"
    with suite.open("w") as s, responses.open("w") as r:
        for i in range(n):
            text = " ".join(SENTENCES[(i + k) % 5] for k in range(5))
            body = json.dumps({"answer": text})
            content = f"```json\n{body}\n```" if i % 10 == 9 else body
            context = " ".join(SENTENCES)
            if distinct_context:  # no case's context is any other's: nothing to reuse
                context += f" Ticket {i} was opened on day {i % 28 + 1}."
            s.write(
                json.dumps({"id": f"c{i}", "input": "What are the terms?", "context": context})
                + "\n"
            )
            r.write(
                json.dumps(
                    {
                        "id": f"c{i}",
                        "response": {
                            "model": "bench-model",
                            "choices": [{"message": {"content": content}, "finish_reason": "stop"}],
                            "usage": {"prompt_tokens": 120, "completion_tokens": 60},
                        },
                    }
                )
                + "\n"
            )
    return policy, suite, responses


def grown_index(source: str, n: int, folder: Path) -> str:
    """A saved copy of the index at ``source`` grown to ``n`` facts, with SENTENCES in it."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    from facts import Corpus, replicated, scale_index

    from guardkit.facts import Document, FactIndex

    index = FactIndex.load(source)
    corpus = Corpus(index)
    vectors = replicated(corpus.vectors, n - len(SENTENCES), np.random.default_rng(n))
    big, _ = scale_index(index.embedder, corpus, vectors)
    big.add_documents([Document(f"terms{i}", text, "terms") for i, text in enumerate(SENTENCES)])
    big.save(folder / "grown-index")
    return str(folder / "grown-index")


def timed(
    folder: Path, tag: str, engine: str, workers: int, inputs: tuple[Path, Path, Path]
) -> float:
    policy, suite, responses = inputs
    spec = SourceSpec(kind="responses", policy=str(policy), responses=str(responses))
    t0 = time.perf_counter()
    report = run_audit(
        AuditConfig(suite=suite, out=folder / tag, source=spec, engine=engine, workers=workers)
    )
    seconds = time.perf_counter() - t0
    assert report.cases > 0
    return seconds


def command() -> str:
    """The command line as it was run."""
    return " ".join([Path(sys.executable).name, *sys.argv])


def throughput(args: argparse.Namespace) -> list[str]:
    """Cases per second on recorded responses; Ray with 2 workers against 1."""
    lines = [
        f"### audit throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`{command()}` on {os.cpu_count()} CPUs",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.index and args.grow_index:
            args.index = grown_index(args.index, args.grow_index, folder)
        inputs = write_inputs(folder, args.cases, args.risk, args.index, args.distinct_context)
        warm = len(args.local_workers or []) > 1
        if warm:  # models and index loaded before the first timing, as for the later ones
            timed(folder, "local-warm", "local", 1, inputs)
        loads = "models and index loaded before" if warm else "models and index loads"
        for run, workers in enumerate(args.local_workers or [1]):
            seconds = timed(folder, f"local{run}", "local", workers, inputs)
            lines.append(
                f"- recorded responses, local engine, {workers} worker(s): {args.cases} cases in "
                f"{seconds:.2f} s = **{args.cases / seconds:.0f} cases/s** (policy load, "
                f"{loads}, records with fsync and both reports included)"
            )
        if args.ray_cases:
            import ray

            warnings.filterwarnings("ignore", category=DeprecationWarning, module="ray")
            ray_dir = folder / "ray"
            ray_dir.mkdir()
            ray_inputs = write_inputs(
                ray_dir, args.ray_cases, args.risk, args.index, args.distinct_context
            )
            ray.init(address="local", include_dashboard=False, num_cpus=2, log_to_driver=False)
            try:
                timed(folder, "warm", "ray", 2, ray_inputs)  # start workers, import guardkit once
                one = timed(folder, "ray1", "ray", 1, ray_inputs)
                two = timed(folder, "ray2", "ray", 2, ray_inputs)
            finally:
                ray.shutdown()
            lines.append(
                f"- Ray Data, {args.ray_cases} cases: 1 worker {one:.2f} s "
                f"({args.ray_cases / one:.0f} cases/s), 2 workers {two:.2f} s "
                f"({args.ray_cases / two:.0f} cases/s): **{one / two:.2f}x**"
            )
    return lines


def rows(path: Path, test: bool, limit: int) -> list[dict[str, str]]:
    out = []
    with path.open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            if (i % 5 == 0) == test:
                out.append(json.loads(line))
                if len(out) == limit:
                    break
    return out


def examples(data: list[dict[str, str]]) -> list[tuple[str, str, str, bool]]:
    """(question, knowledge, answer, hallucinated) for both answers of every row."""
    return [
        (r["question"], r["knowledge"], answer, bad)
        for r in data
        for answer, bad in ((r["right_answer"], False), (r["hallucinated_answer"], True))
    ]


def halueval(args: argparse.Namespace) -> list[str]:
    """The risk guarantee on HaluEval QA (see the module docstring)."""
    qa = Path(args.data) / "qa.jsonl"
    scorer = RiskScorer(load_grounding_verifier(None))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        calib = examples(rows(qa, test=False, limit=args.calib_rows))
        t0 = time.perf_counter()
        components = scorer.many([(a, evidence([k], q)) for q, k, a, _ in calib])
        score_s = time.perf_counter() - t0
        labelled = folder / "labelled.jsonl"
        labelled.write_text(
            "".join(
                json.dumps({"risk_components": c.model_dump(), "hallucinated": bad}) + "\n"
                for c, (*_, bad) in zip(components, calib, strict=True)
            )
        )
        policy = folder / "policy.yaml"
        policy.write_text('id: halueval-qa\nversion: "1"\n')
        lock = calibrate(
            read_labelled(labelled, None),
            policy=load_policy(policy),
            calibration_file=labelled,
            alpha=args.alpha,
            delta=args.delta,
        )
        write_lock(lock, folder / "policy.lock.json")
        policy.write_text(
            'id: halueval-qa\nversion: "1"\nchecks:\n'
            f'  risk: {{lock: "{folder / "policy.lock.json"}"}}\n'
            "actions:\n  risk: {type: flag}\n"
        )
        test = examples(rows(qa, test=True, limit=args.test_rows))
        suite, responses = folder / "suite.jsonl", folder / "responses.jsonl"
        suite.write_text(
            "".join(
                json.dumps({"id": f"t{i}", "input": q, "context": k, "hallucinated": bad}) + "\n"
                for i, (q, k, _, bad) in enumerate(test)
            )
        )
        responses.write_text(
            "".join(
                json.dumps({"id": f"t{i}", "response": a}) + "\n"
                for i, (_, _, a, _) in enumerate(test)
            )
        )
        spec = SourceSpec(kind="responses", policy=str(policy), responses=str(responses))
        t0 = time.perf_counter()
        report = run_audit(AuditConfig(suite=suite, out=folder / "out", source=spec))
        audit_s = time.perf_counter() - t0
    cal = report.calibration
    assert cal is not None
    cert = lock.certification
    ci = cal.accepted_ci or (0.0, 1.0)
    lines = [
        f"### HaluEval QA risk guarantee, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`{command()}`",
        "",
        f"- calibration: {len(calib)} answers from {args.calib_rows} non-test rows, "
        f"scored in {score_s:.1f} s; "
        f"alpha={args.alpha}, delta={args.delta}: threshold {cert.threshold}, "
        f"test-split acceptance {cert.acceptance_rate:.1%}, upper bound {cert.ucb:.3f}",
        f"- test rows (i % 5 == 0): {report.cases} answers audited in {audit_s:.1f} s "
        f"({report.cases / audit_s:.1f} cases/s with the verifier); AUROC {cal.auroc}; "
        f"accepted {cal.accepted} ({cal.accepted / report.cases:.1%}); hallucination rate "
        f"among accepted {cal.accepted_hallucination_rate} "
        f"(Wilson 95 % [{ci[0]:.3f}, {ci[1]:.3f}]) vs alpha {args.alpha}",
        f"- verifier: {scorer.verifier.__class__.__name__}",
    ]
    return lines


MODES: dict[str, Callable[[argparse.Namespace], list[str]]] = {
    "throughput": throughput,
    "halueval": halueval,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--ray-cases", type=int, default=2000, help="0 skips the Ray comparison")
    parser.add_argument("--risk", action="store_true")
    parser.add_argument(
        "--distinct-context",
        action="store_true",
        help="give each case a context of its own (by default all cases share one document)",
    )
    parser.add_argument("--index")
    parser.add_argument(
        "--local-workers",
        type=int,
        action="append",
        help="threads of the local engine; repeat to compare side by side (default 1)",
    )
    parser.add_argument("--grow-index", type=int, default=0, help="grow --index to N facts")
    parser.add_argument("--data", default="../shared/data/halueval")
    parser.add_argument("--calib-rows", type=int, default=1000)
    parser.add_argument("--test-rows", type=int, default=500)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--delta", type=float, default=0.1)
    parser.add_argument("--results")
    args = parser.parse_args()
    if any(n < 1 for n in args.local_workers or []):
        parser.error("--local-workers takes a number of threads, at least 1")
    text = "\n".join(MODES[args.mode](args)) + "\n"
    print(text)
    if args.results:
        with Path(args.results).open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
