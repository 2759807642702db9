"""The transformer: its parts in NumPy, and a small translator built from torch's
equal layers (chapter 7).

    positional_encoding(n, d, base=10000) -> (n, d) table P with
        P[i, 2j] = sin(i / base^(2j/d)),  P[i, 2j+1] = cos(i / base^(2j/d))
    layer_norm(x, weight, bias, eps=1e-5) = (x - mean) / sqrt(var + eps) * weight + bias
        (mean and biased variance over the last axis), as torch.nn.LayerNorm
    feed_forward(x, w1, b1, w2, b2) = relu(x w1^T + b1) w2^T + b2
    encoder_layer(x, params, num_heads, norm_first=False, mask=None)
    decoder_layer(x, memory, params, num_heads, norm_first=False,
                  self_mask=None, memory_mask=None)
    TransformerTranslator(n_tokens, d_model=32, heads=4, width=64, max_length=32,
                          embed_scale=1.0)
        one pre-norm encoder block and one decoder block (torch's layers) on
        embed_scale * embedding + P, for the translation tasks of dlbook.data

The blocks equal torch.nn.TransformerEncoderLayer and TransformerDecoderLayer in eval
mode (no dropout) with activation="relu". ``params`` maps torch's state_dict names
("self_attn.in_proj_weight", "linear1.weight", "norm1.bias", ...) to arrays, so a
torch layer's weights copy over with
``{k: v.numpy() for k, v in layer.state_dict().items()}``.

    post-norm (norm_first=False, the 2017 paper's order):
        x = norm1(x + self_attention(x))
        x = norm2(x + cross_attention(x, memory))       (decoder only)
        x = norm_last(x + feed_forward(x))
    pre-norm (norm_first=True, what most language models use):
        x = x + self_attention(norm1(x))
        x = x + cross_attention(norm2(x), memory)       (decoder only)
        x = x + feed_forward(norm_last(x))

norm_last is norm2 in the encoder and norm3 in the decoder. Masks are True where
attention is allowed, as in dlbook.attention (torch's layers take the negation).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from dlbook import checks, data
from dlbook.attention import multi_head_attention

__all__ = [
    "positional_encoding",
    "layer_norm",
    "feed_forward",
    "encoder_layer",
    "decoder_layer",
    "TransformerTranslator",
]


def positional_encoding(n: int, d: int, base: float = 10000) -> np.ndarray:
    """The (n, d) sinusoidal table of "Attention Is All You Need" (arXiv 1706.03762).

    Pair j of columns (2j, 2j+1) is a sine and a cosine of frequency base^(-2j/d), so
    the table's rows are points turning at d/2 speeds, from 1 radian per position (j=0)
    down to almost 1/base.
    """
    n = checks.integer(n, "n", minimum=0)
    d = checks.integer(d, "d", minimum=2)
    if d % 2:
        raise ValueError(f"d must be even (a sine and a cosine per frequency), got {d}")
    base = checks.positive(base, "base")
    positions = np.arange(n)[:, None]  # (n, 1)
    frequencies = base ** (-np.arange(0, d, 2) / d)  # (d/2,)
    angles = positions * frequencies  # (n, d/2)
    table = np.empty((n, d))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return table


def layer_norm(x, weight, bias, eps: float = 1e-5) -> np.ndarray:
    """Normalise each row of x (..., E) to mean 0 and variance 1, then scale and shift;
    torch.nn.LayerNorm(E) with its weight (E,) and bias (E,)."""
    x = checks.array(x, "x", shape=(..., "E"))
    E = x.shape[-1]
    weight = checks.array(weight, "weight", shape=(E,))
    bias = checks.array(bias, "bias", shape=(E,))
    eps = checks.positive(eps, "eps")
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)  # biased (divide by E), as torch
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def feed_forward(x, w1, b1, w2, b2) -> np.ndarray:
    """The network applied to each position alone: relu(x w1^T + b1) w2^T + b2.

    x: (..., E); w1: (F, E), b1: (F,); w2: (E, F), b2: (E,); F is usually 4E.
    """
    x = checks.array(x, "x", shape=(..., "E"))
    E = x.shape[-1]
    w1 = checks.array(w1, "w1", shape=("F", E))
    F = w1.shape[0]
    b1 = checks.array(b1, "b1", shape=(F,))
    w2 = checks.array(w2, "w2", shape=(E, F))
    b2 = checks.array(b2, "b2", shape=(E,))
    hidden = np.maximum(x @ w1.T + b1, 0.0)  # (..., F)
    return hidden @ w2.T + b2  # (..., E)


def _attention(params, prefix, query, key_value, num_heads, mask):
    output, _ = multi_head_attention(
        query,
        key_value,
        key_value,
        num_heads,
        params[f"{prefix}.in_proj_weight"],
        params[f"{prefix}.in_proj_bias"],
        params[f"{prefix}.out_proj.weight"],
        params[f"{prefix}.out_proj.bias"],
        mask=mask,
    )
    return output


def _self(params, x, num_heads, mask):
    return _attention(params, "self_attn", x, x, num_heads, mask)


def _norm(params, name, x, eps):
    return layer_norm(x, params[f"{name}.weight"], params[f"{name}.bias"], eps)


def _ff(params, x):
    p = params
    return feed_forward(
        x,
        p["linear1.weight"],
        p["linear1.bias"],
        p["linear2.weight"],
        p["linear2.bias"],
    )


def _checked_params(params, names) -> dict:
    params = checks.instance(params, "params", Mapping)
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(
            f"params lacks {missing} (torch's state_dict names are expected)"
        )
    return {n: np.asarray(params[n], dtype=float) for n in names}


def _names(attention_blocks, norms):
    names = []
    for block in attention_blocks:
        names += [f"{block}.in_proj_weight", f"{block}.in_proj_bias"]
        names += [f"{block}.out_proj.weight", f"{block}.out_proj.bias"]
    for layer in ("linear1", "linear2", *norms):
        names += [f"{layer}.weight", f"{layer}.bias"]
    return names


def encoder_layer(
    x, params, num_heads: int, norm_first: bool = False, mask=None, eps: float = 1e-5
) -> np.ndarray:
    """One encoder block on a sequence x (n, E); torch.nn.TransformerEncoderLayer.

    mask: (n, n) boolean, True where position i may attend to position j.
    """
    x = checks.array(x, "x", shape=("n", "E"))
    p = _checked_params(params, _names(["self_attn"], ["norm1", "norm2"]))
    if norm_first:
        x = x + _self(p, _norm(p, "norm1", x, eps), num_heads, mask)
        return x + _ff(p, _norm(p, "norm2", x, eps))
    x = _norm(p, "norm1", x + _self(p, x, num_heads, mask), eps)
    return _norm(p, "norm2", x + _ff(p, x), eps)


def decoder_layer(
    x,
    memory,
    params,
    num_heads: int,
    norm_first: bool = False,
    self_mask=None,
    memory_mask=None,
    eps: float = 1e-5,
) -> np.ndarray:
    """One decoder block; torch.nn.TransformerDecoderLayer.

    x: (L, E), the target so far; memory: (S, E), the encoder's output.
    self_mask: (L, L), usually dlbook.attention.causal_mask(L); memory_mask: (L, S).
    Both True where attention is allowed.
    """
    x = checks.array(x, "x", shape=("L", "E"))
    memory = checks.array(memory, "memory", shape=("S", x.shape[1]))
    p = _checked_params(
        params, _names(["self_attn", "multihead_attn"], ["norm1", "norm2", "norm3"])
    )

    def cross(y):
        return _attention(p, "multihead_attn", y, memory, num_heads, memory_mask)

    if norm_first:
        x = x + _self(p, _norm(p, "norm1", x, eps), num_heads, self_mask)
        x = x + cross(_norm(p, "norm2", x, eps))
        return x + _ff(p, _norm(p, "norm3", x, eps))
    x = _norm(p, "norm1", x + _self(p, x, num_heads, self_mask), eps)
    x = _norm(p, "norm2", x + cross(x), eps)
    return _norm(p, "norm3", x + _ff(p, x), eps)


class TransformerTranslator(nn.Module):
    """An encoder-decoder transformer for dlbook.data's translation tasks: one pre-norm
    encoder block and one decoder block (the layers above, as torch writes them).

    Ids as in dlbook.data.encode_translation_pairs (PAD 0, BOS 1, EOS 2), both languages
    numbered within n_tokens. A token enters as embed_scale * embedding + its row of
    positional_encoding(max_length, d_model). Float64, as dlbook.seq2seq's models, and
    trained by dlbook.seq2seq.train_translator.
    """

    def __init__(
        self,
        n_tokens: int,
        d_model=32,
        heads=4,
        width=64,
        max_length=32,
        embed_scale=1.0,
    ):
        super().__init__()
        n_tokens = checks.integer(n_tokens, "n_tokens", minimum=4)
        d_model = checks.integer(d_model, "d_model", minimum=2)
        heads = checks.divisor(heads, "heads", d_model, "d_model")
        self.embed_scale = checks.positive(embed_scale, "embed_scale")
        f64 = {"dtype": torch.float64}
        self.source_embed = nn.Embedding(n_tokens, d_model, **f64)
        self.target_embed = nn.Embedding(n_tokens, d_model, **f64)
        positions = torch.tensor(positional_encoding(max_length, d_model))
        self.register_buffer("positions", positions)  # (max_length, d_model), fixed
        block = {"dropout": 0.0, "batch_first": True, "norm_first": True, **f64}
        self.encoder = nn.TransformerEncoderLayer(d_model, heads, width, **block)
        self.decoder = nn.TransformerDecoderLayer(d_model, heads, width, **block)
        self.encoder_norm = nn.LayerNorm(d_model, **f64)  # pre-norm's last layer norms
        self.final_norm = nn.LayerNorm(d_model, **f64)
        self.readout = nn.Linear(d_model, n_tokens, **f64)

    def embed(self, table, ids):  # token embedding + position: (N, T, d_model)
        if ids.shape[1] > len(self.positions):
            raise ValueError(
                f"sequences may hold at most max_length = {len(self.positions)} "
                f"tokens, got {ids.shape[1]}"
            )
        return self.embed_scale * table(ids) + self.positions[: ids.shape[1]]

    def encode(self, source):
        states = self.encoder(
            self.embed(self.source_embed, source),
            src_key_padding_mask=source == data.PAD,  # torch: True, padding
        )
        return self.encoder_norm(states)  # the memory the decoder reads

    def decode(self, target_in, memory, source):
        T = target_in.shape[1]
        future = ~torch.tril(torch.ones(T, T, dtype=torch.bool))  # torch: True, blocked
        states = self.decoder(
            self.embed(self.target_embed, target_in),
            memory,
            tgt_mask=future,
            memory_key_padding_mask=source == data.PAD,
        )
        return self.readout(self.final_norm(states))  # (N, T, n_tokens)

    def forward(self, source, target_in):  # teacher forcing, as for the RNNs
        return self.decode(target_in, self.encode(source), source)

    @torch.no_grad()
    def translate(self, source, max_words):  # greedy, one token at a time
        memory = self.encode(source)
        words = torch.full((len(source), 1), data.BOS)
        for _ in range(max_words + 1):
            scores = self.decode(words, memory, source)[:, -1]  # the last position
            words = torch.cat([words, scores.argmax(dim=-1, keepdim=True)], dim=1)
        return words[:, 1:], None

    @torch.no_grad()
    def attention_weights(self, source, target_in):
        """(encoder self-attention (N, heads, S, S), decoder cross-attention
        (N, heads, T, S)): the weights of every head in the pass forward(source,
        target_in) makes; row t of a head sums to 1 over the source positions."""
        padding = source == data.PAD  # (N, S)
        x = self.embed(self.source_embed, source)
        h = self.encoder.norm1(x)  # pre-norm: attention reads the normalised input
        _, self_weights = self.encoder.self_attn(
            h, h, h, key_padding_mask=padding, average_attn_weights=False
        )
        memory = self.encode(source)
        y = self.embed(self.target_embed, target_in)
        T = y.shape[1]
        future = ~torch.tril(torch.ones(T, T, dtype=torch.bool))
        h = self.decoder.norm1(y)
        y = y + self.decoder.self_attn(h, h, h, attn_mask=future, need_weights=False)[0]
        h = self.decoder.norm2(y)  # the queries of the cross-attention
        _, cross_weights = self.decoder.multihead_attn(
            h, memory, memory, key_padding_mask=padding, average_attn_weights=False
        )
        return self_weights, cross_weights
