"""Local generation under the decoding chain: ``LocalModel`` and the embedded default model."""

from guardkit.generation.adapter import load_local_model
from guardkit.generation.local import (
    Completion,
    Generation,
    GenerationFailed,
    LocalModel,
    OutputTruncated,
)

__all__ = [
    "Completion",
    "Generation",
    "GenerationFailed",
    "LocalModel",
    "OutputTruncated",
    "load_local_model",
]
