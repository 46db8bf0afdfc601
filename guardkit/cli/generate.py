"""``guardkit generate``: one JSON document from a local model, valid against a schema file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from guardkit.errors import GuardkitError, UnknownNameError

if TYPE_CHECKING:
    from guardkit.generation import LocalModel

__all__ = ["generate"]


def _embedded() -> LocalModel:
    from guardkit.generation import LocalModel

    return LocalModel.embedded()


_MODELS: dict[str, Callable[[], LocalModel]] = {"local": _embedded}


def generate(
    schema: Annotated[Path, typer.Option("--schema", help="JSON Schema file to match.")],
    prompt: Annotated[str, typer.Option("--prompt", help="What to ask the model.")],
    model: Annotated[str, typer.Option("--model", help="local: the embedded SmolLM2.")] = "local",
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Token budget.")] = 512,
) -> None:
    """Print one JSON document valid against SCHEMA; exit 2 with a one-line error if none is."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from guardkit.decoding import load_schema_file, output_spec

        source = load_schema_file(schema)
        output_spec(source)  # a bad schema fails here, before any model loads
        if model not in _MODELS:
            raise UnknownNameError("model", model, _MODELS)
        _quiet_transformers()
        result = _MODELS[model]().generate(prompt, source, max_new_tokens=max_tokens)
    except GuardkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        from guardkit.decoding.chain import UNCONSTRAINED

        info = getattr(exc, "info", None)
        if info is not None and info.engine == UNCONSTRAINED:  # say why no grammar held it
            reasons = "; ".join(info.fallbacks) or "no engine compiled the schema"
            typer.echo(f"note: decoded without constraints: {reasons}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(result.text)


def _quiet_transformers() -> None:
    """Progress bars and advice from transformers would mix into a JSON-only command."""
    from transformers.utils import logging

    logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
