"""dlbook.linear_attention: the recurrent, parallel and chunked forms against a direct
sum written in torch, the gated family against its definition, the delta rule as
regression, and the parallel scan against a loop, on random inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlbook import linear_attention as la

SEEDS = range(5)


def _inputs(rng, length, d=3, dv=4):
    return (rng.standard_normal((length, d)), rng.standard_normal((length, d)),
            rng.standard_normal((length, dv)))  # fmt: skip


def _direct(q, k, v, g):
    """o_t = sum_{s <= t} (g_{s+1} ... g_t) (q_t . k_s) v_s, term by term in torch."""
    q, k, v, g = (torch.tensor(a, dtype=torch.float64) for a in (q, k, v, g))
    out = torch.zeros(len(q), v.shape[1], dtype=torch.float64)
    for t in range(len(q)):
        for s in range(t + 1):
            faded = torch.prod(g[s + 1 : t + 1])  # 1 for s = t
            out[t] += faded * torch.dot(q[t], k[s]) * v[s]
    return out.numpy()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["none", "scalar", "per-token"])
def test_three_forms_equal_the_direct_sum(seed, kind):
    rng = np.random.default_rng(seed)
    length = int(rng.integers(1, 30))
    q, k, v = _inputs(rng, length)
    decay = {"none": None, "scalar": 0.8,
             "per-token": rng.uniform(0.05, 1.0, size=length)}[kind]  # fmt: skip
    g = np.ones(length) if decay is None else np.broadcast_to(decay, (length,))
    expected = _direct(q, k, v, g)
    np.testing.assert_allclose(la.recurrent(q, k, v, decay), expected, atol=1e-10)
    np.testing.assert_allclose(la.parallel(q, k, v, decay), expected, atol=1e-10)
    for chunk_size in (1, 3, 7, length, length + 5):
        np.testing.assert_allclose(
            la.chunked(q, k, v, decay, chunk_size=chunk_size), expected, atol=1e-10
        )


def test_no_decay_is_causal_attention_without_softmax():
    rng = np.random.default_rng(7)
    q, k, v = _inputs(rng, 9)
    scores = torch.tensor(q @ k.T).tril()  # zero above the diagonal: the causal mask
    np.testing.assert_allclose(
        la.recurrent(q, k, v), (scores @ torch.tensor(v)).numpy(), atol=1e-12
    )


def test_long_input_with_strong_decay_stays_finite():
    # a ratio of cumulative products would be 0 / 0 here
    rng = np.random.default_rng(3)
    q, k, v = _inputs(rng, 2000)
    out = la.parallel(q, k, v, decay=0.5)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, la.recurrent(q, k, v, decay=0.5), atol=1e-10)
    np.testing.assert_allclose(
        la.chunked(q, k, v, decay=0.5, chunk_size=64), out, atol=1e-10
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_gated_recurrence_with_scalar_transitions_is_decay(seed):
    rng = np.random.default_rng(seed)
    q, k, v = _inputs(rng, 12)
    g = rng.uniform(0.3, 1.0, size=12)
    transitions = g[:, None, None] * np.eye(3)  # Mamba-2: A_t = g_t I
    np.testing.assert_allclose(
        la.gated_recurrence(q, k, v, transitions), la.recurrent(q, k, v, g), atol=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_gated_recurrence_by_its_definition(seed):
    rng = np.random.default_rng(seed)
    q, k, v = _inputs(rng, 8)
    transitions = rng.standard_normal((8, 3, 3)) * 0.5
    beta = rng.uniform(0, 1, size=8)
    state = torch.zeros(4, 3, dtype=torch.float64)
    expected = []
    for t in range(8):
        a_t = torch.tensor(transitions[t])
        write = torch.outer(torch.tensor(v[t]), torch.tensor(k[t]))
        state = state @ a_t + beta[t] * write
        expected.append(state @ torch.tensor(q[t]))
    np.testing.assert_allclose(
        la.gated_recurrence(q, k, v, transitions, beta),
        torch.stack(expected).numpy(),
        atol=1e-12,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("gated", [False, True])
def test_delta_rule_is_the_gated_recurrence_with_its_transition(seed, gated):
    rng = np.random.default_rng(seed)
    q, k, v = _inputs(rng, 10)
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    beta = rng.uniform(0, 1, size=10)
    g = rng.uniform(0.5, 1, size=10) if gated else np.ones(10)
    eye = np.eye(3)
    transitions = np.stack([g[t] * (eye - beta[t] * np.outer(k[t], k[t]))
                            for t in range(10)])  # fmt: skip
    np.testing.assert_allclose(
        la.delta_rule(q, k, v, beta, decay=g if gated else None),
        la.gated_recurrence(q, k, v, transitions, beta),
        atol=1e-12,
    )


def test_delta_rule_overwrites_where_linear_attention_adds():
    key = np.array([[0.6, 0.8, 0.0]] * 2)  # the same unit key, written twice
    values = np.array([[1.0, 0.0], [0.0, 1.0]])
    read = key[-1:].repeat(2, axis=0)  # query = the key
    np.testing.assert_allclose(la.delta_rule(read, key, values, 1.0)[-1], [0, 1])
    np.testing.assert_allclose(la.recurrent(read, key, values)[-1], [1, 1])


def test_delta_rule_step_is_a_gradient_step_on_the_regression_loss():
    rng = np.random.default_rng(11)
    q, k, v = _inputs(rng, 2)
    beta = 0.3
    state = torch.tensor(np.outer(v[0], k[0]), requires_grad=True)  # S_1 with beta 1
    loss = 0.5 * ((state @ torch.tensor(k[1]) - torch.tensor(v[1])) ** 2).sum()
    loss.backward()
    stepped = (state - beta * state.grad).detach().numpy()
    ours = la.delta_rule(q, k, v, np.array([1.0, beta]))[1]
    np.testing.assert_allclose(ours, stepped @ q[1], atol=1e-12)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 8, 13, 64, 100])
def test_parallel_scan_equals_the_loop(length):
    rng = np.random.default_rng(length)
    for a, b in [
        (rng.uniform(0, 1, size=length), rng.standard_normal(length)),  # scalars
        (rng.uniform(0, 1, size=(length, 3)), rng.standard_normal((length, 3))),
        (rng.uniform(0, 1, size=length), rng.standard_normal((length, 4, 3))),
    ]:
        h, rounds = la.parallel_scan(a, b)
        a_full = a.reshape(a.shape + (1,) * (b.ndim - a.ndim))
        state, expected = np.zeros(b.shape[1:]), []
        for t in range(length):
            state = a_full[t] * state + b[t]
            expected.append(state)
        np.testing.assert_allclose(h, np.array(expected), atol=1e-12)
        assert rounds == math.ceil(math.log2(length))


def test_parallel_scan_gives_the_linear_attention_states():
    rng = np.random.default_rng(5)
    q, k, v = _inputs(rng, 20)
    g = rng.uniform(0.5, 1, size=20)
    states, rounds = la.parallel_scan(g, np.einsum("ti,tj->tij", v, k))  # v_t k_t^T
    out = np.einsum("tij,tj->ti", states, q)
    np.testing.assert_allclose(out, la.recurrent(q, k, v, g), atol=1e-12)
    assert rounds == 5


def test_parallel_scan_leaves_its_inputs_alone():
    a, b = np.full(4, 0.5), np.ones(4)
    la.parallel_scan(a, b)
    assert a.tolist() == [0.5] * 4 and b.tolist() == [1.0] * 4


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda q, k, v: la.recurrent(q[:, :2], k, v), "k must have q's shape"),
        (lambda q, k, v: la.parallel(q, k, v[:3]), "v must have one row per token"),
        (lambda q, k, v: la.recurrent(q[0], k, v), r"q must have shape \(L, d\)"),
        (
            lambda q, k, v: la.recurrent(q, k, v, decay=0.0),
            r"decay must lie in \(0, 1\]",
        ),
        (
            lambda q, k, v: la.parallel(q, k, v, decay=1.5),
            r"decay must lie in \(0, 1\]",
        ),
        (
            lambda q, k, v: la.chunked(q, k, v, decay=[0.5, 1, np.nan, 1, 1]),
            r"^decay must lie in \(0, 1\], got nan$",
        ),
        (
            lambda q, k, v: la.gated_recurrence(
                q, k, v, np.zeros((5, 3, 3)), [1, 1, np.inf, 1, 1]
            ),
            "^strengths must hold finite numbers, got inf$",
        ),
        (
            lambda q, k, v: la.delta_rule(q, k, v[:, :2].T, 1.0),
            r"^v must have one row per token of q: q has shape \(5, 3\), v has shape "
            r"\(2, 5\)$",
        ),
        (
            lambda q, k, v: la.chunked(q, k, v, decay=np.ones(3)),
            r"decay must be .*\(5,\)",
        ),
        (lambda q, k, v: la.chunked(q, k, v, chunk_size=0), "chunk_size must be"),
        (lambda q, k, v: la.gated_recurrence(q, k, v, np.eye(3)), "transitions must"),
        (lambda q, k, v: la.delta_rule(q, k, v, np.ones(4)), r"beta must .*\(5,\)"),
        (lambda q, k, v: la.parallel_scan(np.ones(3), v), r"a must have shape \(5,\)"),
        (lambda q, k, v: la.parallel_scan(1.0, 2.0), "b must have shape"),
    ],
)
def test_bad_input_is_named(call, message):
    q, k, v = _inputs(np.random.default_rng(0), 5)
    with pytest.raises(ValueError, match=message):
        call(q, k, v)
