"""Oracle tests for dlbook.activations: values against torch, derivatives against
autograd."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlbook import activations as act

SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5), (64,)]


def random_inputs(shape, seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal(shape)


def torch_value_and_grad(torch_f, z):
    """torch_f(z) and d/dz of it, element-wise, by autograd (float64)."""
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = torch_f(t)
    (grad,) = torch.autograd.grad(out.sum(), t)
    return out.detach().numpy(), grad.numpy()


# (our function, our derivative, the same function in torch)
SMOOTH_AND_RECTIFIERS = {
    "sigmoid": (act.sigmoid, act.sigmoid_grad, torch.sigmoid),
    "tanh": (act.tanh, act.tanh_grad, torch.tanh),
    "relu": (act.relu, act.relu_grad, F.relu),
    "leaky_relu": (
        act.leaky_relu,
        act.leaky_relu_grad,
        lambda t: F.leaky_relu(t, 0.01),
    ),
    "leaky_relu_0.2": (
        lambda z: act.leaky_relu(z, alpha=0.2),
        lambda z: act.leaky_relu_grad(z, alpha=0.2),
        lambda t: F.leaky_relu(t, 0.2),
    ),
    "softplus": (act.softplus, act.softplus_grad, F.softplus),
    "elu": (act.elu, act.elu_grad, F.elu),
    "elu_0.5": (
        lambda z: act.elu(z, alpha=0.5),
        lambda z: act.elu_grad(z, alpha=0.5),
        lambda t: F.elu(t, alpha=0.5),
    ),
    "swish": (act.swish, act.swish_grad, F.silu),
    "swish_beta2": (
        lambda z: act.swish(z, beta=2.0),
        lambda z: act.swish_grad(z, beta=2.0),
        lambda t: t * torch.sigmoid(2.0 * t),
    ),
    "gelu": (act.gelu, act.gelu_grad, F.gelu),
    "gelu_tanh": (
        lambda z: act.gelu(z, approximate="tanh"),
        lambda z: act.gelu_grad(z, approximate="tanh"),
        lambda t: F.gelu(t, approximate="tanh"),
    ),
    "sine": (act.sine, act.sine_grad, torch.sin),
}


@pytest.mark.parametrize("name", sorted(SMOOTH_AND_RECTIFIERS))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_value_and_derivative_match_torch(name, shape, seed):
    f, df, torch_f = SMOOTH_AND_RECTIFIERS[name]
    z = random_inputs(shape, seed)
    expected_value, expected_grad = torch_value_and_grad(torch_f, z)
    value, grad = f(z), df(z)
    if shape == ():
        assert isinstance(value, float) and isinstance(grad, float)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SMOOTH_AND_RECTIFIERS))
def test_extreme_inputs_match_torch_without_warnings(name):
    f, df, torch_f = SMOOTH_AND_RECTIFIERS[name]
    z = np.array([-1000.0, -40.0, -1e-8, 1e-8, 40.0, 1000.0])
    expected_value, expected_grad = torch_value_and_grad(torch_f, z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would raise here
        value, grad = f(z), df(z)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize(
    "name", ["relu", "leaky_relu", "leaky_relu_0.2", "elu", "elu_0.5"]
)
def test_derivative_at_the_kink_uses_torchs_convention(name):
    f, df, torch_f = SMOOTH_AND_RECTIFIERS[name]
    _, expected = torch_value_and_grad(torch_f, np.array([0.0]))
    np.testing.assert_allclose(df(np.array([0.0])), expected)


@pytest.mark.parametrize("seed", range(4))
def test_step_and_sign_match_torch(seed):
    z = random_inputs((50,), seed)
    z[:5] = 0.0  # the convention at 0 matters: both give the "on" value there
    t = torch.tensor(z)
    np.testing.assert_array_equal(
        act.step(z), torch.heaviside(t, torch.tensor(1.0, dtype=torch.float64)).numpy()
    )
    np.testing.assert_array_equal(act.sign(z), torch.where(t >= 0, 1.0, -1.0).numpy())
    assert act.sign(0.0) == 1.0 and act.step(0.0) == 1.0 and act.step(-1e-300) == 0.0
    assert np.all(act.step_grad(z) == 0) and np.all(act.sign_grad(z) == 0)
    # autograd of torch.sign agrees: zero everywhere (why a sign network cannot be
    # trained by gradient descent)
    _, g = torch_value_and_grad(torch.sign, z[5:])
    np.testing.assert_array_equal(act.sign_grad(z[5:]), g)


def test_lecture_identity_tanh_is_a_rescaled_sigmoid():
    z = random_inputs((1000,), 3)
    np.testing.assert_allclose(act.tanh(z), 2 * act.sigmoid(2 * z) - 1, atol=1e-14)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-700, max_value=700))
def test_sigmoid_symmetry_and_softplus_gradient(z):
    assert math.isclose(
        act.sigmoid(-z), 1 - act.sigmoid(z), rel_tol=1e-12, abs_tol=1e-15
    )
    assert act.softplus_grad(z) == act.sigmoid(z)
    assert 0 <= act.sigmoid(z) <= 1


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
def test_every_catalogued_derivative_matches_a_finite_difference(name):
    a = act.ACTIVATIONS[name]
    z = random_inputs((400,), 7, scale=4.0)
    # keep away from the kinks, where the derivative does not exist
    for kink in a.kinks:
        z = z[np.abs(z - kink) > 1e-3]
    numeric = act.numerical_derivative(a.function, z)
    np.testing.assert_allclose(a.derivative(z), numeric, rtol=1e-6, atol=1e-8)


def test_numerical_derivative_error_shrinks_like_h_squared():
    z = np.array([0.3])
    errors = [
        abs(act.numerical_derivative(np.sin, z, h)[0] - math.cos(0.3))
        for h in (1e-1, 1e-2)
    ]
    assert 80 < errors[0] / errors[1] < 120  # (1e-1 / 1e-2)^2 = 100


@pytest.mark.parametrize(
    "name, torch_f, expected_min",
    [("swish", F.silu, -0.2785), ("GELU", F.gelu, -0.1700)],
)
def test_catalogue_lower_bounds_are_the_true_minima(name, torch_f, expected_min):
    grid = torch.linspace(-5, 5, 2_000_001, dtype=torch.float64)
    true_min = float(torch_f(grid).min())
    assert round(true_min, 4) == expected_min
    assert act.ACTIVATIONS[name].output_range.startswith(f"[{expected_min:.4f}")


def test_catalogue_ranges_hold_on_a_wide_grid():
    z = np.linspace(-30, 30, 60001)
    assert set(np.unique(act.step(z))) == {0.0, 1.0}
    assert set(np.unique(act.sign(z))) == {-1.0, 1.0}
    # strict bounds: sigmoid and tanh approach but never reach them (checked where not
    # rounded)
    inner = np.linspace(-15, 15, 3001)
    assert 0 < act.sigmoid(inner).min() and act.sigmoid(inner).max() < 1
    assert -1 < act.tanh(inner).min() and act.tanh(inner).max() < 1
    assert act.softplus(inner).min() > 0
    assert act.elu(z).min() > -1.0
    assert act.relu(z).min() == 0.0


@pytest.mark.parametrize(
    "shape, axis",
    [((5,), -1), ((3, 4), 1), ((3, 4), 0), ((2, 3, 6), -1), ((2, 3, 6), 1)],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_and_log_softmax_match_torch(shape, axis, seed):
    z = random_inputs(shape, seed, scale=10.0)
    t = torch.tensor(z)
    np.testing.assert_allclose(
        act.softmax(z, axis=axis),
        torch.softmax(t, dim=axis).numpy(),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        act.log_softmax(z, axis=axis),
        torch.log_softmax(t, dim=axis).numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


def test_softmax_of_huge_scores_does_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = act.softmax(np.array([1000.0, 1001.0, 1002.0]))
    np.testing.assert_allclose(
        p, torch.softmax(torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), 0).numpy()
    )


def test_two_class_softmax_is_the_sigmoid_of_the_difference():
    z = random_inputs((100, 2), 5)
    np.testing.assert_allclose(
        act.softmax(z)[:, 1], act.sigmoid(z[:, 1] - z[:, 0]), atol=1e-14
    )


def test_integer_and_list_inputs_are_accepted():
    assert act.relu([-2, 3]).tolist() == [0.0, 3.0]
    assert act.sigmoid(0) == 0.5


@pytest.mark.parametrize(
    "bad", ["1.0", b"x", np.array(["a"]), np.array([1 + 2j]), [[1, 2], [3]], None]
)
def test_non_real_input_raises_type_error_naming_z(bad):
    with pytest.raises(TypeError, match="z"):
        act.sigmoid(bad)


def test_bad_parameters_raise_clear_errors():
    with pytest.raises(ValueError, match=r"alpha must be a number >= 0, got -0\.1"):
        act.leaky_relu(1.0, alpha=-0.1)
    with pytest.raises(ValueError, match=r"alpha must be a positive number, got 0\.0"):
        act.elu(1.0, alpha=0.0)
    with pytest.raises(TypeError, match="alpha must be a positive number, got 'big'"):
        act.elu(1.0, alpha="big")
    with pytest.raises(TypeError, match="alpha must be a number >= 0, got True"):
        act.leaky_relu(1.0, alpha=True)
    with pytest.raises(ValueError, match="beta must be a finite number, got nan"):
        act.swish(1.0, beta=float("nan"))
    with pytest.raises(
        ValueError, match="approximate must be 'none' or 'tanh', got 'erf'"
    ):
        act.gelu(1.0, approximate="erf")
    with pytest.raises(ValueError, match="scalar"):
        act.softmax(3.0)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        act.softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match=r"axis must be an int, got 0\.5"):
        act.softmax(np.zeros(3), axis=0.5)
    with pytest.raises(TypeError, match=r"axis must be an int"):
        act.log_softmax(np.zeros(3), axis="0")
    with pytest.raises(ValueError, match=r"h must be a positive number, got 0\.0"):
        act.numerical_derivative(np.sin, 0.0, h=0.0)
    with pytest.raises(TypeError, match=r"f must be a function, got 3\.0"):
        act.numerical_derivative(3.0, 0.0)


def test_boolean_arrays_are_not_numbers():
    with pytest.raises(TypeError, match="z must hold real numbers, got .* dtype bool"):
        act.relu(np.array([True, False]))
