"""Tests for dlbook.perceptron: the book's worked examples, theorems, and torch as the
oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import perceptron as pc
from dlbook.data import LECTURE_D, LECTURE_X, XOR_T, XOR_X


def separable_data(seed, n=40, dim=2, margin=0.2):
    """Random points labelled by a random hyperplane, keeping only those at least
    ``margin`` away."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(dim)
    w_true /= np.linalg.norm(w_true)
    b_true = rng.uniform(-0.5, 0.5)
    X = rng.uniform(-3, 3, size=(6 * n, dim))
    score = X @ w_true + b_true
    keep = np.abs(score) >= margin
    X, score = X[keep][:n], score[keep][:n]
    return X, np.where(score > 0, 1.0, -1.0), w_true, b_true


def classifies_all(X, d, w, b) -> bool:
    """True when the sign neuron gives the -1/+1 targets d on every row of X."""
    return bool(np.all(pc.neuron(X, w, b) == d))


# -- the neuron and the lecture's loss -------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_neuron_matches_torch_linear_then_sign(seed):
    rng = np.random.default_rng(seed)
    X, w, b = (
        rng.standard_normal((20, 3)),
        rng.standard_normal(3),
        float(rng.standard_normal()),
    )
    z = F.linear(
        torch.tensor(X),
        torch.tensor(w)[None, :],
        torch.tensor([b], dtype=torch.float64),
    )[:, 0]
    np.testing.assert_array_equal(
        pc.neuron(X, w, b), torch.where(z >= 0, 1.0, -1.0).numpy()
    )
    np.testing.assert_allclose(
        pc.neuron(X, w, b, np.tanh), torch.tanh(z).numpy(), rtol=1e-12
    )


def test_lecture_table_loss_worked_by_hand():
    # w = 0, b = 0: every z is 0, sign(0) = +1, so rows 1-3 (d = -1) are wrong, 4 each:
    # L = 12
    assert pc.squared_error_loss(LECTURE_X, LECTURE_D, [0, 0], 0) == 12.0
    # w = (1, 1), b = -3.5: z = -1.5, -0.5, -0.5, 0.5 -> all right
    assert pc.squared_error_loss(LECTURE_X, LECTURE_D, [1, 1], -3.5) == 0.0
    assert classifies_all(LECTURE_X, LECTURE_D, [1, 1], -3.5)
    # w = (1, 1), b = -3: (1, 2) and (2, 1) score 0 -> +1, both wrong: L = 8
    assert pc.squared_error_loss(LECTURE_X, LECTURE_D, [1, 1], -3) == 8.0


@pytest.mark.parametrize("seed", range(5))
def test_squared_error_loss_is_four_times_the_number_of_mistakes(seed):
    rng = np.random.default_rng(seed)
    X, w, b = (
        rng.standard_normal((30, 2)),
        rng.standard_normal(2),
        float(rng.standard_normal()),
    )
    d = rng.choice([-1.0, 1.0], 30)
    mistakes = sum((1.0 if x @ w + b >= 0 else -1.0) != t for x, t in zip(X, d))
    assert pc.squared_error_loss(X, d, w, b) == 4 * mistakes


# -- the perceptron rule ---------------------------------------------------------------
def test_perceptron_update_by_hand():
    # w = 0, b = 0 and (x, d) = ((1, 2), -1): z = 0 is a mistake -> w = -(1, 2), b = -1
    w, b = pc.perceptron_update([1, 2], -1, [0, 0], 0.0)
    assert w.tolist() == [-1.0, -2.0] and b == -1.0
    # already right with margin: nothing moves
    w, b = pc.perceptron_update([1, 2], 1, [1, 1], 0.0, lr=0.5)
    assert w.tolist() == [1.0, 1.0] and b == 0.0
    # wrong, lr = 0.5: w = (1, 1) - 0.5 (2, 1) = (0, 0.5), b = 1 - 0.5
    w, b = pc.perceptron_update([2, 1], -1, [1, 1], 1.0, lr=0.5)
    assert w.tolist() == [0.0, 0.5] and b == 0.5


