"""The chain's token masks as a transformers ``LogitsProcessor``.

transformers calls the processor once per new token with every token so far; the processor
advances its matcher by the last sampled token, asks for the next bitmask and sets every
disallowed logit to -inf. The packed bitmask is unpacked with one vectorised shift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from guardkit.decoding import Matcher
from guardkit.decoding._base import allocate_bitmask
from guardkit.errors import OutputError

__all__ = ["MaskLogitsProcessor"]

_SHIFTS = torch.arange(32, dtype=torch.int32)


class MaskLogitsProcessor(LogitsProcessor):
    """Constrains one sequence (batch size 1) with one matcher."""

    def __init__(self, matcher: Matcher, vocab_size: int, eos_id: int) -> None:
        self.matcher = matcher
        self.vocab_size = vocab_size
        self.eos_id = eos_id
        self.bitmask = allocate_bitmask(vocab_size)
        self.prompt_len: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        if self.prompt_len is None:
            self.prompt_len = int(input_ids.shape[1])
        elif not self.matcher.consume(int(input_ids[0, -1])):
            raise OutputError("the model produced a token its grammar had just forbidden")
        self.matcher.fill_bitmask(self.bitmask)
        allowed = self._unpack(scores.shape[-1])
        if not bool(allowed.any()):  # a matcher in an error state: end the output here
            allowed[self.eos_id] = True
        return scores.masked_fill(~allowed, float("-inf"))

    def _unpack(self, width: int) -> torch.Tensor:
        words = torch.from_numpy(self.bitmask.view(np.int32)).unsqueeze(1)
        bits = ((words >> _SHIFTS) & 1).bool().flatten()
        allowed = torch.zeros(width, dtype=torch.bool)
        n = min(width, self.vocab_size)
        allowed[:n] = bits[:n]
        return allowed
