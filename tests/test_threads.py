"""Small numeric work runs on one thread, and the pools come back as they were."""

from __future__ import annotations

import faiss
import numpy as np  # noqa: F401  (loads the BLAS whose pool is limited)
from threadpoolctl import threadpool_info

from guardkit._threads import SMALL_BATCH, one_thread, one_thread_if_small


def _threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info()}


def test_pools_are_limited_inside_and_restored_after_overlapping_callers() -> None:
    faiss.omp_set_num_threads(2)
    before = _threads()
    first, second = one_thread(), one_thread()
    first.__enter__()
    assert _threads() == {1}
    second.__enter__()
    first.__exit__(None, None, None)  # the first out is not the last out: still limited
    assert _threads() == {1}
    second.__exit__(None, None, None)
    assert _threads() == before


def test_only_small_batches_are_limited() -> None:
    faiss.omp_set_num_threads(2)
    before = _threads()
    assert before != {1}
    with one_thread_if_small(SMALL_BATCH + 1):
        assert _threads() == before
    with one_thread_if_small(5):
        assert _threads() == {1}
    assert _threads() == before