@pytest.mark.parametrize("seed", range(10))
def test_a_mistake_raises_the_score_by_lr_times_norm_squared_plus_one(seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(4), rng.standard_normal(4)
    b, lr = float(rng.standard_normal()), float(rng.uniform(0.1, 2))
    d = -1.0 if x @ w + b >= 0 else 1.0  # make it a mistake
    new_w, new_b = pc.perceptron_update(x, d, w, b, lr)
    before, after = d * (x @ w + b), d * (x @ new_w + new_b)
    assert after - before == pytest.approx(lr * (x @ x + 1))


def test_lecture_table_is_solved():
    result = pc.train_perceptron(LECTURE_X, LECTURE_D)
    assert result.converged
    scores = LECTURE_X @ result.w + result.b
    assert np.all(LECTURE_D * scores > 0)  # strictly on the right side, not on the line
    assert result.updates == len(result.trace)
    # the trace replays: each recorded step is a perceptron_update from the previous
    # state
    w, b = np.zeros(2), 0.0
    for _, i, w_after, b_after in result.trace:
        w, b = pc.perceptron_update(LECTURE_X[i], LECTURE_D[i], w, b)
        np.testing.assert_array_equal(w, w_after)
        assert b == b_after


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dim", [2, 3, 5])
def test_novikoff_bound_on_random_separable_data(seed, dim):
    X, d, w_true, b_true = separable_data(seed, dim=dim)
    result = pc.train_perceptron(X, d, max_epochs=10_000)
    assert result.converged and classifies_all(X, d, result.w, result.b)
    # any unit vector u = (w, b)/|(w, b)| that separates gives a margin gamma;
    # updates <= (R/gamma)^2
    u = np.append(w_true, b_true)
    u /= np.linalg.norm(u)
    Xa = np.hstack([X, np.ones((len(X), 1))])
    gamma = np.min(d * (Xa @ u))
    radius = np.max(np.linalg.norm(Xa, axis=1))
    assert gamma > 0
    assert result.updates <= (radius / gamma) ** 2


def test_scaling_the_learning_rate_scales_the_weights_from_zero():
    X, d, _, _ = separable_data(3)
    r1 = pc.train_perceptron(X, d, lr=1.0)
    r2 = pc.train_perceptron(X, d, lr=0.25)
    np.testing.assert_allclose(r2.w, 0.25 * r1.w)
    assert r2.b == pytest.approx(0.25 * r1.b) and r2.updates == r1.updates


def test_xor_never_converges_and_cycles():
    result = pc.train_perceptron(XOR_X, 2 * XOR_T - 1, max_epochs=50)
    assert not result.converged and result.epochs == 50
    assert not classifies_all(XOR_X, 2 * XOR_T - 1, result.w, result.b)


def test_order_changes_the_path_but_still_separates():
    X, d, _, _ = separable_data(4, n=10)
    result = pc.train_perceptron(X, d, order=list(reversed(range(10))))
    assert result.converged and classifies_all(X, d, result.w, result.b)


# -- exhaustive search for a separating line -------------------------------------------
def brute_force_search(X, d, values):
    found = []
    for params in itertools.product(values, repeat=X.shape[1] + 1):
        w, b = np.array(params[:-1]), params[-1]
        if all((1.0 if x @ w + b >= 0 else -1.0) == t for x, t in zip(X, d)):
            found.append(params)
    return np.array(found, dtype=float).reshape(-1, X.shape[1] + 1)


@pytest.mark.parametrize("seed", range(4))
def test_separating_parameters_match_a_brute_force_loop(seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(5, 2)).astype(float)
    d = rng.choice([-1.0, 1.0], 5)
    values = np.linspace(-2, 2, 9)
    np.testing.assert_array_equal(
        pc.separating_parameters(X, d, values), brute_force_search(X, d, values)
    )


def test_separating_parameters_lecture_versus_xor():
    values = np.arange(-6, 6.5, 0.5)
    found = pc.separating_parameters(LECTURE_X, LECTURE_D, values)
    assert len(found) > 0
    assert any(np.allclose(p, [1, 1, -3.5]) for p in found)
    assert len(pc.separating_parameters(XOR_X, 2 * XOR_T - 1, values)) == 0


# -- logistic and softmax regression against torch -------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_binary_cross_entropy_matches_torch(seed):
    rng = np.random.default_rng(seed)
    z = 5 * rng.standard_normal(50)
    z[:2] = [-800.0, 800.0]  # far out in the tails: still exact, no log(0)
    t = rng.integers(0, 2, 50).astype(float)
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(t)
    ).item()
    assert pc.binary_cross_entropy_with_logits(z, t) == pytest.approx(
        expected, rel=1e-12
    )


