"""The trainable cross-encoder: a BERT encoder, mean pooling over real tokens, a 3-way linear head.

Mean pooling (not [CLS]) because the base, all-MiniLM-L6-v2, was trained as a mean-pooled
sentence encoder: its [CLS] vector carries little, and a [CLS] head did not move in 300 steps
where a mean-pooled one was learning within 250.

A checkpoint folder holds ``config.json`` (the BERT config plus ``guardkit_pooling``),
``model.safetensors`` (encoder and head) and ``tokenizer.json``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from guardkit.errors import ModelError
from guardkit.verifier.types import LABELS

__all__ = [
    "MeanPoolClassifier",
    "keep_layers",
    "load_trainable",
    "only_onnx_weights",
    "save_checkpoint",
]


class MeanPoolClassifier(nn.Module):
    """Encoder -> masked mean of the last hidden states -> dropout -> linear to ``len(LABELS)``."""

    def __init__(self, encoder: Any, num_labels: int = len(LABELS)) -> None:
        super().__init__()
        self.bert = encoder
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> torch.Tensor:
        """Logits, shape ``(batch, num_labels)``."""
        out = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )
        hidden = out[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        logits: torch.Tensor = self.classifier(self.dropout(pooled))
        return logits


def _tokenizer_file(folder: Path) -> Path:
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelError("no tokenizer.json in the model folder", file=str(folder))
    return path


def load_trainable(folder: str | Path) -> tuple[MeanPoolClassifier, Path]:
    """A trainable model and its tokenizer file from a checkpoint or a plain BERT-like folder.

    Accepts a guardkit training output (``DIR`` or ``DIR/checkpoint``), a guardkit verifier
    model folder (its int8 weights dequantized: the shipped default can be adapted), or a
    Hugging Face encoder folder (e.g. all-MiniLM-L6-v2), which gets a fresh mean-pooled head.
    """
    from transformers import AutoConfig, AutoModel

    folder = Path(folder)
    if only_onnx_weights(folder):
        return _from_onnx_folder(folder)
    if (folder / "checkpoint" / "config.json").is_file():
        folder = folder / "checkpoint"
    if not (folder / "config.json").is_file():
        raise ModelError(
            "no trainable weights here (neither config.json nor model.onnx); pass a verifier "
            "model folder, a training output folder or a Hugging Face encoder folder",
            file=str(folder),
        )
    tok = _tokenizer_file(folder)
    config = AutoConfig.from_pretrained(str(folder))
    if getattr(config, "guardkit_pooling", None) == "mean":
        from safetensors.torch import load_file

        encoder = AutoModel.from_config(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
        model = MeanPoolClassifier(encoder)
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
        return model, tok
    encoder = AutoModel.from_pretrained(str(folder), add_pooling_layer=False)
    return MeanPoolClassifier(encoder), tok


def only_onnx_weights(folder: Path) -> bool:
    """A model folder without a training checkpoint: its weights are the int8 ONNX graph's."""
    has_torch = (folder / "config.json").is_file() or (folder / "checkpoint/config.json").is_file()
    return not has_torch and (folder / "model.onnx").is_file()


def _from_onnx_folder(folder: Path) -> tuple[MeanPoolClassifier, Path]:
    """A guardkit verifier folder's int8 weights, dequantized onto the all-MiniLM-L6-v2 shape."""
    from transformers import AutoConfig, AutoModel

    from guardkit._onnx import check_pinned_files
    from guardkit.verifier.manifest import MANIFEST_NAME, read_manifest
    from guardkit.verifier.training.from_onnx import dequantized_state_dict
    from guardkit.verifier.training.pipeline import default_base

    manifest = read_manifest(folder)
    check_pinned_files(folder, manifest.files, ("model.onnx", "tokenizer.json"), MANIFEST_NAME)
    if manifest.labels != list(LABELS) or manifest.training is None:
        raise ModelError(
            "only a verifier trained by guardkit (labels "
            f"{list(LABELS)}, mean-pooled head) can be fine-tuned from its ONNX file; "
            "pass the Hugging Face folder this model was exported from instead",
            file=str(folder / MANIFEST_NAME),
            loc=("labels",) if manifest.labels != list(LABELS) else ("training",),
        )
    state = dequantized_state_dict(folder / "model.onnx")
    config = AutoConfig.from_pretrained(str(default_base()))
    config.num_hidden_layers = _layer_count(state) or config.num_hidden_layers  # a student: fewer
    encoder = AutoModel.from_config(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
    model = MeanPoolClassifier(encoder)
    expected = {k for k in model.state_dict() if not k.endswith("position_ids")}
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ModelError(
            f"the ONNX graph does not hold an all-MiniLM-L6-v2 verifier "
            f"(missing {missing[:3]}, unexpected {extra[:3]})",
            file=str(folder / "model.onnx"),
        )
    try:
        model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a shape mismatch: another encoder size
        raise ModelError(
            f"the ONNX weights do not fit all-MiniLM-L6-v2: {exc}", file=str(folder / "model.onnx")
        ) from exc
    return model, _tokenizer_file(folder)


def _layer_count(state: dict[str, torch.Tensor]) -> int:
    """Encoder layers in a state dict (``bert.encoder.layer.N.``), 0 if it holds none."""
    found = {int(k.split(".")[3]) for k in state if k.startswith("bert.encoder.layer.")}
    return max(found) + 1 if found else 0


def keep_layers(model: MeanPoolClassifier, layers: Sequence[int]) -> MeanPoolClassifier:
    """``model`` cut to the encoder layers ``layers`` (in that order): a student's start."""
    stack = model.bert.encoder.layer
    if not layers or any(i < 0 or i >= len(stack) for i in layers):
        raise ValueError(f"layers {list(layers)} are not all in the model's 0..{len(stack) - 1}")
    if list(layers) != sorted(set(layers)):
        raise ValueError(f"layers must be increasing and distinct, got {list(layers)}")
    model.bert.encoder.layer = nn.ModuleList([stack[i] for i in layers])
    model.bert.config.num_hidden_layers = len(layers)
    return model


def save_checkpoint(model: MeanPoolClassifier, tokenizer_file: Path, out: Path) -> None:
    """Write a checkpoint folder that :func:`load_trainable` reads back."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = model.bert.config.to_dict()
    config["guardkit_pooling"] = "mean"
    config["id2label"] = dict(enumerate(LABELS))
    config["label2id"] = {v: k for k, v in enumerate(LABELS)}
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"))
    if tokenizer_file.resolve() != (out / "tokenizer.json").resolve():
        shutil.copyfile(tokenizer_file, out / "tokenizer.json")
