"""The process-wide embedded model, loaded on first use and then shared (thread-safe)."""

from __future__ import annotations

import threading

from guardkit.generation._embedded import converted_folder
from guardkit.generation.local import LocalModel

__all__ = ["embedded"]

_lock = threading.Lock()
_models: dict[str, LocalModel] = {}


def embedded() -> LocalModel:
    """SmolLM2-135M-Instruct from the cached safetensors folder (converted once)."""
    with _lock:
        if "embedded" not in _models:
            _models["embedded"] = LocalModel.from_pretrained(str(converted_folder()))
        return _models["embedded"]
