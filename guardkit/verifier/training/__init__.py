"""Training guardkit's verifier: data readers, the recipe, the loop, calibration.

Reproduce the shipped model with ``python -m guardkit.verifier.training --out DIR``.
"""

from guardkit.verifier.training.loop import TrainConfig
from guardkit.verifier.training.pipeline import run

__all__ = ["TrainConfig", "run"]
