"""dlbook.decoding: beam search against an exhaustive search on random small trees,
greedy as beam width 1, and the temperature, top-k and top-p filters against the same
operations written in torch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from dlbook import decoding

SEEDS = range(8)


def _random_tree(rng, vocab, eos=None):
    """next_probs for a random model: every prefix gets its own random distribution
    (some tokens impossible), drawn once and remembered."""
    table = {}

    def next_probs(tokens):
        if tokens not in table:
            p = rng.dirichlet(np.full(vocab, 0.5))
            p[rng.random(vocab) < 0.25] = 0.0
            if p.sum() == 0:
                p[rng.integers(vocab)] = 1.0
            table[tokens] = p / p.sum()
        return table[tokens]

    return next_probs


def _exhaustive(next_probs, prompt, depth, vocab, eos=None):
    """The most probable continuation among all sequences of up to ``depth`` tokens
    (those that end at eos stop there): every path of the tree, scored."""
    best = (-math.inf, None)
    for path in itertools.product(range(vocab), repeat=depth):
        if eos is not None and eos in path:
            path = path[: path.index(eos) + 1]
        score, seq = 0.0, list(prompt)
        for token in path:
            p = next_probs(tuple(seq))[token]
            if p == 0:
                score = -math.inf
                break
            score += math.log(p)
            seq.append(token)
        if score > best[0]:
            best = (score, seq)
    return best


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("eos", [None, 0])
def test_wide_beam_search_is_the_exhaustive_search(seed, eos):
    rng = np.random.default_rng(seed)
    vocab, depth = 4, 3
    model = _random_tree(rng, vocab)
    tokens, score = decoding.beam_search(model, [1], vocab**depth, depth, eos=eos)
    best_score, best = _exhaustive(model, [1], depth, vocab, eos=eos)
    assert tokens == best
    assert score == pytest.approx(best_score, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_beam_search_scores_are_the_path_log_probability(seed):
    rng = np.random.default_rng(seed)
    model = _random_tree(rng, 5)
    tokens, score = decoding.beam_search(model, [2, 3], 2, 4)
    logp = sum(math.log(model(tuple(tokens[:i]))[tokens[i]]) for i in range(2, 6))
    assert score == pytest.approx(logp, abs=1e-12)
    exhaustive_score, _ = _exhaustive(model, [2, 3], 4, 5)
    assert score <= exhaustive_score + 1e-12


@pytest.mark.parametrize("seed", SEEDS)
def test_beam_width_one_is_greedy(seed):
    rng = np.random.default_rng(seed)
    model = _random_tree(rng, 6)
    tokens, _ = decoding.beam_search(model, [0], 1, 5)
    assert tokens == decoding.greedy(model, [0], 5)


def test_greedy_and_beam_differ_on_a_trap():
    # the likeliest first word leads to a flat second step
    tree = {(0,): [0, 0.5, 0.4, 0.1], (0, 1): [0, 0.4, 0.3, 0.3],
            (0, 2): [0, 0.05, 0.05, 0.9], (0, 3): [0, 0.5, 0.3, 0.2]}  # fmt: skip

    def model(tokens):
        return np.array(tree[tokens])

    assert decoding.greedy(model, [0], 2) == [0, 1, 1]  # 0.5 x 0.4 = 0.20
    tokens, score = decoding.beam_search(model, [0], 2, 2)
    assert tokens == [0, 2, 3] and score == pytest.approx(math.log(0.36))


def test_greedy_stops_at_eos():
    def model(tokens):
        return np.array([0.0, 0.2, 0.8]) if len(tokens) < 3 else np.eye(3)[0]

    assert decoding.greedy(model, [1], 10, eos=0) == [1, 2, 2, 0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_temperature_is_softmax_of_scores_over_tau(seed, temperature):
    logits = torch.randn(
        7, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    probs = torch.softmax(logits, dim=0).numpy()
    expected = torch.softmax(logits / temperature, dim=0).numpy()
    np.testing.assert_allclose(decoding.with_temperature(probs, temperature), expected,
                               atol=1e-12)  # fmt: skip


def _torch_top_k(probs, k):
    p = torch.tensor(probs)
    values, indices = torch.topk(p, k)
    out = torch.zeros_like(p).scatter(0, indices, values)
    return (out / out.sum()).numpy()


def _torch_top_p(probs, top_p):
    # sort, drop every token after the cumulative mass first reaches top_p
    p = torch.tensor(probs)
    sorted_p, order = torch.sort(p, descending=True)
    before = torch.cumsum(sorted_p, 0) - sorted_p  # mass of the better tokens
    sorted_p[before >= top_p] = 0
    out = torch.zeros_like(p).scatter(0, order, sorted_p)
    return (out / out.sum()).numpy()


@pytest.mark.parametrize("seed", SEEDS)
def test_top_k_and_top_p_against_torch(seed):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(10))
    for k in (1, 3, 10, 12):
        expected = _torch_top_k(probs, min(k, 10))
        np.testing.assert_allclose(decoding.keep_top_k(probs, k), expected, atol=1e-12)
    for top_p in (0.05, 0.5, 0.9, 1.0):
        expected = _torch_top_p(probs, top_p)
        np.testing.assert_allclose(
            decoding.keep_top_p(probs, top_p), expected, atol=1e-12
        )


def test_top_p_keeps_the_fewest_tokens_reaching_p():
    probs = np.array([0.1, 0.5, 0.3, 0.1])
    assert np.count_nonzero(decoding.keep_top_p(probs, 0.8)) == 2  # 0.5 + 0.3
    assert np.count_nonzero(decoding.keep_top_p(probs, 0.81)) == 3
    np.testing.assert_allclose(decoding.keep_top_p(probs, 0.8), [0, 0.625, 0.375, 0])


def test_sampling_follows_the_distribution():
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    rng = np.random.default_rng(0)
    draws = [decoding.sample(lambda t: probs, [0], 1, rng)[1] for _ in range(20000)]
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, probs, atol=0.015)
    rng = np.random.default_rng(0)
    cut = [
        decoding.sample(lambda t: probs, [0], 1, rng, top_k=2)[1] for _ in range(20000)
    ]
    np.testing.assert_allclose(np.bincount(cut, minlength=4) / 20000,
                               [0.625, 0.375, 0, 0], atol=0.015)  # fmt: skip


def test_sampling_is_seeded_and_top_k_one_is_greedy():
    rng = np.random.default_rng(1)
    model = _random_tree(rng, 6)
    a = decoding.sample(model, [0], 6, np.random.default_rng(5))
    b = decoding.sample(model, [0], 6, np.random.default_rng(5))
    assert a == b
    assert decoding.sample(model, [0], 6, np.random.default_rng(9), top_k=1) == (
        decoding.greedy(model, [0], 6)
    )


def _flat(tokens):
    return np.ones(3) / 3


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: decoding.greedy(_flat, "ab", 2), TypeError, "prompt must be"),
        (lambda: decoding.greedy(_flat, [-1], 2), ValueError, r"prompt\[0\]"),
        (lambda: decoding.greedy(lambda t: np.ones(3), [0], 2), ValueError,
         r"next_probs\(tokens\) must be probabilities"),
        (lambda: decoding.greedy(3, [0], 2), TypeError, "next_probs must be"),
        (lambda: decoding.beam_search(_flat, [0], 0, 2), ValueError,
         "beam_width must be"),
        (lambda: decoding.keep_top_k(np.ones(3) / 3, 0), ValueError, "k must be"),
        (lambda: decoding.keep_top_p(np.ones(3) / 3, 0), ValueError, "p must be"),
        (lambda: decoding.keep_top_p(np.ones(3) / 3, 1.5), ValueError, "p must be"),
        (lambda: decoding.with_temperature(_flat(()), 0), ValueError, "temperature"),
        (lambda: decoding.sample(_flat, [0], 2, 5), TypeError, "rng must"),
    ],
)  # fmt: skip
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
