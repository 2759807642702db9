"""Oracle tests for dlbook.rnn: the NumPy RNN, LSTM and GRU against torch.nn.RNN,
torch.nn.LSTM and torch.nn.GRU holding the same weights, on random shapes, and the
errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import activations, rnn

torch.set_num_threads(1)


def random_sizes(seed: int) -> tuple[np.random.Generator, int, int, int, int]:
    rng = np.random.default_rng(seed)
    T, N, D, H = (int(v) for v in rng.integers(1, 7, size=4))
    return rng, T, N, D, H


def torch_layer(kind: str, D: int, H: int, seed: int, **options) -> nn.Module:
    torch.manual_seed(seed)
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    return layer(D, H, dtype=torch.float64, **options)


def params(layer: nn.Module) -> dict[str, np.ndarray]:
    """The layer's parameters as NumPy arrays, named as dlbook.rnn names them."""
    names = {"weight_ih_l0": "w_ih", "weight_hh_l0": "w_hh"}
    names |= {"bias_ih_l0": "b_ih", "bias_hh_l0": "b_hh"}
    return {names[k]: v.detach().numpy() for k, v in layer.named_parameters()}


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_rnn_matches_torch(seed, bias, nonlinearity):
    rng, T, N, D, H = random_sizes(seed)
    layer = torch_layer("rnn", D, H, seed, bias=bias, nonlinearity=nonlinearity)
    x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    expected, expected_h = layer(torch.from_numpy(x), torch.from_numpy(h0)[None])
    outputs, h_T = rnn.rnn_forward(x, h0, **params(layer), nonlinearity=nonlinearity)
    assert outputs.shape == (T, N, H) and h_T.shape == (N, H)
    np.testing.assert_allclose(outputs, expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h_T, expected_h[0].detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_lstm_matches_torch(seed):
    rng, T, N, D, H = random_sizes(seed)
    layer = torch_layer("lstm", D, H, seed)
    x = rng.standard_normal((T, N, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    state = (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])
    expected, (expected_h, expected_c) = layer(torch.from_numpy(x), state)
    outputs, (h_T, c_T) = rnn.lstm_forward(x, h0, c0, **params(layer))
    assert outputs.shape == (T, N, H)
    np.testing.assert_allclose(outputs, expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h_T, expected_h[0].detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c_T, expected_c[0].detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_gru_matches_torch(seed):
    rng, T, N, D, H = random_sizes(seed)
    layer = torch_layer("gru", D, H, seed)
    x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    expected, expected_h = layer(torch.from_numpy(x), torch.from_numpy(h0)[None])
    outputs, h_T = rnn.gru_forward(x, h0, **params(layer))
    np.testing.assert_allclose(outputs, expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h_T, expected_h[0].detach().numpy(), atol=1e-12)


def test_gru_reset_gate_acts_after_the_matrix_product():
    # W_hn (r * h) is a different layer: with the same weights it must not match torch.
    rng, T, N, D, H = np.random.default_rng(0), 4, 2, 3, 5
    layer = torch_layer("gru", D, H, 0)
    p = params(layer)
    x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    expected = layer(torch.from_numpy(x), torch.from_numpy(h0)[None])[0]
    h = h0
    for x_t in x:  # the other convention, written out
        a_x = x_t @ p["w_ih"].T + p["b_ih"]
        w_hr, w_hz, w_hn = np.split(p["w_hh"], 3)
        b_hr, b_hz, b_hn = np.split(p["b_hh"], 3)
        r = activations.sigmoid(a_x[:, :H] + h @ w_hr.T + b_hr)
        z = activations.sigmoid(a_x[:, H : 2 * H] + h @ w_hz.T + b_hz)
        n = np.tanh(a_x[:, 2 * H :] + (r * h) @ w_hn.T + b_hn)
        h = (1 - z) * n + z * h
    assert np.abs(h - expected[-1].detach().numpy()).max() > 1e-3


def test_first_step_by_hand():
    # One step of a 1-unit RNN: h1 = tanh(w_ih x + w_hh h0 + b_ih + b_hh).
    outputs, h = rnn.rnn_forward(
        [[[2.0]]], [[0.5]], [[0.3]], [[-1.0]], b_ih=[0.1], b_hh=[0.2]
    )
    assert h[0, 0] == pytest.approx(np.tanh(0.3 * 2 - 0.5 + 0.1 + 0.2))
    assert outputs.shape == (1, 1, 1)


def test_zero_length_sequence_returns_the_initial_state():
    h0 = np.ones((2, 3))
    outputs, h = rnn.gru_forward(
        np.zeros((0, 2, 4)), h0, np.zeros((9, 4)), np.zeros((9, 3)), None, None
    )
    assert outputs.shape == (0, 2, 3)
    np.testing.assert_array_equal(h, h0)


def test_the_gates_use_the_one_sigmoid_of_dlbook_activations():
    assert rnn.sigmoid is activations.sigmoid and "sigmoid" not in rnn.__all__
    a = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):
        s = rnn.sigmoid(a)
    np.testing.assert_allclose(s, torch.sigmoid(torch.from_numpy(a)).numpy())


# -- bad input ---------------------------------------------------------------------


def good_rnn_args(gates: int = 1) -> dict:
    T, N, D, H = 3, 2, 4, 5
    return dict(
        x=np.zeros((T, N, D)),
        h0=np.zeros((N, H)),
        w_ih=np.zeros((gates * H, D)),
        w_hh=np.zeros((gates * H, H)),
        b_ih=np.zeros(gates * H),
        b_hh=np.zeros(gates * H),
    )


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("x", np.zeros((3, 4)), r"x must have shape \(T, N, D\), got \(3, 4\)"),
        ("h0", np.zeros((3, 5)), r"h0 must .* shape \(2, H\), got \(3, 5\)"),
        ("h0", np.zeros(5), r"h0 must have shape \(N, H\), got \(5,\)"),
        ("w_ih", np.zeros((5, 3)), r"w_ih must have shape \(5, 4\), got \(5, 3\)"),
        ("w_hh", np.zeros((4, 5)), r"w_hh must have shape \(5, 5\), got \(4, 5\)"),
        ("b_ih", np.zeros(4), r"b_ih must have shape \(5,\), got \(4,\)"),
        ("b_hh", np.zeros((5, 1)), r"b_hh must have shape \(5,\), got \(5, 1\)"),
    ],
)
def test_rnn_bad_shapes(name, value, message):
    args = good_rnn_args() | {name: value}
    with pytest.raises(ValueError, match=message):
        rnn.rnn_forward(**args)


