"""Attention from scratch in NumPy: a soft look-up of values, matching a query to keys.

    cosine_attention(query, keys, values, use_softmax=False) -> (weights, output)
    scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)
    causal_mask(n) -> (n, n) boolean, True where key index <= query index
    softmax(scores, axis=-1) -> weights that sum to 1, stable for large scores
    multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None) -> (output, weights)

Masks are True where attention is allowed. PyTorch's boolean masks differ:
``torch.nn.functional.scaled_dot_product_attention`` also takes True as allowed, but
``torch.nn.MultiheadAttention``'s ``attn_mask`` takes True as *forbidden*, the negation
of ours. A query whose mask allows no key at all has no meaningful output (torch 2.13's
scaled_dot_product_attention returns zeros there, MultiheadAttention NaN); these
functions raise a ValueError that names the row instead.
"""

from __future__ import annotations

import numpy as np

from dlbook import checks

__all__ = [
    "cosine_attention",
    "scaled_dot_product_attention",
    "causal_mask",
    "multi_head_attention",
    "softmax",
]


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(s_i) / sum_j exp(s_j) along ``axis``; the row maximum is subtracted first,
    so scores of 1e4 give no overflow. Entries of -inf get weight 0."""
    scores = np.asarray(scores, dtype=float)
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def cosine_attention(query, keys, values, use_softmax: bool = False):
    """Weights: cosine similarity of the query with each key; output: weights @ values.

    query: (d,) or (L, d); keys: (S, d); values: (S, dv).
    use_softmax: turn the similarities into weights that sum to 1 (a softmax over keys).
    Returns (weights (S,) or (L, S), output (dv,) or (L, dv)).
    """
    query = checks.array(query, "query")
    keys = checks.array(keys, "keys", shape=("S", "d"), nonempty=True)
    values = checks.array(values, "values", shape=("S", "dv"))
    single = query.ndim == 1
    queries = checks.has_shape(query[None] if single else query, "query", ("L", "d"))
    _same_width(queries, "query", keys, "keys")
    _same_length(keys, "keys", values, "values")
    norms_q = np.linalg.norm(queries, axis=1, keepdims=True)  # (L, 1)
    norms_k = np.linalg.norm(keys, axis=1)  # (S,)
    if np.any(norms_q == 0) or np.any(norms_k == 0):
        raise ValueError(
            "query and keys must be nonzero vectors: a cosine needs a length"
        )
    weights = (queries @ keys.T) / (norms_q * norms_k)  # (L, S): cosines in [-1, 1]
    if use_softmax:
        weights = softmax(weights, axis=-1)
    output = weights @ values  # (L, dv)
    return (weights[0], output[0]) if single else (weights, output)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v, as torch.nn.functional.scaled_dot_product_attention.

    q: (..., L, d); k: (..., S, d); v: (..., S, dv); leading axes broadcast.
    mask: boolean, broadcastable to (..., L, S), True where query i may attend to key j.
    Returns (output (..., L, dv), weights (..., L, S)).
    """
    q = checks.array(q, "q")
    k = checks.array(k, "k")
    v = checks.array(v, "v")
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2:
            raise ValueError(f"{name} must have shape (..., n, d), got {a.shape}")
    _same_width(q, "q", k, "k")
    _same_length(k, "k", v, "v")
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (..., L, S)
    if mask is not None:
        mask = _boolean_mask(mask, scores.shape)
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
    query = checks.array(query, "query", shape=("L", "E"))
    key = checks.array(key, "key", shape=("S", "E"))
    value = checks.array(value, "value", shape=("S", "E"))
    E = query.shape[1]
    num_heads = checks.integer(num_heads, "num_heads", minimum=1)
    if E % num_heads:
        raise ValueError(
            f"num_heads must divide the embedding size E = {E}, got {num_heads}"
        )
    if key.shape != value.shape or key.shape[1] != E:
        raise ValueError(
            f"key and value must both have shape (S, {E}), got {key.shape} and "
            f"{value.shape}"
        )
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
        mask = _boolean_mask(mask, (len(query), len(key)))
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (H, L, head)
    concat = heads.transpose(1, 0, 2).reshape(len(query), E)  # (L, E)
    return concat @ w_out.T + b_out, weights


def _same_width(a, a_name, b, b_name):
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same last axis (the feature size d), "
            f"got {a.shape} and {b.shape}"
        )


def _same_length(a, a_name, b, b_name):
    if a.shape[-2] != b.shape[-2]:
        raise ValueError(
            f"{a_name} and {b_name} must hold the same number of keys and values "
            f"(axis -2), got {a.shape} and {b.shape}"
        )


def _boolean_mask(mask, scores_shape) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(
            "mask must be a boolean array (True where attention is allowed), got "
            f"{checks.describe(mask)}"
        )
    try:
        mask = np.broadcast_to(mask, scores_shape)
    except ValueError:
        raise ValueError(
            f"mask must broadcast to the scores' shape {scores_shape}, got {mask.shape}"
        ) from None
    empty = np.argwhere(~mask.any(axis=-1))
    if len(empty):
        raise ValueError(
            f"mask allows no key for query row {tuple(int(i) for i in empty[0])}: "
            "every query needs at least one key to attend to"
        )
    return mask
