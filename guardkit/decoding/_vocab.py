"""A tokenizer as the engines see it: an id for cache keys, the EOS ids, each token's bytes.

Every engine builds its own tokenizer structure (llguidance's ``LLTokenizer``, xgrammar's
``TokenizerInfo``, outlines-core's ``Vocabulary``), each costing 0.1-1 s; ``Vocab.state``
builds each once per tokenizer and process, under a lock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from guardkit.errors import ConfigError

__all__ = ["Vocab"]

T = TypeVar("T")


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: which byte each printable stand-in means."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


class Vocab:
    """A Hugging Face fast tokenizer wrapped for the decoding engines."""

    def __init__(self, tokenizer: Any, vocab_size: int | None = None) -> None:
        if not hasattr(tokenizer, "backend_tokenizer"):
            raise ConfigError("constrained decoding needs a fast (Rust) Hugging Face tokenizer")
        self.hf = tokenizer
        self.size = int(vocab_size or len(tokenizer))
        eos = tokenizer.eos_token_id
        if eos is None:
            raise ConfigError("the tokenizer has no EOS token; constrained output cannot end")
        self.eos_ids: tuple[int, ...] = (int(eos),)
        digest = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode())
        digest.update(f"|{self.size}|{self.eos_ids}".encode())
        self.id = digest.hexdigest()[:16]
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}

    def state(self, engine: str, build: Callable[[Vocab], T]) -> T:
        """The engine's own tokenizer structure, built once."""
        with self._lock:
            if engine not in self._state:
                self._state[engine] = build(self)
            value: T = self._state[engine]
            return value

    @cached_property
    def token_bytes(self) -> dict[int, bytes]:
        """Each ordinary token's bytes; special tokens (chat markers, EOS) are left out."""
        special = set(self.hf.all_special_ids)
        decoder = _byte_decoder()
        out: dict[int, bytes] = {}
        for text, token in self.hf.get_vocab().items():
            if token in special or token >= self.size:
                continue
            try:
                out[token] = bytes(decoder[c] for c in text)
            except KeyError:  # not byte-level BPE: fall back to the token's text
                out[token] = self.hf.convert_tokens_to_string([text]).encode()
        return out

    def encode(self, text: str) -> list[int]:
        """Tokens of ``text`` without special tokens (how the benchmark forces instances)."""
        ids: list[int] = self.hf.encode(text, add_special_tokens=False)
        return ids
