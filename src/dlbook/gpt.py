"""A decoder-only transformer (GPT) in the shape of nanoGPT (chapters 8 and 9).

    GPTConfig(block_size, vocab_size, n_layer, n_head, n_embd, dropout=0.0, bias=True)
    GPT(config): ids (N, T) -> next-token scores (N, T, vocab_size)
    GPT.forward_with_cache(ids, cache=None) -> (scores of the new tokens, cache)
    GPT.generate(ids, max_new_tokens, temperature=0.0, top_k=None, use_cache=True,
                 generator=None) -> ids (N, T + max_new_tokens)
    GPT.num_parameters() -> int (tied weights counted once)
    GPT2_SMALL: GPT-2's 124M configuration

Each block is pre-norm: x + attention(layer_norm(x)), then x + mlp(layer_norm(x)).
Attention is causal, so position t sees positions 0..t only, and every position is
trained at once to predict the token that follows it. The output layer shares its
weight matrix with the token embedding (weight tying, as GPT-2): the score of token i is
the dot product of the last hidden state with token i's embedding.

Generation adds one token at a time. Because attention is causal, the keys and values
of a token never change once it is written: the KV cache keeps them, one (k, v) pair of
shape (N, heads, t, C / heads) per layer, so each step computes the newest token alone
and attends to the cache instead of running the model over the whole text again. The
scores are the same up to rounding (the same sums in another order), and so are the
greedy tokens; the cache costs 2 C numbers per token per layer.

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

    def forward_with_cache(self, x, past=None):
        """forward for T new tokens, x: (N, T, C), that follow `start` earlier tokens
        whose keys and values are in past = (k, v), each (N, heads, start, C / heads),
        or None (start = 0). Returns (output (N, T, C), (k, v) of all start + T)."""
        n, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)  # the new tokens only: each (N, T, C)
        heads = (n, t, self.n_head, c // self.n_head)
        q, k, v = (z.view(heads).transpose(1, 2) for z in (q, k, v))  # (N, heads, T, .)
        start = 0 if past is None else past[0].shape[2]  # tokens already cached
        if past is not None:  # their keys and values, computed once, in earlier calls
            k = torch.cat([past[0], k], dim=2)  # (N, heads, start + T, C / heads)
            v = torch.cat([past[1], v], dim=2)
        # new token i, at position start + i, sees keys 0 .. start + i: the causal
        # triangle shifted right by start (is_causal=True would put it at key 0, which
        # is right only without a cache). One new token sees every key: no mask.
        mask = None
        if t > 1:
            mask = torch.ones(t, start + t, dtype=torch.bool, device=x.device)
            mask = mask.tril(diagonal=start)  # (T, start + T), True where allowed
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )  # (N, heads, T, C / heads)
        y = y.transpose(1, 2).reshape(n, t, c)  # (N, T, C)
        return self.proj_dropout(self.proj(y)), (k, v)


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

    def forward_with_cache(self, x, past=None):  # forward, and the attention's (k, v)
        attended, present = self.attention.forward_with_cache(self.norm_1(x), past)
        x = x + attended
        return x + self.mlp(self.norm_2(x)), present


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

    def forward_with_cache(self, ids, cache=None):
        """The scores of T new tokens, ids: (N, T), that follow the `start` tokens held
        in cache (one (k, v) per layer, each (N, heads, start, C / heads)), or None.
        Returns (scores (N, T, vocab_size), the cache with the new tokens added). The
        scores equal forward(all start + T tokens)[:, start:], up to rounding."""
        checks.has_shape(ids, "ids", ("N", "T"))
        start = 0 if cache is None else cache[0][0].shape[2]  # tokens already cached
        if start + ids.shape[1] > self.config.block_size:
            raise ValueError(
                f"the cache holds {start} tokens and ids adds {ids.shape[1]}: more "
                f"than block_size = {self.config.block_size}"
            )
        # the new tokens come after the cached ones: positions start .. start + T - 1
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.token_embedding(ids) + self.position_embedding(positions)  # (N, T, C)
        x = self.dropout(x)
        new_cache = []
        for block, past in zip(self.blocks, cache or [None] * len(self.blocks)):
            x, present = block.forward_with_cache(x, past)  # (N, T, C)
            new_cache.append(present)  # (k, v), each (N, heads, start + T, C / heads)
        return self.head(self.final_norm(x)), new_cache

    @torch.no_grad()
    def generate(
        self,
        ids,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_k: int | None = None,
        use_cache: bool = True,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """ids (N, T) followed by max_new_tokens tokens, chosen one at a time from the
        scores at the last position: the highest (temperature 0, greedy), or drawn from
        softmax(scores / temperature) over the top_k scores (all if top_k is None).
        With use_cache the prompt is read once and each step feeds the newest token
        only; without, each step runs the model over the whole sequence again. Both give
        the same scores up to rounding. Returns ids (N, T + max_new_tokens).
        Dropout applies in training mode: call eval() first, as for any evaluation."""
        self._check(ids, max_new_tokens, temperature, top_k, use_cache, generator)
        cache = None
        for _ in range(max_new_tokens):
            if use_cache:
                new = ids if cache is None else ids[:, -1:]  # the prompt, then 1 token
                scores, cache = self.forward_with_cache(new, cache)
            else:
                scores = self(ids)  # every token again: (N, length so far, vocab_size)
            next_ids = _next_token(scores[:, -1], temperature, top_k, generator)
            ids = torch.cat([ids, next_ids], dim=1)  # (N, length so far + 1)
        return ids

    def _check(self, ids, max_new_tokens, temperature, top_k, use_cache, generator):
        """generate's arguments; each error names the argument and what it got."""
        checks.instance(ids, "ids", torch.Tensor)
        if ids.dtype != torch.long:
            raise TypeError(f"ids must hold token ids (torch.long), got {ids.dtype}")
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(
                f"ids must have shape (N, T), T >= 1, got {tuple(ids.shape)}"
            )
        vocab_size = self.config.vocab_size
        if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):
            raise ValueError(
                f"ids must lie in 0 .. vocab_size - 1 = {vocab_size - 1}, got values "
                f"in {ids.min().item()} .. {ids.max().item()}"
            )
        max_new_tokens = checks.integer(max_new_tokens, "max_new_tokens", minimum=0)
        if ids.shape[1] + max_new_tokens > self.config.block_size:
            raise ValueError(
                f"T + max_new_tokens must be <= block_size = {self.config.block_size}, "
                f"got {ids.shape[1]} + {max_new_tokens}"
            )
        checks.number(temperature, "temperature", minimum=0)
        if top_k is not None and checks.integer(top_k, "top_k", minimum=1) > vocab_size:
            raise ValueError(f"top_k must be <= vocab_size = {vocab_size}, got {top_k}")
        if generator is not None:
            checks.instance(generator, "generator", torch.Generator)
        checks.one_of(use_cache, "use_cache", (True, False))

    def num_parameters(self) -> int:
        """Every parameter once (the tied embedding and output weight count once)."""
        return sum(p.numel() for p in self.parameters())  # parameters() deduplicates


def _next_token(scores, temperature: float, top_k: int | None, generator):
    """One token per row of scores (N, vocab_size), as (N, 1): the highest score at
    temperature 0 (ties: the lowest id), else a draw from softmax(scores / temperature)
    kept to the top_k scores, which is dlbook.decoding's with_temperature and then
    keep_top_k applied to softmax(scores) (ties at the k-th score are all kept here)."""
    if top_k is not None:  # scores below the k-th highest can never be drawn
        kth = torch.topk(scores, top_k, dim=-1).values[:, -1:]  # (N, 1)
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if temperature == 0:
        return scores.argmax(dim=-1, keepdim=True)
    probs = F.softmax(scores / temperature, dim=-1)  # (N, vocab_size)
    return torch.multinomial(probs, 1, generator=generator)
