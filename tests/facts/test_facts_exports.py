from __future__ import annotations

import guardkit.facts


def test_facts_all_is_sorted_and_complete() -> None:
    exported = guardkit.facts.__all__
    assert exported == sorted(exported)
    assert all(hasattr(guardkit.facts, name) for name in exported)
