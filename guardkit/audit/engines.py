"""How an audit's cases are run: in this process (``local``) or on Ray Data (``ray``).

An engine takes the cases, the source spec and a worker count, and hands each finished
``Record`` to ``on_record`` in the calling thread (which writes it), in completion order. A
registry by name; Ray is imported only when its engine is chosen.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import time
from collections.abc import Callable, Sequence

from guardkit.audit.record import Record, from_exception, from_result
from guardkit.audit.sources import CaseRunner, SourceSpec, build_runner
from guardkit.audit.suite import Numbered
from guardkit.errors import ConfigError, UnknownNameError

__all__ = ["ENGINES", "Engine", "audit_case", "get_engine"]

OnRecord = Callable[[Record], None]
Engine = Callable[[Sequence[Numbered], SourceSpec, int, OnRecord], None]


def audit_case(runner: CaseRunner, item: Numbered) -> Record:
    """Run one case; whatever it raises becomes a failed record, so the audit goes on."""
    t0 = time.perf_counter()
    try:
        result = runner.run(item.case)
    except Exception as exc:  # a provider or guard failure is a failed case, not a failed audit
        return from_exception(item, exc, (time.perf_counter() - t0) * 1000)
    return from_result(item, result, (time.perf_counter() - t0) * 1000)


def run_local(
    cases: Sequence[Numbered], spec: SourceSpec, workers: int, on_record: OnRecord
) -> None:
    """One source shared by ``workers`` threads (checks and clients are thread-safe); threads
    help when the model is remote, and one worker runs inline."""
    runner = build_runner(spec)
    if workers <= 1:
        for item in cases:
            on_record(audit_case(runner, item))
        return
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix="guardkit-audit"
    )
    try:
        futures = [pool.submit(audit_case, runner, item) for item in cases]
        for future in concurrent.futures.as_completed(futures):
            on_record(future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_ray(
    cases: Sequence[Numbered], spec: SourceSpec, workers: int, on_record: OnRecord
) -> None:
    from guardkit.audit.ray_engine import run_ray

    run_ray(cases, spec, workers, on_record)


ENGINES: dict[str, Engine] = {"local": run_local, "ray": _run_ray}


def get_engine(name: str) -> Engine:
    """The engine called ``name``; unknown names list the known ones."""
    try:
        engine = ENGINES[name]
    except KeyError:
        raise UnknownNameError("engine", name, ENGINES) from None
    if name == "ray" and importlib.util.find_spec("ray") is None:  # before any folder is made
        raise ConfigError(
            "the ray engine needs Ray, which is not installed",
            hint="pip install 'guardkit[ray]' (Ray Data), or use --engine local",
        )
    return engine
