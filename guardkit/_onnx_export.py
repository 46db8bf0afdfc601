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


def export_encoder(
    model: torch.nn.Module, example: tuple[torch.Tensor, ...], path: Path, output: str
) -> None:
    """fp32 ONNX with dynamic batch and sequence axes on the inputs, dynamic batch on ``output``."""
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
    """Fuse attention / layer norm for BERT-like encoders; False (and a plain copy) if it cannot."""
    try:
        from onnxruntime.transformers import optimizer

        if config is None or getattr(config, "model_type", "") != "bert":
            raise ValueError("not a BERT encoder")
        opt = optimizer.optimize_model(
            str(src),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        opt.save_model_to_file(str(dst))
        return True
    except Exception as exc:  # the optimizer is best effort; the plain graph is correct too
        log.warning("onnxruntime transformer optimizer skipped: %s", exc)
        shutil.copyfile(src, dst)
        return False
