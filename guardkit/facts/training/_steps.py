"""One optimiser step per batch, as both training loops take it: AdamW (weight decay 0.01),
gradients clipped to norm 1, the learning rate warmed up linearly and then decayed to zero."""

from __future__ import annotations

from typing import Any

__all__ = ["Steps"]


class Steps:
    """``steps(loss)`` takes one step on ``loss`` and returns its value."""

    def __init__(self, model: Any, lr: float, total: int, warmup: int) -> None:
        import torch

        self._parameters = list(model.parameters())
        self._optimizer = torch.optim.AdamW(self._parameters, lr=lr, weight_decay=0.01)
        self._schedule = torch.optim.lr_scheduler.LambdaLR(
            self._optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total)
        )
        self.taken = 0

    def __call__(self, loss: Any) -> float:
        import torch

        self._optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self._parameters, 1.0)
        self._optimizer.step()
        self._schedule.step()
        self.taken += 1
        return float(loss.item())
