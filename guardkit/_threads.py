"""A call's small numeric work on one thread: threads cost more than they save there.

A guarded call searches for a handful of claims: FAISS's OpenMP loop over 5 queries and BLAS
matmuls of 5 vectors against a few thousand pay for waking and joining threads, and two audit
workers make their threads fight over two cores. On 2 cores, auditing recorded responses
against a 100k-fact index ran 35 cases/s with the default pools and 48 with these at one thread
(``benchmarks/audit.py``). The limit is process-wide (OpenMP and BLAS have no per-thread
setting), so it is counted: the first caller in sets it, the last one out restores the pools.
Big batches (index builds, benchmarks' thousands of queries) keep every thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

__all__ = ["SMALL_BATCH", "one_thread", "one_thread_if_small"]

SMALL_BATCH = 32
"""Queries or claims at most this many run on one thread."""

_lock = threading.Lock()
_inside = 0
_restore: Any = None
_controller: Any = None


@contextmanager
def one_thread() -> Iterator[None]:
    """OpenMP and BLAS pools at one thread while any caller is inside."""
    global _inside, _restore, _controller
    with _lock:
        if _inside == 0:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _restore = _controller.limit(limits=1)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                _restore.restore_original_limits()
                _restore = None


def one_thread_if_small(n: int) -> AbstractContextManager[None]:
    """``one_thread()`` for a batch of at most ``SMALL_BATCH``, else nothing."""
    return one_thread() if n <= SMALL_BATCH else nullcontext()
