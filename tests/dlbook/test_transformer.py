"""dlbook.transformer against torch: positional encoding, layer norm, feed-forward, and
the encoder and decoder blocks against torch.nn.TransformerEncoderLayer and
TransformerDecoderLayer with copied weights (eval mode, dropout 0, both norm_first
settings, with and without masks) on random shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import transformer as tf
from dlbook.attention import causal_mask

SEEDS = range(5)


def _randomise(layer: nn.Module, rng: np.random.Generator) -> None:
    """Every parameter random, biases and layer-norm scales included (torch starts
    them at 0 and 1, which would hide a mistake in using them)."""
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.tensor(rng.normal(0, 0.5, size=tuple(p.shape))))


def _params(layer: nn.Module) -> dict:
    return {k: v.detach().numpy() for k, v in layer.state_dict().items()}


def _random_mask(rng, rows, cols):
    mask = rng.random((rows, cols)) < 0.6
    mask[np.arange(rows), rng.integers(0, cols, size=rows)] = True  # one key per row
    return mask


def test_positional_encoding_by_hand():
    table = tf.positional_encoding(3, 4)
    expected = [
        [0, 1, 0, 1],
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],  # 10000^(-2/4)
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ]
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("n, d, base", [(60, 32, 10000), (7, 6, 100.0), (1, 2, 10)])
def test_positional_encoding_formula(n, d, base):
    table = tf.positional_encoding(n, d, base)
    assert table.shape == (n, d)
    for i in range(n):
        for j in range(d // 2):
            angle = i / base ** (2 * j / d)
            assert table[i, 2 * j] == pytest.approx(math.sin(angle), abs=1e-12)
            assert table[i, 2 * j + 1] == pytest.approx(math.cos(angle), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_equals_torch(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    E = shape[-1]
    x, w, b = rng.normal(size=shape), rng.normal(size=E), rng.normal(size=E)
    norm = nn.LayerNorm(E, dtype=torch.float64)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor(w))
        norm.bias.copy_(torch.tensor(b))
    expected = norm(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(tf.layer_norm(x, w, b), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_feed_forward_equals_torch(seed):
    rng = np.random.default_rng(seed)
    E, F, n = (int(v) for v in rng.integers(1, 8, size=3))
    lin1, lin2 = (
        nn.Linear(E, F, dtype=torch.float64),
        nn.Linear(F, E, dtype=torch.float64),
    )
    x = rng.normal(size=(n, E))
    expected = lin2(torch.relu(lin1(torch.tensor(x)))).detach().numpy()
    got = tf.feed_forward(
        x,
        *(p.detach().numpy() for p in (lin1.weight, lin1.bias, lin2.weight, lin2.bias)),
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _shapes(rng):
    heads = int(rng.integers(1, 4))
    E = heads * int(rng.integers(1, 4))
    return heads, E, int(rng.integers(4, 17)), int(rng.integers(1, 7))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_encoder_layer_equals_torch(seed, masked, norm_first):
    rng = np.random.default_rng(seed)
    heads, E, F, n = _shapes(rng)
    layer = nn.TransformerEncoderLayer(
        E,
        heads,
        F,
        dropout=0.0,
        batch_first=True,
        norm_first=norm_first,
        dtype=torch.float64,
    ).eval()
    _randomise(layer, rng)
    x = rng.normal(size=(n, E))
    mask = _random_mask(rng, n, n) if masked else None
    with torch.no_grad():
        expected = layer(
            torch.tensor(x)[None],
            src_mask=None
            if mask is None
            else torch.tensor(~mask),  # torch: True = blocked
        )[0].numpy()
    got = tf.encoder_layer(x, _params(layer), heads, norm_first=norm_first, mask=mask)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_decoder_layer_equals_torch(seed, masked, norm_first):
    rng = np.random.default_rng(seed)
    heads, E, F, L = _shapes(rng)
    S = int(rng.integers(1, 7))
    layer = nn.TransformerDecoderLayer(
        E,
        heads,
        F,
        dropout=0.0,
        batch_first=True,
        norm_first=norm_first,
        dtype=torch.float64,
    ).eval()
    _randomise(layer, rng)
    x, memory = rng.normal(size=(L, E)), rng.normal(size=(S, E))
    self_mask = causal_mask(L) if masked else None
    memory_mask = _random_mask(rng, L, S) if masked else None
    with torch.no_grad():
        expected = layer(
            torch.tensor(x)[None],
            torch.tensor(memory)[None],
            tgt_mask=None if self_mask is None else torch.tensor(~self_mask),
            memory_mask=None if memory_mask is None else torch.tensor(~memory_mask),
        )[0].numpy()
    got = tf.decoder_layer(
        x,
        memory,
        _params(layer),
        heads,
        norm_first=norm_first,
        self_mask=self_mask,
        memory_mask=memory_mask,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


def test_decoder_with_a_causal_mask_ignores_later_positions():
    rng = np.random.default_rng(9)
    layer = nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, dtype=torch.float64)
    _randomise(layer, rng)
    params = _params(layer)
    x, memory = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    changed = x.copy()
    changed[4] += 3.0
    run = [
        tf.decoder_layer(y, memory, params, 2, self_mask=causal_mask(5))
        for y in (x, changed)
    ]
    np.testing.assert_allclose(run[0][:4], run[1][:4], rtol=0, atol=1e-12)
    assert np.abs(run[0][4] - run[1][4]).max() > 1e-3


def _encoder_params():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dtype=torch.float64)
    return _params(layer)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: tf.positional_encoding(4, 5), ValueError, "d must be even"),
        (lambda: tf.positional_encoding(-1, 4), ValueError, "n must be"),
        (lambda: tf.positional_encoding(4, 4, base=0), ValueError, "base"),
        (
            lambda: tf.layer_norm(np.ones((2, 3)), np.ones(2), np.ones(3)),
            ValueError,
            r"weight must have shape \(3,\)",
        ),
        (
            lambda: tf.layer_norm(np.ones(3), np.ones(3), np.ones(3), eps=0),
            ValueError,
            "eps",
        ),
        (
            lambda: tf.feed_forward(
                np.ones((2, 3)),
                np.ones((5, 4)),
                np.ones(5),
                np.ones((3, 5)),
                np.ones(3),
            ),
            ValueError,
            "w1",
        ),
        (lambda: tf.encoder_layer(np.ones((3, 4)), {}, 2), ValueError, "params lacks"),
        (lambda: tf.encoder_layer(np.ones((3, 4)), [], 2), TypeError, "params must be"),
        (
            lambda: tf.encoder_layer(np.ones(4), _encoder_params(), 2),
            ValueError,
            "x must have shape",
        ),
        (
            lambda: tf.encoder_layer(np.ones((3, 4)), _encoder_params(), 3),
            ValueError,
            "num_heads must divide",
        ),
        (
            lambda: tf.decoder_layer(np.ones((3, 4)), np.ones((2, 5)), {}, 2),
            ValueError,
            "memory must have shape",
        ),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
