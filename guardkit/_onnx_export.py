"""Export a torch encoder taking (ids, mask, types) to ONNX, then fuse it for onnxruntime.

Shared by the verifier export (a classifier's logits) and the embedder export (pooled vectors).
Needs the ``onnx`` and ``onnxscript`` packages (the ``dev`` extra).
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

__all__ = ["INPUT_NAMES", "export_encoder", "fuse_encoder"]

log = logging.getLogger("guardkit.onnx")

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def _eager_attention(model: torch.nn.Module) -> None:
    """Trace attention as plain MatMul / Softmax: PyTorch's SDPA exports with IsNaN / Where
    masking that onnxruntime runs slower (see ``fuse_encoder``)."""
    for module in model.modules():
        setter = getattr(module, "set_attn_implementation", None)
        if callable(setter):
            setter("eager")


def export_encoder(
    model: torch.nn.Module, example: tuple[torch.Tensor, ...], path: Path, output: str
) -> None:
    """fp32 ONNX with dynamic batch and sequence axes on the inputs, dynamic batch on ``output``."""
    _eager_attention(model)
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about data-dependent shapes
        torch.onnx.export(
            model,
            example,
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=[output],
            dynamic_axes={name: axes for name in INPUT_NAMES} | {output: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def fuse_encoder(src: Path, dst: Path, config: Any) -> bool:
    """Fuse embeddings, layer norms and GELU for BERT-like encoders; False (and a plain copy)
    if it cannot.

    Two fusions stay off because they are slower on CPU with int8 weights (one thread, 128
    tokens, MiniLM-L6): the fused ``Attention`` op quantizes to ``QAttention`` with per-tensor
    weights (argmax agreement with torch fell from 8/8 to 6/8 on the parity pairs), and
    ``SkipLayerNormalization`` took 19 % of a one-thread run, where the unfused ``Add`` and
    ``LayerNormalization`` (and the few skip norms onnxruntime still fuses) take 8 %. Without
    both: 71 pairs/s against 58 (``benchmarks/onnx_profile.py``).
    """
    try:
        from onnxruntime.transformers import optimizer
        from onnxruntime.transformers.fusion_options import FusionOptions

        if config is None or getattr(config, "model_type", "") != "bert":
            raise ValueError("not a BERT encoder")
        options = FusionOptions("bert")
        options.enable_attention = False
        options.enable_skip_layer_norm = False
        opt = optimizer.optimize_model(
            str(src),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
            optimization_options=options,
        )
        opt.save_model_to_file(str(dst))
        return True
    except Exception as exc:  # the optimizer is best effort; the plain graph is correct too
        log.warning("onnxruntime transformer optimizer skipped: %s", exc)
        shutil.copyfile(src, dst)
        return False
