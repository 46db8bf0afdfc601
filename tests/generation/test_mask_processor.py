"""The logits processor applies the chain's masks exactly (no model needed)."""

from __future__ import annotations

import torch

from guardkit.decoding import Choice, EngineChain, output_spec
from guardkit.generation._mask import MaskLogitsProcessor


def test_only_allowed_tokens_survive_and_the_walk_ends_in_a_choice(vocab):
    spec = output_spec(Choice(options=("red", "green", "blue")))
    grammar = EngineChain(["llguidance"]).compile(spec.constraint, vocab).grammar
    processor = MaskLogitsProcessor(grammar.matcher(), vocab.size, vocab.eos_ids[0])
    generator = torch.Generator().manual_seed(0)
    ids = torch.tensor([[1, 2, 3]])
    for _ in range(10):
        scores = processor(ids, torch.randn(1, vocab.size, generator=generator))
        token = int(scores.argmax())
        assert torch.isfinite(scores[0, token])
        if token == vocab.eos_ids[0]:
            break
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
    text = vocab.hf.decode(ids[0, 3:].tolist())
    assert spec.validate(text) == text


def test_masked_logits_are_minus_infinity(vocab):
    spec = output_spec(Choice(options=("yes",)))
    grammar = EngineChain(["llguidance"]).compile(spec.constraint, vocab).grammar
    processor = MaskLogitsProcessor(grammar.matcher(), vocab.size, vocab.eos_ids[0])
    scores = processor(torch.tensor([[1]]), torch.zeros(1, vocab.size))
    finite = torch.isfinite(scores[0]).nonzero().flatten().tolist()
    assert finite
    assert all("yes".startswith(vocab.hf.decode([t])) for t in finite)