@pytest.mark.parametrize("seed", range(5))
def test_logistic_gradient_matches_autograd(seed):
    rng = np.random.default_rng(seed)
    X, t = rng.standard_normal((25, 3)), rng.integers(0, 2, 25).astype(float)
    w, b = rng.standard_normal(3), float(rng.standard_normal())
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(
        torch.tensor(X) @ tw + tb, torch.tensor(t)
    )
    loss.backward()
    gw, gb = pc.logistic_regression_gradient(X, t, w, b)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-10)
    assert gb == pytest.approx(tb.grad.item(), rel=1e-10)


def torch_gradient_descent(model, loss_fn, lr, steps):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("seed", range(3))
def test_fit_logistic_regression_takes_the_same_steps_as_torch_sgd(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 2))
    t = (X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(40) > 0).astype(float)
    fit = pc.fit_logistic_regression(X, t, lr=0.5, steps=200)
    model = torch.nn.Linear(2, 1).double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    torch_gradient_descent(
        model,
        lambda m: F.binary_cross_entropy_with_logits(
            m(torch.tensor(X))[:, 0], torch.tensor(t)
        ),
        0.5,
        200,
    )
    np.testing.assert_allclose(fit.w, model.weight.detach().numpy()[0], rtol=1e-9)
    assert fit.b == pytest.approx(model.bias.item(), rel=1e-9, abs=1e-12)
    assert fit.losses.shape == (201,) and fit.losses[-1] < fit.losses[
        0
    ] == pytest.approx(np.log(2))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [2, 3, 5])
