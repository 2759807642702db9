"""A character-level language model: an embedding, a GRU and a linear read-out
(chapters 5 and 8).

    CharGRU(n_chars, width=16, hidden=64, dtype=None)
    model(ids) -> scores (N, T, n_chars) for the next character at every position
    model.forward_with_state(ids, state=None) -> (scores, state), to go on reading

Chapter 5 trains it with its own loop and samples from it one character at a time,
carrying the GRU's state; chapter 8 compares it with a GPT trained the same way
(``dlbook.lm_training``), which needs only the scores.
"""

from __future__ import annotations

import torch
from torch import nn

from dlbook import checks

__all__ = ["CharGRU"]


class CharGRU(nn.Module):
    """ids (N, T) -> scores (N, T, n_chars): each character is embedded in ``width``
    numbers, a GRU with ``hidden`` units reads them, and a linear layer scores every
    possible next character. dtype: the parameters' (None: torch's default)."""

    def __init__(self, n_chars: int, width: int = 16, hidden: int = 64, dtype=None):
        super().__init__()
        n_chars = checks.integer(n_chars, "n_chars", minimum=1)
        width = checks.integer(width, "width", minimum=1)
        hidden = checks.integer(hidden, "hidden", minimum=1)
        self.embed = nn.Embedding(n_chars, width, dtype=dtype)
        self.gru = nn.GRU(width, hidden, batch_first=True, dtype=dtype)
        self.readout = nn.Linear(hidden, n_chars, dtype=dtype)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.forward_with_state(ids)[0]

    def forward_with_state(self, ids: torch.Tensor, state=None):
        """Scores (N, T, n_chars) and the GRU's last state (1, N, hidden), read from
        ``state`` (None: zeros), so that the next call can go on from there."""
        states, state = self.gru(self.embed(ids), state)  # (N, T, hidden)
        return self.readout(states), state