def test_rnn_bad_nonlinearity():
    with pytest.raises(
        ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"
    ):
        rnn.rnn_forward(**good_rnn_args(), nonlinearity="sigmoid")


def test_lstm_wants_four_gates_and_a_cell_state_like_h0():
    args = good_rnn_args(gates=4)
    with pytest.raises(ValueError, match=r"c0 must have shape \(2, 5\), got \(2, 4\)"):
        rnn.lstm_forward(c0=np.zeros((2, 4)), **args)
    args = good_rnn_args(gates=3)  # a GRU's weights
    with pytest.raises(ValueError, match=r"w_ih must have shape \(20, 4\)"):
        rnn.lstm_forward(c0=np.zeros((2, 5)), **args)


def test_gru_wants_three_gates():
    with pytest.raises(ValueError, match=r"w_ih must have shape \(15, 4\)"):
        rnn.gru_forward(**good_rnn_args(gates=4))


def test_shape_errors_name_both_arguments_and_their_shapes():
    args = good_rnn_args() | {"h0": np.zeros((3, 5))}
    with pytest.raises(
        ValueError,
        match=r"^h0 must have shape \(2, H\), got \(3, 5\): N is 2 in x, which has "
        r"shape \(3, 2, 4\)$",
    ):
        rnn.rnn_forward(**args)


def test_non_numbers_are_refused():
    args = good_rnn_args() | {"x": [["a"]]}
    with pytest.raises((TypeError, ValueError), match="x must"):
        rnn.rnn_forward(**args)
