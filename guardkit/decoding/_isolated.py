"""Compile in a worker process: the only way to bound an engine's time *and* memory.

outlines-core and xgrammar have no fuel limits: one schema can compile for minutes or grow a
DFA to tens of GB (a 1,050-schema benchmark run was OOM-killed at 22 GB when compiles ran in
threads). Each such engine gets one worker process per tokenizer, started once (the
tokenizer structure is built there once), with an address-space limit; a compile past the
deadline kills the worker, and a worker that dies (memory limit) becomes a typed error. The
compiled grammar comes back serialised. llguidance needs none of this: it has fuel limits.

The worker is a plain ``python -m guardkit.decoding._isolated`` talking over two pipes, not a
``multiprocessing`` child: those re-import the caller's ``__main__``, which breaks any script
without an ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import sys
import threading
import weakref
from multiprocessing.connection import Connection
from typing import Any

from guardkit.decoding._base import EngineError

__all__ = ["Worker"]

_START_TIMEOUT_S = 120.0


def _serve(conn: _Duplex) -> None:
    """Worker main: build the engine's state once, then answer ``(function, arg)`` requests."""
    path, module, setup, setup_arg, mem_bytes = conn.recv()
    sys.path[:] = path
    resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    mod = importlib.import_module(module)
    state = getattr(mod, setup)(setup_arg)
    conn.send(("ready",))
    while True:
        try:
            function, arg = conn.recv()
        except EOFError:  # the caller went away: so does the worker
            return
        try:
            conn.send(("ok", getattr(mod, function)(state, arg)))
        except EngineError as exc:
            conn.send(("error", exc.feature, exc.detail))
        except MemoryError:
            conn.send(("error", "memory", f"compile exceeded {mem_bytes >> 20} MiB"))
        except Exception as exc:  # any engine failure is a failure to compile this schema
            conn.send(("error", type(exc).__name__, str(exc).splitlines()[0][:200]))


class Worker:
    """One engine's worker process; ``call`` is serialised (one compile at a time)."""

    def __init__(
        self,
        engine: str,
        module: str,
        setup: str,
        setup_arg: Any,
        *,
        mem_bytes: int,
    ) -> None:
        self.engine = engine
        self._spec = (module, setup, setup_arg, mem_bytes)
        self._lock = threading.Lock()
        self._live: dict[str, Any] = {}  # "process", "conn": shared with the finalizer
        weakref.finalize(self, _stop, self._live)  # also at exit: no orphaned workers

    def close(self) -> None:
        """Stop the worker process (a later ``call`` starts a new one)."""
        with self._lock:
            _stop(self._live)

    def call(self, function: str, arg: Any, timeout_s: float) -> Any:
        """``function(state, arg)`` in the worker, or ``EngineError`` (time, memory, engine)."""
        with self._lock:
            conn = self._connection()
            conn.send((function, arg))
            if not conn.poll(timeout_s):
                _stop(self._live)
                raise EngineError(
                    self.engine, "compile-time", f"compile took longer than {timeout_s:g} s"
                )
            try:
                reply = conn.recv()
            except EOFError:
                _stop(self._live)
                mem = self._spec[3] >> 20
                raise EngineError(
                    self.engine, "memory", f"the compile worker died (limit {mem} MiB)"
                ) from None
        if reply[0] == "error":
            raise EngineError(self.engine, reply[1], reply[2])
        return reply[1]

    def _connection(self) -> _Duplex:
        process, conn = self._live.get("process"), self._live.get("conn")
        if process is not None and process.poll() is None and conn is not None:
            return conn  # type: ignore[no-any-return]
        _stop(self._live)
        child_read, parent_write = os.pipe()
        parent_read, child_write = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(child_read), str(child_write)],
            pass_fds=(child_read, child_write),
            stdin=subprocess.DEVNULL,
        )
        os.close(child_read)
        os.close(child_write)
        conn = _Duplex(parent_read, parent_write)
        started = {"process": process, "conn": conn}
        conn.send((list(sys.path), *self._spec))
        if not conn.poll(_START_TIMEOUT_S):
            _stop(started)
            raise EngineError(self.engine, "worker", "the compile worker did not start")
        try:
            conn.recv()
        except EOFError:
            _stop(started)
            raise EngineError(self.engine, "worker", "the compile worker failed to start") from None
        self._live.update(process=process, conn=conn)
        return conn


def _stop(live: dict[str, Any]) -> None:
    """Kill the worker and reap it; closing our pipe ends lets nothing linger."""
    process, conn = live.pop("process", None), live.pop("conn", None)
    if process is not None:
        process.kill()
        process.wait(5)
    if conn is not None:
        conn.close()


class _Duplex:
    """Two one-way pipe ends used as one connection (``Connection`` frames, pickled)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read = Connection(read_fd, writable=False)
        self._write = Connection(write_fd, readable=False)

    def send(self, value: Any) -> None:
        self._write.send(value)

    def recv(self) -> Any:
        return self._read.recv()

    def poll(self, timeout: float) -> bool:
        return self._read.poll(timeout)

    def close(self) -> None:
        self._read.close()
        self._write.close()


if __name__ == "__main__":
    _serve(_Duplex(int(sys.argv[1]), int(sys.argv[2])))
