"""The Ray engine: cases as a Ray Data dataset, ``map_batches`` over a pool of actors.

Each actor builds its source once (policy, checks, verifier, model or client) and audits the
batches it is given; records stream back to the driver as batches finish, where they are
written. Cases and records travel as JSON strings, so Arrow never has to infer a schema for
free-form outputs. Ray is started locally when no cluster is running (``RAY_ADDRESS`` picks
one) and stopped again if this engine started it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from guardkit.audit.engines import audit_case
from guardkit.audit.record import Record
from guardkit.audit.sources import SourceSpec, build_runner
from guardkit.audit.suite import Case, Numbered

__all__ = ["AuditActor", "run_ray"]

MAX_BATCH = 64
"""Most cases per batch: records reach the driver (and the file) when their batch finishes."""


def batch_size(cases: int, workers: int) -> int:
    """About eight batches per worker, so work spreads evenly and records stream back often,
    yet batches stay large enough that Ray's per-task overhead does not dominate."""
    return max(1, min(MAX_BATCH, cases // (8 * max(1, workers))))


ACTOR_CPUS = 1
"""CPUs per actor; its models run this many threads."""


class AuditActor:
    """One Ray actor: its own source, built once."""

    def __init__(self, spec: dict[str, Any]) -> None:
        # Ray keeps an OMP_NUM_THREADS the driver exported; two-thread actors on two cores
        # oversubscribe them (0.98x instead of 1.6x). Models read it when they load, below.
        os.environ["OMP_NUM_THREADS"] = str(ACTOR_CPUS)
        self.runner = build_runner(SourceSpec(**spec))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        records = []
        for line, raw in zip(batch["line"], batch["case"], strict=True):
            item = Numbered(int(line), Case.model_validate_json(str(raw)))
            records.append(audit_case(self.runner, item).model_dump_json())
        return {"record": np.array(records, dtype=object)}


def run_ray(
    cases: Sequence[Numbered], spec: SourceSpec, workers: int, on_record: Callable[[Record], None]
) -> None:
    """Audit ``cases`` on ``workers`` actors."""
    import ray

    started = not ray.is_initialized()
    if started:
        on_terminate = signal.getsignal(signal.SIGTERM)
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_terminate)  # ray.init puts its own in place
    try:
        if not cases:
            return
        # guardkit's own bar shows progress; Ray Data's bars would draw over it
        ray.data.DataContext.get_current().enable_progress_bars = False
        items = [{"line": n.line, "case": n.case.model_dump_json()} for n in cases]
        size = batch_size(len(items), workers)
        dataset = ray.data.from_items(items, override_num_blocks=-(-len(items) // size))
        records = dataset.map_batches(
            AuditActor,
            fn_constructor_kwargs={"spec": dataclasses.asdict(spec)},
            batch_size=size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
            num_cpus=ACTOR_CPUS,
        )
        for batch in records.iter_batches(batch_size=None, batch_format="numpy"):
            for raw in batch["record"]:
                on_record(Record.model_validate(json.loads(str(raw))))
    finally:
        if started:
            ray.shutdown()
