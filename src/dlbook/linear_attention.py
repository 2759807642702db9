"""Linear attention (chapter 8b): causal attention without the softmax, run as a
recurrence.

    recurrent(q, k, v, decay=None) -> (L, dv)        one step per token, a (dv, d) state
    parallel(q, k, v, decay=None) -> (L, dv)         all at once, an (L, L) matrix
    chunked(q, k, v, decay=None, chunk_size=16)      blocks in parallel, a state between
    gated_recurrence(q, k, v, transitions, strengths=None) -> (L, dv)
    delta_rule(q, k, v, beta, decay=None) -> (L, dv)
    parallel_scan(a, b) -> (states, rounds)  all h_t = a_t h_{t-1} + b_t, log2 L rounds

Without the softmax, causal attention o_t = sum_{s<=t} (q_t . k_s) v_s regroups as
o_t = (sum_{s<=t} v_s k_s^T) q_t = S_t q_t: the sum of outer products is a matrix state
that grows by one term per token, S_t = S_{t-1} + v_t k_t^T. With a decay g_t in (0, 1]
old terms fade, S_t = g_t S_{t-1} + v_t k_t^T (RetNet's fixed g, Mamba-2's g_t chosen
from the input). The same numbers come out of three schedules of the work:

    recurrent: L steps of O(d dv) each, memory O(d dv): an RNN with a matrix state;
    parallel:  O = ((Q K^T) * D) V with D[t, s] = g_{s+1} ... g_t for s <= t, else 0;
               O(L^2) time and memory, but all matrix products;
    chunked:   the parallel form inside blocks of chunk_size tokens, the recurrent form
               from one block to the next (what GLA and Mamba-2 kernels do).

The gated family writes the state update as S_t = S_{t-1} A_t + beta_t v_t k_t^T with a
(d, d) transition A_t: A_t = g I (RetNet), g_t I (Mamba-2), diag(alpha_t) (GLA),
I - beta_t k_t k_t^T (DeltaNet), g_t (I - beta_t k_t k_t^T) (Gated DeltaNet).
``gated_recurrence`` takes any A_t; ``delta_rule`` builds DeltaNet's.

All inputs are NumPy arrays: q and k (L, d), v (L, dv); a decay is a number or an
array (L,) in (0, 1].
"""

from __future__ import annotations

import numpy as np

from dlbook import checks

__all__ = [
    "recurrent",
    "parallel",
    "chunked",
    "gated_recurrence",
    "delta_rule",
    "parallel_scan",
]

# What the error says when q, k and v disagree (see checks.arrays).
_QKV = {"L": "{b} must have one row per token of {a}", "d": "{b} must have {a}'s shape"}


def recurrent(q, k, v, decay=None) -> np.ndarray:
    """o_t = S_t q_t with S_t = g_t S_{t-1} + v_t k_t^T, S_0 = 0, token by token."""
    q, k, v = checks.arrays(q=(q, "L d"), k=(k, "L d"), v=(v, "L dv"), explain=_QKV)
    g = checks.per_step(decay, "decay", len(q), default=1.0, interval="(0, 1]")
    state = np.zeros((v.shape[1], q.shape[1]))  # S: (dv, d)
    out = np.empty((len(q), v.shape[1]))
    for t in range(len(q)):
        state = g[t] * state + np.outer(v[t], k[t])  # forget a little, write one pair
        out[t] = state @ q[t]  # read with the query
    return out


def parallel(q, k, v, decay=None) -> np.ndarray:
    """O = ((Q K^T) * D) V, D[t, s] = g_{s+1} g_{s+2} ... g_t for s <= t and 0 above the
    diagonal: the decay a term has suffered between its writing (s) and its reading (t).
    """
    q, k, v = checks.arrays(q=(q, "L d"), k=(k, "L d"), v=(v, "L dv"), explain=_QKV)
    g = checks.per_step(decay, "decay", len(q), default=1.0, interval="(0, 1]")
    return ((q @ k.T) * _decay_matrix(g)) @ v  # (L, L) * (L, L), then @ (L, dv)


def chunked(q, k, v, decay=None, chunk_size: int = 16) -> np.ndarray:
    """The parallel form inside each block of ``chunk_size`` tokens; the state S carries
    everything before the block. O(L chunk_size) time for the blocks, O(d dv) state."""
    q, k, v = checks.arrays(q=(q, "L d"), k=(k, "L d"), v=(v, "L dv"), explain=_QKV)
    g = checks.per_step(decay, "decay", len(q), default=1.0, interval="(0, 1]")
    chunk_size = checks.integer(chunk_size, "chunk_size", minimum=1)
    state = np.zeros((v.shape[1], q.shape[1]))  # (dv, d): the tokens before the block
    out = np.empty((len(q), v.shape[1]))
    for start in range(0, len(q), chunk_size):
        block = slice(start, start + chunk_size)
        qc, kc, vc, gc = q[block], k[block], v[block], g[block]
        log_faded = np.cumsum(np.log(gc))
        faded = np.exp(log_faded)  # faded[i]: decay from the block's start to token i
        inside = ((qc @ kc.T) * _decay_matrix(gc)) @ vc  # terms written in the block
        out[block] = inside + faded[:, None] * (qc @ state.T)  # + the older terms
        to_end = np.exp(log_faded[-1] - log_faded)  # from each token i to the end
        state = faded[-1] * state + (vc * to_end[:, None]).T @ kc
    return out