def test_cross_entropy_and_its_gradient_match_torch(seed, k):
    rng = np.random.default_rng(seed)
    X, labels = rng.standard_normal((30, 4)), rng.integers(0, k, 30)
    W, b = rng.standard_normal((k, 4)), rng.standard_normal(k)
    tW = torch.tensor(W, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    loss = F.cross_entropy(F.linear(torch.tensor(X), tW, tb), torch.tensor(labels))
    loss.backward()
    assert pc._cross_entropy(X @ W.T + b, labels) == pytest.approx(
        loss.item(), rel=1e-12
    )
    gW, gb = pc._softmax_regression_gradient(X, labels, W, b)
    np.testing.assert_allclose(gW, tW.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_fit_softmax_regression_takes_the_same_steps_as_torch_sgd():
    rng = np.random.default_rng(11)
    X, labels = rng.standard_normal((60, 2)), rng.integers(0, 3, 60)
    W0, b0 = 0.1 * rng.standard_normal((3, 2)), 0.1 * rng.standard_normal(3)
    fit = pc.fit_softmax_regression(X, labels, 3, lr=0.3, steps=150, W0=W0, b0=b0)
    model = torch.nn.Linear(2, 3).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor(W0))
        model.bias.copy_(torch.tensor(b0))
    torch_gradient_descent(
        model,
        lambda m: F.cross_entropy(m(torch.tensor(X)), torch.tensor(labels)),
        0.3,
        150,
    )
    np.testing.assert_allclose(
        fit.w, model.weight.detach().numpy(), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        fit.b, model.bias.detach().numpy(), rtol=1e-9, atol=1e-12
    )


def test_one_hot_matches_torch():
    labels = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(
        pc._one_hot(labels, 4), F.one_hot(torch.tensor(labels), 4).numpy()
    )


# -- bad input -------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    X, d = LECTURE_X, LECTURE_D
    with pytest.raises(ValueError, match=r"X must have shape \(N, D\), got \(4,\)"):
        pc.neuron(X[:, 0], [1.0], 0.0)
    with pytest.raises(ValueError, match=r"w must have shape \(2,\), got \(3,\)"):
        pc.neuron(X, [1.0, 2.0, 3.0], 0.0)
    with pytest.raises(TypeError, match="b must be a number, got '0'"):
        pc.neuron(X, [1.0, 2.0], "0")
    with pytest.raises(TypeError, match="b must be a number, got True"):
        pc.neuron(X, [1.0, 2.0], True)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        pc.neuron(np.array([["a", "b"]]), [1.0, 2.0], 0.0)
    with pytest.raises(TypeError, match="f must be a function"):
        pc.neuron(X, [1.0, 2.0], 0.0, f="sign")
    with pytest.raises(ValueError, match="X must not be empty"):
        pc.neuron(np.zeros((0, 2)), [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="d must hold only -1 and \\+1"):
        pc.train_perceptron(X, [0, 0, 0, 1])
    with pytest.raises(ValueError, match=r"d must have shape \(4,\), got \(2,\)"):
        pc.train_perceptron(X, [1, -1])
    with pytest.raises(ValueError, match="d must be -1 or \\+1, got 0"):
        pc.perceptron_update([1, 1], 0, [0, 0], 0.0)
    with pytest.raises(ValueError, match="lr must be a positive number, got 0"):
        pc.perceptron_update([1, 1], 1, [0, 0], 0.0, lr=0)
    with pytest.raises(ValueError, match=r"w must have shape \(2,\), got \(3,\)"):
        pc._is_mistake([1, 1], 1, [0, 0, 0], 0.0)
    with pytest.raises(ValueError, match="order must be a permutation"):
        pc.train_perceptron(X, d, order=[0, 0, 1, 2])
    with pytest.raises(ValueError, match="max_epochs must be an int >= 1, got 0"):
        pc.train_perceptron(X, d, max_epochs=0)
    with pytest.raises(TypeError, match=r"max_epochs must be an int >= 1, got 10\.0"):
        pc.train_perceptron(X, d, max_epochs=10.0)
    with pytest.raises(ValueError, match="candidates"):
        pc.separating_parameters(np.zeros((2, 5)), [1, -1], np.arange(30.0))
    with pytest.raises(ValueError, match="values must not be empty"):
        pc.separating_parameters(X, d, [])
    with pytest.raises(ValueError, match=r"t must hold probabilities"):
        pc.binary_cross_entropy_with_logits([0.0, 1.0], [0.0, 2.0])
    with pytest.raises(ValueError, match=r"labels must hold labels in 0..2, got 3"):
        pc._cross_entropy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(TypeError, match="labels must hold integer labels"):
        pc._cross_entropy(np.zeros((2, 3)), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\), got \(3,\)"):
        pc._cross_entropy(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"W must have shape \(K, 2\), got \(2, 3\)"):
        pc._softmax_regression_gradient(X, [0, 1, 0, 1], np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(
        ValueError, match=r"labels must have shape \(N,\), got \(2, 2\)"
    ):
        pc._one_hot(np.zeros((2, 2), dtype=int), 3)
    with pytest.raises(ValueError, match="n_classes must be an int >= 2, got 1"):
        pc.fit_softmax_regression(X, [0, 0, 0, 0], 1)
    with pytest.raises(ValueError, match=r"W0 must have shape \(3, 2\), got \(2, 2\)"):
        pc.fit_softmax_regression(X, [0, 1, 2, 0], 3, W0=np.zeros((2, 2)))
    with pytest.raises(TypeError, match="steps must be an int >= 0, got '5'"):
        pc.fit_logistic_regression(X, [0, 0, 0, 1], steps="5")
