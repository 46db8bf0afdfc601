"""A call's small numeric work on one thread: threads cost more than they save there.

A guarded call searches for a handful of claims: FAISS's OpenMP loop over 5 queries and BLAS
matmuls of 5 vectors against a few thousand pay for waking and joining threads, and two audit
workers make their threads fight over two cores. On 2 cores, auditing recorded responses
against a 100k-fact index ran 35 cases/s with the default pools and 48 with these at one thread
(``benchmarks/audit.py``). Big batches (index builds, benchmarks' thousands of queries) keep
every thread.

Pools come in two kinds. OpenMP's limit (FAISS, and an OpenBLAS built on OpenMP) belongs to
the thread that sets it, so each thread limits and restores its own. A pthreads OpenBLAS (numpy's)
has one pool for the process, so it is counted: the first thread in limits it, the last one out
restores it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

__all__ = ["SMALL_BATCH", "one_thread", "one_thread_if_small"]

SMALL_BATCH = 32
"""Queries or claims at most this many run on one thread."""

_local = threading.local()
_lock = threading.Lock()
_shared_inside = 0
_shared_saved: list[tuple[Any, int]] = []
_controller: Any = None


def _libraries() -> list[Any]:
    global _controller
    with _lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        return list(_controller.lib_controllers)


def _per_thread(lib: Any) -> bool:
    return bool(lib.internal_api == "openmp" or getattr(lib, "threading_layer", "") == "openmp")


def _set_shared(lib: Any, threads: int) -> None:
    lib.set_num_threads(threads)
    # threadpoolctl lets only the last thread that set OpenBLAS's shared pool set it again;
    # the next thread to come first must be able to
    clear = getattr(type(lib), "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


@contextmanager
def one_thread() -> Iterator[None]:
    """OpenMP and BLAS pools at one thread for this thread's work inside."""
    global _shared_inside
    depth = getattr(_local, "depth", 0)
    if depth == 0:
        libraries = _libraries()
        saved = [(lib, lib.num_threads) for lib in libraries if _per_thread(lib)]
        for lib, _ in saved:
            lib.set_num_threads(1)
        _local.saved = saved
        with _lock:
            if _shared_inside == 0:
                _shared_saved[:] = [
                    (lib, lib.num_threads) for lib in libraries if not _per_thread(lib)
                ]
                for lib, _ in _shared_saved:
                    _set_shared(lib, 1)
            _shared_inside += 1
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth -= 1
        if _local.depth == 0:
            for lib, threads in _local.saved:
                lib.set_num_threads(threads)
            with _lock:
                _shared_inside -= 1
                if _shared_inside == 0:
                    for lib, threads in _shared_saved:
                        _set_shared(lib, threads)
                    _shared_saved.clear()


def one_thread_if_small(n: int) -> AbstractContextManager[None]:
    """``one_thread()`` for a batch of at most ``SMALL_BATCH``, else nothing."""
    return one_thread() if n <= SMALL_BATCH else nullcontext()
