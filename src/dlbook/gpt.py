"""A decoder-only transformer (GPT) in the shape of nanoGPT (chapters 8 and 9).

    GPTConfig(block_size, vocab_size, n_layer, n_head, n_embd, dropout=0.0, bias=True)
    GPT(config): ids (N, T) -> next-token scores (N, T, vocab_size)
    GPT.num_parameters() -> int (tied weights counted once)
    GPT2_SMALL: GPT-2's 124M configuration

Each block is pre-norm: x + attention(layer_norm(x)), then x + mlp(layer_norm(x)).
Attention is causal, so position t sees positions 0..t only, and every position is
trained at once to predict the token that follows it. The output layer shares its
weight matrix with the token embedding (weight tying, as GPT-2): the score of token i is
the dot product of the last hidden state with token i's embedding.

No training code here: dlbook.training trains it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dlbook import checks

__all__ = ["GPTConfig", "GPT", "GPT2_SMALL"]


@dataclass(frozen=True)
class GPTConfig:
    block_size: int  # the longest context, in tokens
    vocab_size: int
    n_layer: int
    n_head: int
    n_embd: int  # the width of every token's vector
    dropout: float = 0.0
    bias: bool = True  # biases in the linear layers and layer norms

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            checks.integer(getattr(self, name), name, minimum=1)
        checks.in_range(self.dropout, "dropout", 0.0, 1.0)
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd must be a multiple of n_head = {self.n_head}, "
                f"got {self.n_embd}"
            )


GPT2_SMALL = GPTConfig(
    block_size=1024, vocab_size=50257, n_layer=12, n_head=12, n_embd=768
)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        # queries, keys and values of all heads from one matrix product
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.proj_dropout = nn.Dropout(config.dropout)

    def forward(self, x):  # x: (N, T, C)
        n, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)  # each (N, T, C)
        # split C into heads: (N, T, C) -> (N, heads, T, C / heads)
        heads = (n, t, self.n_head, c // self.n_head)
        q, k, v = (z.view(heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )  # (N, heads, T, C / heads): softmax(q k^T / sqrt(C / heads) + mask) v
        y = y.transpose(1, 2).reshape(n, t, c)  # heads side by side again: (N, T, C)
        return self.proj_dropout(self.proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.up = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.down = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):  # (N, T, C) -> (N, T, 4C) -> (N, T, C), each position alone
        return self.dropout(self.down(F.gelu(self.up(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.norm_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attention = CausalSelfAttention(config)
        self.norm_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):  # (N, T, C) -> (N, T, C)
        x = x + self.attention(self.norm_1(x))  # tokens exchange information
        return x + self.mlp(self.norm_2(x))  # each token computes on its own


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = checks.instance(config, "config", GPTConfig)
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.final_norm = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.token_embedding.weight  # weight tying
        self.apply(self._init_weights)
        # GPT-2: each residual branch's last layer starts smaller, by 1/sqrt(2 layers),
        # so the residual stream's variance does not grow with depth at the start
        for name, p in self.named_parameters():
            if name.endswith(("attention.proj.weight", "mlp.down.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, ids):  # ids: (N, T) token ids, T <= block_size
        checks.instance(ids, "ids", torch.Tensor)
        if ids.ndim != 2 or ids.shape[1] > self.config.block_size:
            raise ValueError(
                f"ids must have shape (N, T) with T <= block_size = "
                f"{self.config.block_size}, got {tuple(ids.shape)}"
            )
        positions = torch.arange(ids.shape[1], device=ids.device)  # (T,)
        x = self.token_embedding(ids) + self.position_embedding(positions)  # (N, T, C)
        x = self.dropout(x)
        for block in self.blocks:
            x = block(x)  # (N, T, C)
        return self.head(self.final_norm(x))  # (N, T, vocab_size)

    def num_parameters(self) -> int:
        """Every parameter once (the tied embedding and output weight count once)."""
        return sum(p.numel() for p in self.parameters())  # parameters() deduplicates
