"""A polite kill (SIGTERM: what ``timeout``, ``kill`` and process managers send) unwinds like
Ctrl-C: ``finally`` blocks and context managers run, so a staging folder is removed and a
records file closed, instead of being left half-written by an abrupt exit."""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["exit_on_terminate"]


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_on_terminate() -> None:
    """Make SIGTERM raise ``SystemExit(143)`` in the main thread (a no-op elsewhere, where
    Python cannot install handlers)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit)
