"""Policies: what a reliable answer is, and what to do when an answer is not."""

from guardkit.policy.loader import load_policy
from guardkit.policy.model import (
    ActionSpec,
    FilterAction,
    FixAction,
    FlagAction,
    ModelPrice,
    OutputSpec,
    Policy,
    RaiseAction,
    ReaskAction,
    RefrainAction,
)

__all__ = [
    "ActionSpec",
    "FilterAction",
    "FixAction",
    "FlagAction",
    "ModelPrice",
    "OutputSpec",
    "Policy",
    "RaiseAction",
    "ReaskAction",
    "RefrainAction",
    "load_policy",
]
