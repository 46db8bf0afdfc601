"""The GGUF's tokenizer lacks SmolLM2's per-digit pre-tokenizer; guardkit restores it."""

from __future__ import annotations

import json

import pytest

from guardkit.generation._embedded import fix_pre_tokenizer, gguf_path, load_tokenizer

# Whitespace before digits is where the two pre-tokenizers differ: GPT-2's regex alone
# splits "  1" as " " + " 1", SmolLM2's Digits-first split keeps "  " whole.
CASES = [
    ("a  1", ["a", "ĠĠ", "1"]),
    ('{"b":  3}', ['{"', "b", '":', "ĠĠ", "3", "}"]),
    ("\n\n1", ["ĊĊ", "1"]),
    ("x 12", ["x", "Ġ", "1", "2"]),
]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer()


@pytest.mark.parametrize(("text", "tokens"), CASES)
def test_digits_split_as_smollm2_does(tokenizer, text, tokens):
    assert tokenizer.tokenize(text) == tokens


def test_pre_tokenizer_is_digits_then_byte_level(tokenizer):
    pre = json.loads(tokenizer.backend_tokenizer.to_str())["pre_tokenizer"]
    assert [step["type"] for step in pre["pretokenizers"]] == ["Digits", "ByteLevel"]
    assert pre["pretokenizers"][0]["individual_digits"] is True
    assert fix_pre_tokenizer(tokenizer) is False  # already fixed: nothing to do


def test_chat_template_and_eos(tokenizer):
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>assistant\n")
    assert tokenizer.eos_token == "<|im_end|>"


def test_gguf_is_found_without_importing_the_plugin():
    path = gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
