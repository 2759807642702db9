"""Attention from scratch in NumPy (chapters 6 and 7): a soft look-up of values,
matching a query to keys.

    cosine_attention(query, keys, values, use_softmax=False) -> (weights, output)
    scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)
    causal_mask(n) -> (n, n) boolean, True where key index <= query index
    multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None) -> (output, weights)

Masks are True where attention is allowed. PyTorch's boolean masks differ:
``torch.nn.functional.scaled_dot_product_attention`` also takes True as allowed, but
``torch.nn.MultiheadAttention``'s ``attn_mask`` takes True as *forbidden*, the negation
of ours. A query whose mask allows no key at all has no meaningful output (torch 2.13's
scaled_dot_product_attention returns zeros there, MultiheadAttention NaN); these
functions raise a ValueError that names the row instead. The softmax that turns scores
into weights is ``dlbook.activations.softmax``.
"""

from __future__ import annotations

import numpy as np

from dlbook import checks
from dlbook.activations import softmax

__all__ = [
    "cosine_attention",
    "scaled_dot_product_attention",
    "causal_mask",
    "multi_head_attention",
]

# What the error says when queries, keys and values disagree (see checks.arrays).
_AXES = {
    "d": "{a} and {b} must have the same last axis (the feature size d)",
    "S": "{a} and {b} must hold the same number of keys and values (axis -2)",
}


def cosine_attention(query, keys, values, use_softmax: bool = False):
    """Weights: cosine similarity of the query with each key; output: weights @ values.

    query: (d,), or (..., d) for several queries; keys: (S, d); values: (S, dv).
    use_softmax: turn the similarities into weights that sum to 1 (a softmax over keys).
    Returns (weights (..., S), output (..., dv)): (S,) and (dv,) for one query.
    """
    query, keys, values = checks.arrays(
        query=(query, "... d"),
        keys=(keys, "S d"),
        values=(values, "S dv"),
        nonempty="keys",
        explain=_AXES,
    )
    norms_q = np.linalg.norm(query, axis=-1, keepdims=True)  # (..., 1)
    norms_k = np.linalg.norm(keys, axis=-1)  # (S,)
    if np.any(norms_q == 0) or np.any(norms_k == 0):
        raise ValueError("query and keys must be nonzero vectors: cosines need lengths")
    weights = (query @ keys.T) / (norms_q * norms_k)  # (..., S): cosines in [-1, 1]
    if use_softmax:
        weights = softmax(weights, axis=-1)
    return weights, weights @ values  # (..., S) and (..., dv)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v, as torch.nn.functional.scaled_dot_product_attention.

    q: (..., n, d), n queries; k: (..., S, d), S keys; v: (..., S, dv); leading axes
    broadcast. mask: boolean, broadcastable to (..., n, S), True where query i may
    attend to key j. Returns (output (..., n, dv), weights (..., n, S)).
    """
    q, k, v = checks.arrays(
        q=(q, "... n d"), k=(k, "... S d"), v=(v, "... S dv"), explain=_AXES
    )
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (..., n, S)
    if mask is not None:
        mask = checks.attention_mask(mask, "mask", scores.shape)
        scores = np.where(mask, scores, -np.inf)  # forbidden keys get weight 0
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def causal_mask(n: int) -> np.ndarray:
    """(n, n) boolean matrix M with M[i, j] = (j <= i): query i sees keys 0..i only."""
    n = checks.integer(n, "n", minimum=0)
    return np.tril(np.ones((n, n), dtype=bool))


def multi_head_attention(
    query,
    key,
    value,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    out_proj_weight,
    out_proj_bias,
    mask=None,
):
    """Multi-head attention with ``torch.nn.MultiheadAttention``'s parameters.

    query: (L, E); key, value: (S, E); num_heads divides E.
    in_proj_weight (3E, E), in_proj_bias (3E,): the q, k, v projections stacked;
    out_proj_weight (E, E), out_proj_bias (E,). mask: (L, S), True where allowed.
    Each head h attends with its own slice of E / num_heads features:
        head_h = attention(q W_q,h, k W_k,h, v W_v,h)
        output = concat(head_1, ..., head_H) W_o^T + b_o
    Returns (output (L, E), weights (num_heads, L, S)).
    """
    query, key, value = checks.arrays(
        query=(query, "L E"),
        key=(key, "S E"),
        value=(value, "S E"),
        explain={"S": "{a} and {b} must both have shape {shape}"},
    )
    E = query.shape[1]
    num_heads = checks.divisor(num_heads, "num_heads", E, "the embedding size E")
    w_in = checks.array(in_proj_weight, "in_proj_weight", shape=(3 * E, E))
    b_in = checks.array(in_proj_bias, "in_proj_bias", shape=(3 * E,))
    w_out = checks.array(out_proj_weight, "out_proj_weight", shape=(E, E))
    b_out = checks.array(out_proj_bias, "out_proj_bias", shape=(E,))
    w_q, w_k, w_v = np.split(w_in, 3)
    b_q, b_k, b_v = np.split(b_in, 3)
    head = E // num_heads

    def split_heads(x):  # (n, E) -> (num_heads, n, head)
        return x.reshape(len(x), num_heads, head).transpose(1, 0, 2)

    q = split_heads(query @ w_q.T + b_q)
    k = split_heads(key @ w_k.T + b_k)
    v = split_heads(value @ w_v.T + b_v)
    if mask is not None:
        mask = checks.attention_mask(mask, "mask", (len(query), len(key)))
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (H, L, head)
    concat = heads.transpose(1, 0, 2).reshape(len(query), E)  # (L, E)
    return concat @ w_out.T + b_out, weights
