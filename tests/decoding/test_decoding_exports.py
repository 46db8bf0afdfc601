"""The decoding and generation packages export exactly ``__all__``, sorted."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["guardkit.decoding", "guardkit.generation"])
def test_all_is_sorted_and_complete(name):
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__)
    for member in module.__all__:
        assert hasattr(module, member)