def gated_recurrence(q, k, v, transitions, strengths=None) -> np.ndarray:
    """o_t = S_t q_t with S_t = S_{t-1} A_t + beta_t v_t k_t^T, S_0 = 0.

    transitions: (L, d, d), the A_t; strengths: (L,), the beta_t (None: all 1).
    """
    q, k, v = checks.arrays(q=(q, "L d"), k=(k, "L d"), v=(v, "L dv"), explain=_QKV)
    length, d = q.shape
    transitions = checks.array(transitions, "transitions", shape=(length, d, d))
    beta = checks.per_step(strengths, "strengths", length, default=1.0, finite=True)
    state = np.zeros((v.shape[1], d))
    out = np.empty((length, v.shape[1]))
    for t in range(length):
        state = state @ transitions[t] + beta[t] * np.outer(v[t], k[t])
        out[t] = state @ q[t]
    return out


def delta_rule(q, k, v, beta, decay=None) -> np.ndarray:
    """DeltaNet: S_t = g_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T.

    Rearranged, S_t = g_t S_{t-1} + beta_t (v_t - g_t S_{t-1} k_t) k_t^T: one step of
    gradient descent (learning rate beta_t) on the regression loss |S k_t - v_t|^2 / 2,
    so writing a key that is already stored replaces its value instead of adding to it.
    With unit-length keys, beta in (0, 1] keeps the state from growing. (decay None:
    DeltaNet; a decay: Gated DeltaNet.)
    """
    q, k, v = checks.arrays(q=(q, "L d"), k=(k, "L d"), v=(v, "L dv"), explain=_QKV)
    beta = checks.per_step(beta, "beta", len(q), default=1.0, finite=True)
    g = checks.per_step(decay, "decay", len(q), default=1.0, interval="(0, 1]")
    state = np.zeros((v.shape[1], q.shape[1]))
    out = np.empty((len(q), v.shape[1]))
    for t in range(len(q)):
        state = g[t] * state
        error = v[t] - state @ k[t]  # what the memory gets wrong about key t
        state = state + beta[t] * np.outer(error, k[t])
        out[t] = state @ q[t]
    return out


def parallel_scan(a, b) -> tuple[np.ndarray, int]:
    """All states of h_t = a_t h_{t-1} + b_t (h_0 = 0 before the first step) in
    ceil(log2 L) rounds of work that could run in parallel (Hillis and Steele).

    a: (L,) numbers, one per step, or an array of b's shape (elementwise decays);
    b: (L, ...). Returns (h of b's shape, the number of rounds).

    Two steps compose into one: applying (a1, b1) then (a2, b2) is
    h -> a2 (a1 h + b1) + b2 = (a2 a1) h + (a2 b1 + b2). In round r every position t
    composes its summary of the last 2^r steps with the one ending 2^r steps earlier, so
    after ceil(log2 L) rounds each position summarises all the steps up to itself.
    """
    b = checks.array(b, "b", nonempty=True)
    if b.ndim == 0:
        raise ValueError(f"b must have shape (L, ...), got shape {b.shape}")
    a = checks.array(a, "a")
    if a.shape not in ((len(b),), b.shape):
        raise ValueError(
            f"a must have shape ({len(b)},) or b's shape {b.shape}, got {a.shape}"
        )
    a = a.reshape(a.shape + (1,) * (b.ndim - a.ndim))  # (L,): one number per step
    a = np.broadcast_to(a, b.shape).copy()
    h = b.copy()  # after round r: the summary (a, h) of steps t - 2^r + 1 .. t
    rounds, span = 0, 1
    while span < len(b):
        # positions t >= span compose with the summary ending at t - span
        h[span:] = a[span:] * h[:-span] + h[span:]
        a[span:] = a[span:] * a[:-span]
        rounds, span = rounds + 1, 2 * span
    return h, rounds


# -- helpers ---------------------------------------------------------------------------
def _decay_matrix(g: np.ndarray) -> np.ndarray:
    """D[t, s] = prod_{r=s+1}^{t} g_r for s <= t, else 0, from cumulative log-decays
    (a ratio of cumulative products would underflow to 0/0 on long inputs)."""
    c = np.cumsum(np.log(g))
    gap = c[:, None] - c[None, :]  # log of the product, for s <= t
    lower = np.tril(np.ones((len(g), len(g)), dtype=bool))
    return np.where(lower, np.exp(np.minimum(gap, 0.0)), 0.0)
