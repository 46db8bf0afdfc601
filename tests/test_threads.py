"""Small numeric work runs on one thread, and every pool comes back as it was, whatever the
order in which threads come and go."""

from __future__ import annotations

import threading
from collections.abc import Callable

import faiss
import numpy as np  # noqa: F401  (loads the BLAS whose pool is limited)
from threadpoolctl import threadpool_info

from guardkit._threads import SMALL_BATCH, one_thread, one_thread_if_small


def _threads() -> dict[str, int]:
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}


def test_pools_are_limited_inside_and_restored_after() -> None:
    faiss.omp_set_num_threads(2)
    before = _threads()
    assert set(before.values()) != {1}
    with one_thread():
        with one_thread():  # nested: the outer exit restores
            assert set(_threads().values()) == {1}
        assert set(_threads().values()) == {1}
    assert _threads() == before


def test_only_small_batches_are_limited() -> None:
    faiss.omp_set_num_threads(2)
    before = _threads()
    with one_thread_if_small(SMALL_BATCH + 1):
        assert _threads() == before
    with one_thread_if_small(5):
        assert set(_threads().values()) == {1}
    assert _threads() == before


def test_overlapping_threads_leave_every_pool_as_it_was() -> None:
    faiss.omp_set_num_threads(2)
    before = _threads()
    seen: dict[str, dict[str, int]] = {}
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def worker(name: str, steps: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            faiss.omp_set_num_threads(2)  # a new thread's own OpenMP setting
            seen[f"{name} before"] = _threads()
            with one_thread():
                steps()
                seen[f"{name} inside"] = _threads()
            seen[f"{name} after"] = _threads()

        return threading.Thread(target=run)

    first = worker("a", lambda: (a_in.set(), b_in.wait(5)))
    second = worker("b", lambda: (b_in.set(), a_out.wait(5)))
    first.start()
    a_in.wait(5)
    second.start()
    first.join(5)
    a_out.set()  # b leaves last
    second.join(5)
    assert set(seen["a inside"].values()) == {1}
    assert all(
        n == 1 for path, n in seen["b inside"].items() if "gomp" in path or "openblaso" in path
    )
    # each thread's own (OpenMP) pools are back as that thread had them; the process-wide
    # BLAS pool waited for b, the last one out, and is back as the process had it
    shared = [path for path in before if "scipy_openblas" in path]
    for name in ("a", "b"):
        own_before = {p: n for p, n in seen[f"{name} before"].items() if p not in shared}
        own_after = {p: n for p, n in seen[f"{name} after"].items() if p not in shared}
        assert own_after == own_before, name
    assert all(seen["a after"][p] == 1 for p in shared)
    assert all(seen["b after"][p] == before[p] for p in shared)
    assert _threads() == before
