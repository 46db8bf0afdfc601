"""Worker processes bound an engine's compile time and memory (they are killed, not waited on)."""

from __future__ import annotations

import time

import pytest

from guardkit.decoding import EngineError
from guardkit.decoding._isolated import Worker

# The worker imports this module by name (pytest puts its folder on sys.path; spawn keeps it).


def setup(arg):
    return arg


def echo(state, value):
    return (state, value)


def sleep(state, seconds):
    time.sleep(seconds)
    return "late"


def allocate(state, n_bytes):
    return len(bytearray(n_bytes))


def boom(state, _):
    raise ValueError("bad regex\nmore")


@pytest.fixture(scope="module")
def worker():
    worker = Worker("test-engine", __name__, "setup", "state", mem_bytes=1 << 30)
    yield worker
    worker.close()


def test_a_call_runs_in_the_worker(worker):
    assert worker.call("echo", 7, timeout_s=60) == ("state", 7)


def test_a_slow_compile_is_killed_at_the_deadline(worker):
    start = time.perf_counter()
    with pytest.raises(EngineError) as info:
        worker.call("sleep", 30, timeout_s=0.5)
    assert time.perf_counter() - start < 5
    assert (info.value.engine, info.value.feature) == ("test-engine", "compile-time")
    assert worker.call("echo", 1, timeout_s=60) == ("state", 1)  # a fresh worker took over


def test_memory_beyond_the_limit_is_a_typed_error(worker):
    with pytest.raises(EngineError) as info:
        worker.call("allocate", 4 << 30, timeout_s=60)
    assert info.value.feature == "memory"
    assert worker.call("allocate", 1 << 20, timeout_s=60) == 1 << 20


def test_engine_failures_come_back_typed(worker):
    with pytest.raises(EngineError) as info:
        worker.call("boom", None, timeout_s=60)
    assert (info.value.feature, info.value.detail) == ("ValueError", "bad regex")
