"""A bounded, thread-safe LRU of compiled grammars, with one compile per key at a time.

Keys are (chain steps, constraint sha256, tokenizer id). Two threads asking for the same
uncompiled key wait for one compile instead of running two ("single flight"); different
keys compile in parallel.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from guardkit.errors import ConfigError

__all__ = ["LRUCache"]

V = TypeVar("V")


class LRUCache(Generic[V]):
    """At most ``maxsize`` entries; the least recently used goes first."""

    def __init__(self, maxsize: int = 256) -> None:
        if maxsize < 1:
            raise ConfigError(f"cache size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def clear(self) -> None:
        """Forget every entry (counters are kept)."""
        with self._lock:
            self._data.clear()

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> tuple[V, bool]:
        """The cached value (and ``True``) or a freshly built one (and ``False``)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key], True
            key_lock = self._inflight.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._data:  # built by another thread while we waited
                    self._data.move_to_end(key)
                    self.hits += 1
                    return self._data[key], True
            try:
                value = build()
            finally:
                with self._lock:
                    self._inflight.pop(key, None)
            with self._lock:
                self.misses += 1
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
            return value, False
