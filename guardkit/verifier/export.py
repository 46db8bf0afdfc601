"""Export a torch sequence classifier to an ONNX model folder, optionally int8, parity measured.

``torch.onnx.export`` writes fp32 ONNX with dynamic batch and sequence axes; for BERT-like
encoders onnxruntime's transformer optimizer fuses attention and layer norms; then
``quantize_dynamic`` makes per-channel int8 weights. Parity (largest probability difference and
argmax agreement against torch on the same pairs) goes into the manifest. Works for guardkit
checkpoints (mean-pooled head) and for local Hugging Face ``*ForSequenceClassification`` folders.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from tokenizers import Tokenizer

from guardkit._files import sha256_file
from guardkit._onnx_export import export_encoder, fuse_encoder
from guardkit.errors import ModelError
from guardkit.verifier.manifest import (
    ExportParity,
    Manifest,
    TrainingInfo,
    default_label_map,
    write_manifest,
)
from guardkit.verifier.types import LABELS

__all__ = ["PARITY_PAIRS", "export_folder", "load_torch_classifier", "torch_probs"]

PARITY_PAIRS: list[tuple[str, str]] = [
    ("A man is playing a guitar on stage.", "A man is performing music."),
    ("A man is playing a guitar on stage.", "A woman is sleeping at home."),
    ("The Eiffel Tower is in Paris and was completed in 1889.", "The tower was finished in 1889."),
    ("The Eiffel Tower is in Paris and was completed in 1889.", "The tower was finished in 1925."),
    ("Revenue rose 12% in 2023 to $4.1 billion.", "Revenue fell in 2023."),
    ("The drug reduced blood pressure in mice.", "The drug was tested in humans."),
    ("Marie Curie won the Nobel Prize in Physics in 1903.", "Curie was a Nobel laureate."),
    ("Paris is the capital of France.", "Berlin is the capital of France."),
]


class _Logits(torch.nn.Module):
    """Wrap a Hugging Face classifier so it takes three tensors and returns logits."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        out = self.inner(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )
        logits: torch.Tensor = out.logits
        return logits


def load_torch_classifier(folder: Path) -> tuple[torch.nn.Module, list[str], Path, int]:
    """(module taking ids/mask/types, label names in output order, tokenizer file, max length)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from guardkit.verifier.training.model import load_trainable

    ck = folder / "checkpoint" if (folder / "checkpoint" / "config.json").is_file() else folder
    if not (ck / "config.json").is_file():
        raise ModelError(
            "no config.json: not a Hugging Face or guardkit checkpoint folder", file=str(folder)
        )
    if not (ck / "tokenizer.json").is_file():
        raise ModelError("missing tokenizer.json (a fast tokenizer file is required)", file=str(ck))
    config = AutoConfig.from_pretrained(str(ck))
    max_len = min(512, int(getattr(config, "max_position_embeddings", 512)))
    if getattr(config, "guardkit_pooling", None) == "mean":
        model, tok = load_trainable(ck)
        return model.eval(), list(LABELS), tok, 256
    hf = AutoModelForSequenceClassification.from_pretrained(str(ck)).eval()
    labels = [str(hf.config.id2label[i]) for i in range(hf.config.num_labels)]
    return _Logits(hf).eval(), labels, ck / "tokenizer.json", max_len


def _encode(tok: Tokenizer, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    encs = tok.encode_batch(list(pairs))
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int64)
    types, mask = np.zeros_like(ids), np.zeros_like(ids)
    for i, e in enumerate(encs):
        n = len(e.ids)
        ids[i, :n], types[i, :n], mask[i, :n] = e.ids, e.type_ids, 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def torch_probs(
    model: torch.nn.Module, tok: Tokenizer, pairs: Sequence[tuple[str, str]]
) -> np.ndarray:
    """Softmax of the torch model's logits on ``pairs`` (no windowing; short pairs only)."""
    feed = _encode(tok, pairs)
    with torch.inference_mode():
        logits = model(**{k: torch.from_numpy(v) for k, v in feed.items()})
    return _softmax(logits.double().numpy())


def _onnx_probs(path: Path, tok: Tokenizer, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    feed = {k: v for k, v in _encode(tok, pairs).items() if k in names}
    return _softmax(np.asarray(sess.run(None, feed)[0], dtype=np.float64))


def _parity(ref: np.ndarray, got: np.ndarray, compared: str) -> ExportParity:
    return ExportParity(
        n_pairs=len(ref),
        max_abs_diff=float(np.abs(ref - got).max()),
        argmax_agreement=float((ref.argmax(1) == got.argmax(1)).mean()),
        compared=compared,
    )


def _torch_export(model: torch.nn.Module, path: Path) -> None:
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102, 2009, 2003, 102]])
    export_encoder(
        model, (ids, torch.ones_like(ids), torch.tensor([[0] * 6 + [1] * 3])), path, "logits"
    )


def _encoder_config(model: torch.nn.Module) -> Any:
    """The transformer config of a guardkit classifier or a wrapped Hugging Face one."""
    inner: Any = getattr(model, "bert", None) or getattr(model, "inner", None)
    return getattr(inner, "config", None)


def export_folder(
    src: Path,
    out: Path,
    *,
    int8: bool = True,
    parity_pairs: Sequence[tuple[str, str]] = PARITY_PAIRS,
    training: TrainingInfo | None = None,
    name: str | None = None,
    max_length: int | None = None,
) -> Manifest:
    """Export ``src`` (guardkit checkpoint or HF classifier folder) into model folder ``out``.

    Everything is checked and built in a scratch folder first; ``out``'s model files are
    replaced only when the export succeeded (a failed export leaves a model there intact).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model, labels, tok_file, max_len = load_torch_classifier(src)
    label_map = default_label_map(labels)  # labels it cannot map fail before anything is written
    tok = Tokenizer.from_file(str(tok_file))
    tok.no_padding()
    tok.no_truncation()
    ref = torch_probs(model, tok, parity_pairs)
    parity = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        stage = Path(tmp)
        raw, fused = stage / "raw.onnx", stage / "fused.onnx"
        _torch_export(model, raw)
        fuse_encoder(raw, fused, _encoder_config(model))
        parity.append(
            _parity(ref, _onnx_probs(fused, tok, parity_pairs), "torch fp32 vs onnx fp32")
        )
        if int8:
            quantize_dynamic(
                str(fused),
                str(stage / "model.onnx"),
                weight_type=QuantType.QInt8,
                per_channel=True,  # per tensor: 88 % argmax agreement with fp32; per channel: 95 %
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
            got = _onnx_probs(stage / "model.onnx", tok, parity_pairs)
            parity.append(_parity(ref, got, "torch fp32 vs onnx int8"))
        else:
            shutil.copyfile(fused, stage / "model.onnx")
        tok.save(str(stage / "tokenizer.json"))
        files = {n: sha256_file(stage / n) for n in ("model.onnx", "tokenizer.json")}
        manifest = Manifest(
            name=name or out.name,
            labels=labels,
            label_map=label_map,
            max_length=max_length or max_len,
            files=files,
            quantized=int8,
            training=training,
            parity=parity,
        )
        write_manifest(stage, manifest)
        out.mkdir(parents=True, exist_ok=True)
        (out / "manifest.json").unlink(missing_ok=True)  # no manifest over half-moved files
        for file in ("model.onnx", "tokenizer.json", "manifest.json"):
            (stage / file).replace(out / file)
    return manifest
