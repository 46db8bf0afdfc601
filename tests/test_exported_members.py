"""The public surface is exactly ``__all__``, sorted, and every name in it exists."""

from __future__ import annotations

import importlib
import types

import pytest

import guardkit

PUBLIC_MODULES = [
    "guardkit",
    "guardkit.errors",
    "guardkit.policy",
    "guardkit.reports",
    "guardkit.checks",
    "guardkit.guard",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.{member} is in __all__ but missing"


def test_names_outside_all_are_only_submodules() -> None:
    public = {n for n in dir(guardkit) if not n.startswith("_")}
    stray = {
        n
        for n in public - set(guardkit.__all__)
        if not isinstance(getattr(guardkit, n), types.ModuleType)
    }
    assert stray == set()


def test_every_error_has_a_distinct_code() -> None:
    errors = [
        getattr(guardkit.errors, n)
        for n in guardkit.errors.__all__
        if n.endswith(("Error", "Failed", "Timeout"))
    ]
    codes = [e.code for e in errors]
    assert len(codes) == len(set(codes))
    assert all(issubclass(e, guardkit.GuardkitError) for e in errors)
