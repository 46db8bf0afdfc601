from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def vocab():
    """The real SmolLM2 tokenizer (from the cached folder, or straight from the GGUF)."""
    from guardkit.decoding import Vocab
    from guardkit.generation._embedded import load_tokenizer

    return Vocab(load_tokenizer())
