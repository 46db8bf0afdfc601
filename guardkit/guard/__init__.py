"""The guard: one pipeline behind ``@guard`` and ``wrap``."""

from guardkit.guard.decorator import guard
from guardkit.guard.pipeline import GuardResult
from guardkit.guard.responses import ModelResponse

__all__ = ["GuardResult", "ModelResponse", "guard"]
