"""Warnings a command expects, shown as ``warning: ...`` lines on stderr."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import typer

__all__ = ["shown_as_lines"]


@contextmanager
def shown_as_lines(category: type[Warning]) -> Iterator[None]:
    """Each ``category`` warning raised inside as one ``warning: ...`` line on stderr, after the
    block (the work goes ahead: the warning says what was left out or judged as failed); other
    warnings pass through as Python shows them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        yield
    for w in caught:
        if issubclass(w.category, category):
            typer.echo(f"warning: {w.message}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
