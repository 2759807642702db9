"""Oracle tests for dlbook.attention: scaled dot-product attention against
torch.nn.functional.scaled_dot_product_attention, multi-head attention against
torch.nn.MultiheadAttention with copied weights (with and without masks), the lecture's
apple/pear/banana numbers, stability for large scores, and the errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import activations, attention

torch.set_num_threads(1)


def random_mask(rng, shape):
    """A random boolean mask with at least one allowed key in every query row."""
    mask = rng.random(shape) < 0.6
    rows = np.argwhere(~mask.any(axis=-1))
    for index in rows:
        mask[tuple(index) + (int(rng.integers(shape[-1])),)] = True
    return mask


# -- the lecture's picture -------------------------------------------------------------


def test_apple_pear_banana():
    keys = np.array([[-2.0, 1.0], [-1.0, 1.0], [0.0, 1.0]])  # apple, pear, banana
    values = np.eye(3)  # one-hot values
    gaze = np.array([-1.0, 1.0])
    weights, output = attention.cosine_attention(gaze, keys, values)
    # by hand: cos(gaze, apple) = 3 / sqrt(10), pear 1, banana 1 / sqrt(2)
    np.testing.assert_allclose(weights, [3 / np.sqrt(10), 1.0, 1 / np.sqrt(2)])
    np.testing.assert_allclose(np.round(weights, 3), [0.949, 1.0, 0.707])
    np.testing.assert_allclose(output, weights)  # one-hot values: output = weights
    soft, soft_output = attention.cosine_attention(gaze, keys, values, use_softmax=True)
    np.testing.assert_allclose(np.round(soft, 3), [0.352, 0.371, 0.277])
    assert soft.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(soft_output, soft)


@pytest.mark.parametrize("seed", range(10))
def test_cosine_attention_against_torch(seed):
    rng = np.random.default_rng(seed)
    L, S, d, dv = (int(v) for v in rng.integers(1, 6, size=4))
    q, k, v = (
        rng.standard_normal((L, d)),
        rng.standard_normal((S, d)),
        rng.normal(size=(S, dv)),
    )
    weights, output = attention.cosine_attention(q, k, v)
    expected = F.cosine_similarity(
        torch.from_numpy(q)[:, None], torch.from_numpy(k)[None], dim=-1
    )
    np.testing.assert_allclose(weights, expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(output, expected.numpy() @ v, atol=1e-12)


def test_cosine_attention_takes_queries_with_any_leading_axes():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4), (5, 4), (5, 2)))
    weights, output = attention.cosine_attention(q, k, v, use_softmax=True)
    flat_weights, flat_output = attention.cosine_attention(
        q.reshape(6, 4), k, v, use_softmax=True
    )
    assert weights.shape == (2, 3, 5) and output.shape == (2, 3, 2)
    np.testing.assert_allclose(weights.reshape(6, 5), flat_weights, atol=1e-15)
    np.testing.assert_allclose(output.reshape(6, 2), flat_output, atol=1e-15)


# -- scaled dot-product attention ------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", range(15))
def test_sdpa_matches_torch(seed, masked):
    rng = np.random.default_rng(seed)
    batch = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    L, S, d, dv = (int(v) for v in rng.integers(1, 7, size=4))
    q = rng.standard_normal(batch + (L, d))
    k = rng.standard_normal(batch + (S, d))
    v = rng.standard_normal(batch + (S, dv))
    mask = random_mask(rng, batch + (L, S)) if masked else None
    output, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    t = [torch.from_numpy(a) for a in (q, k, v)]
    expected = F.scaled_dot_product_attention(
        *t, attn_mask=None if mask is None else torch.from_numpy(mask)
    )
    np.testing.assert_allclose(output, expected.numpy(), atol=1e-12)
    assert weights.shape == batch + (L, S)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    if mask is not None:
        assert np.all(weights[~mask] == 0)  # forbidden keys get exactly nothing


def test_sdpa_broadcasts_one_mask_over_the_batch():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    mask = attention.causal_mask(5)  # (5, 5) for every batch entry and head
    output, _ = attention.scaled_dot_product_attention(q, k, v, mask)
    t = [torch.from_numpy(a) for a in (q, k, v)]
    expected = F.scaled_dot_product_attention(*t, is_causal=True)
    np.testing.assert_allclose(output, expected.numpy(), atol=1e-12)


def test_sdpa_is_stable_for_huge_scores():
    q = np.array([[1e4, 0.0]])
    k = np.array([[1e4, 0.0], [-1e4, 0.0], [1e4 - 1, 0.0]])
    v = np.array([[1.0], [2.0], [3.0]])
    with np.errstate(over="raise", invalid="raise"):
        output, weights = attention.scaled_dot_product_attention(q, k, v)
    assert np.all(np.isfinite(output)) and np.all(np.isfinite(weights))
    expected = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)))
    np.testing.assert_allclose(output, expected.numpy(), atol=1e-9)


def test_the_softmax_is_the_one_of_dlbook_activations():
    # one softmax in the package: attention uses dlbook.activations.softmax, whose
    # -inf scores (forbidden keys) get weight exactly 0, and which is not attention's
    assert "softmax" not in attention.__all__
    assert attention.softmax is activations.softmax
    scores = np.array([[2.0, -np.inf, 0.5], [-np.inf, -np.inf, 1e4]])
    weights = activations.softmax(scores)
    expected = torch.softmax(torch.from_numpy(scores), dim=-1).numpy()
    np.testing.assert_array_equal(weights[scores == -np.inf], 0.0)
    np.testing.assert_allclose(weights, expected, rtol=1e-15, atol=0)


def test_a_fully_masked_row_is_a_clear_error():
    q, k, v = np.zeros((3, 2)), np.zeros((4, 2)), np.zeros((4, 1))
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    with pytest.raises(ValueError, match=r"mask allows no key for query row \(1,\)"):
        attention.scaled_dot_product_attention(q, k, v, mask)


def test_causal_mask_by_hand():
    np.testing.assert_array_equal(
        attention.causal_mask(3),
        [[True, False, False], [True, True, False], [True, True, True]],
    )
    assert attention.causal_mask(0).shape == (0, 0)
    # the same as torch's is_causal: the lower triangle, diagonal included
    ones = torch.ones(4, 4, dtype=torch.bool)
    np.testing.assert_array_equal(attention.causal_mask(4), torch.tril(ones).numpy())


# -- multi-head attention --------------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", range(10))
def test_multi_head_attention_matches_torch(seed, masked):
    rng = np.random.default_rng(seed)
    num_heads = int(rng.integers(1, 4))
    E = num_heads * int(rng.integers(1, 4))
    L, S = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    torch.manual_seed(seed)
    layer = nn.MultiheadAttention(E, num_heads, dtype=torch.float64)
    with torch.no_grad():  # nonzero biases, so that they are tested too
        layer.in_proj_bias.normal_()
        layer.out_proj.bias.normal_()
    query = rng.standard_normal((L, E))
    key, value = rng.standard_normal((S, E)), rng.standard_normal((S, E))
    mask = random_mask(rng, (L, S)) if masked else None
    expected, expected_weights = layer(
        *(torch.from_numpy(a) for a in (query, key, value)),
        attn_mask=None if mask is None else torch.from_numpy(~mask),  # torch: True = no
        need_weights=True,
        average_attn_weights=False,
    )
    output, weights = attention.multi_head_attention(
        query,
        key,
        value,
        num_heads,
        layer.in_proj_weight.detach().numpy(),
        layer.in_proj_bias.detach().numpy(),
        layer.out_proj.weight.detach().numpy(),
        layer.out_proj.bias.detach().numpy(),
        mask=mask,
    )
    np.testing.assert_allclose(output, expected.detach().numpy(), atol=1e-12)
    assert weights.shape == (num_heads, L, S)
    np.testing.assert_allclose(weights, expected_weights.detach().numpy(), atol=1e-12)


# -- bad input -------------------------------------------------------------------------


def test_sdpa_bad_input():
    q, k, v = np.zeros((3, 4)), np.zeros((5, 4)), np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"q and k must have the same last axis"):
        attention.scaled_dot_product_attention(q, np.zeros((5, 3)), v)
    with pytest.raises(ValueError, match=r"k and v must hold the same number of keys"):
        attention.scaled_dot_product_attention(q, k, np.zeros((4, 2)))
    with pytest.raises(
        ValueError, match=r"q must have shape \(\.\.\., n, d\), got \(4,\)"
    ):
        attention.scaled_dot_product_attention(np.zeros(4), k, v)
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        attention.scaled_dot_product_attention(q, k, v, np.ones((3, 5)))
    with pytest.raises(
        ValueError, match=r"mask must broadcast to .* \(3, 5\), got \(3, 4\)"
    ):
        attention.scaled_dot_product_attention(q, k, v, np.ones((3, 4), dtype=bool))


def test_cosine_attention_bad_input():
    keys, values = np.eye(2), np.eye(2)
    with pytest.raises(ValueError, match="nonzero vectors"):
        attention.cosine_attention(np.zeros(2), keys, values)
    with pytest.raises(ValueError, match="query and keys must have the same last axis"):
        attention.cosine_attention(np.ones(3), keys, values)
    with pytest.raises(ValueError, match="keys and values must hold the same number"):
        attention.cosine_attention(np.ones(2), keys, np.eye(3))
    with pytest.raises(ValueError, match=r"keys must not be empty, got shape \(0, 2\)"):
        attention.cosine_attention(np.ones(2), np.zeros((0, 2)), np.zeros((0, 2)))


def test_shape_errors_name_both_arguments_and_their_shapes():
    with pytest.raises(
        ValueError, match=r"q has shape \(3, 4\), k has shape \(5, 3\)$"
    ):
        attention.scaled_dot_product_attention(
            np.zeros((3, 4)), np.zeros((5, 3)), np.zeros((5, 2))
        )
    with pytest.raises(
        ValueError,
        match=r"^key must have shape \(S, 4\), got \(3, 5\): E is 4 in query",
    ):
        attention.multi_head_attention(
            np.zeros((2, 4)), np.zeros((3, 5)), np.zeros((3, 5)), 2, *[None] * 4
        )


def test_multi_head_attention_bad_input():
    E = 4
    args = dict(
        query=np.zeros((2, E)),
        key=np.zeros((3, E)),
        value=np.zeros((3, E)),
        num_heads=2,
        in_proj_weight=np.zeros((3 * E, E)),
        in_proj_bias=np.zeros(3 * E),
        out_proj_weight=np.zeros((E, E)),
        out_proj_bias=np.zeros(E),
    )
    with pytest.raises(
        ValueError, match="num_heads must divide the embedding size E = 4"
    ):
        attention.multi_head_attention(**args | {"num_heads": 3})
    with pytest.raises(
        ValueError, match=r"key and value must both have shape \(S, 4\)"
    ):
        attention.multi_head_attention(**args | {"value": np.zeros((2, E))})
    with pytest.raises(ValueError, match=r"in_proj_weight must have shape \(12, 4\)"):
        attention.multi_head_attention(**args | {"in_proj_weight": np.zeros((8, E))})
    with pytest.raises(ValueError, match=r"mask allows no key for query row \(1,\)"):
        attention.multi_head_attention(
            **args, mask=np.array([[True, True, True], [False, False, False]])
        )
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        attention.causal_mask(-1)
