"""The compiled-grammar cache: bounded LRU, one compile per key under threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from guardkit.decoding import Constraint, EngineChain
from guardkit.decoding._cache import LRUCache
from guardkit.errors import ConfigError


def test_lru_evicts_the_least_recently_used():
    cache: LRUCache[int] = LRUCache(2)
    cache.get_or_build("a", lambda: 1)
    cache.get_or_build("b", lambda: 2)
    assert cache.get_or_build("a", lambda: 0) == (1, True)  # a is now the most recent
    cache.get_or_build("c", lambda: 3)
    assert len(cache) == 2
    assert cache.get_or_build("b", lambda: 20) == (20, False)  # b was evicted


def test_one_build_per_key_under_threads():
    cache: LRUCache[int] = LRUCache(8)
    builds = []
    lock = threading.Lock()

    def build() -> int:
        with lock:
            builds.append(1)
        time.sleep(0.05)
        return 42

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cache.get_or_build("k", build), range(16)))
    assert len(builds) == 1
    assert all(value == 42 for value, _ in results)
    assert sum(hit for _, hit in results) == 15


def test_a_failed_build_is_not_cached_and_can_be_retried():
    cache: LRUCache[int] = LRUCache(2)

    def fail() -> int:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_build("k", fail)
    assert cache.get_or_build("k", lambda: 1) == (1, False)


def test_cache_size_must_be_positive():
    with pytest.raises(ConfigError):
        LRUCache(0)


def test_chain_cache_is_keyed_by_schema_and_tokenizer(vocab):
    chain = EngineChain(["llguidance"], cache_size=4)
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    constraint = Constraint.json_schema(schema)

    with ThreadPoolExecutor(4) as pool:
        infos = list(pool.map(lambda _: chain.compile(constraint, vocab).info, range(12)))
    assert sum(not info.cache_hit for info in infos) == 1
    assert chain.cache.misses == 1
    other = Constraint.json_schema({"type": "object", "properties": {"b": {"type": "integer"}}})
    assert not chain.compile(other, vocab).info.cache_hit
    assert len(chain.cache) == 2


def test_matchers_from_one_cached_grammar_are_independent(vocab):
    chain = EngineChain(["llguidance"])
    grammar = chain.compile(Constraint.regex("(ab|cd)"), vocab).grammar
    first, second = grammar.matcher(), grammar.matcher()
    assert first.consume(vocab.encode("ab")[0])
    assert second.consume(vocab.encode("cd")[0])
