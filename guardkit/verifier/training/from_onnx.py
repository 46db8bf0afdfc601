"""Trainable weights recovered from a shipped int8 ONNX verifier, so it can be fine-tuned.

A user adapting the verifier to a deployment has the shipped folder (``model.onnx``, int8),
not the fp32 checkpoint it was exported from. Its weights are all in the graph: int8 matrices
with per-channel scales and zero points, fp32 biases and layer norms. Dequantizing them gives
the model inference already runs (so fine-tuning starts where the shipped model stands, int8
rounding included) instead of the bare sentence encoder.

Matrices are named by the module whose ``MatMul`` consumes them (the exporter keeps the
module path in node names, ``/bert/encoder/layer.0/attention/self/key/MatMul``), or by their
own name where the quantizer kept it (``classifier.weight_Transposed``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from guardkit.errors import ModelError

__all__ = ["dequantized_state_dict"]

_QUANTIZED = "_quantized"
_MATMUL_NODE = re.compile(r"^/(?P<module>.+)/MatMul_output_0_output_quantized$")


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int) -> np.ndarray:
    """``(q - zero) * scale``, per tensor or per channel along ``axis``."""
    shape = [1] * q.ndim
    if scale.ndim == 1:
        shape[axis] = -1
    scale = scale.reshape(shape) if scale.ndim else scale
    zero = zero.reshape(shape).astype(np.float32) if zero.ndim else zero.astype(np.float32)
    out: np.ndarray = (q.astype(np.float32) - zero) * scale.astype(np.float32)
    return out


def dequantized_state_dict(model_file: Path) -> dict[str, torch.Tensor]:
    """The ``MeanPoolClassifier`` state dict (torch layout, fp32) held by an exported graph."""
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(model_file)).graph
    except Exception as exc:  # onnx raises DecodeError and friends, not one type
        raise ModelError(f"cannot read the ONNX graph: {exc}", file=str(model_file)) from exc
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consumer = {
        node.input[1]: node.output[0] for node in graph.node if node.op_type == "MatMulInteger"
    }
    state: dict[str, torch.Tensor] = {}
    for name, array in tensors.items():
        if name.endswith(_QUANTIZED):
            stem = name[: -len(_QUANTIZED)]
            scale, zero = tensors[f"{stem}_scale"], tensors[f"{stem}_zero_point"]
            if stem.endswith(".weight"):  # an embedding table, stored as [rows, dim]
                state[stem] = torch.from_numpy(_dequantize(array, scale, zero, axis=0))
                continue
            # A MatMul weight, stored as [in, out] with per-output-channel scales.
            weight = _dequantize(array, scale, zero, axis=1).T.copy()
            state[_matmul_module(stem, consumer.get(name, ""), model_file) + ".weight"] = (
                torch.from_numpy(weight)
            )
        elif name.endswith((".bias", ".weight")) and array.dtype == np.float32:
            state[name] = torch.from_numpy(array.copy())
    return state


def _matmul_module(stem: str, consumer_output: str, model_file: Path) -> str:
    if stem.endswith(".weight_Transposed"):
        return stem[: -len(".weight_Transposed")]
    found = _MATMUL_NODE.match(consumer_output)
    if found is None:
        raise ModelError(
            f"cannot tell which layer the quantized matrix {stem!r} belongs to "
            f"(its MatMul writes {consumer_output!r})",
            file=str(model_file),
        )
    return found["module"].replace("/", ".")
