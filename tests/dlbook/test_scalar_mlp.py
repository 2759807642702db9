"""Tests for dlbook.scalar_mlp: gradients against an equivalent torch network, learning
XOR and two moons (from dlbook.data), and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlbook.autograd import Value
from dlbook.data import XOR_T, XOR_X, make_moons
from dlbook.scalar_mlp import (
    MLP,
    Layer,
    Neuron,
    accuracy,
    logistic_loss,
    predict,
    train,
)

TOL = 1e-9
TORCH_ACT = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "linear": lambda z: z,
}


def torch_copy(model: MLP):
    """The model's weights as float64 torch tensors: one (W, b) pair per layer."""
    params = []
    for layer in model.layers:
        W = torch.tensor(
            [[w.data for w in n.w] for n in layer.neurons],
            dtype=torch.float64,
            requires_grad=True,
        )
        b = torch.tensor(
            [n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True
        )
        params.append((W, b))
    return params


def torch_forward(params, X, activation):
    h = X
    for k, (W, b) in enumerate(params):
        h = h @ W.T + b
        if k < len(params) - 1:
            h = TORCH_ACT[activation](h)
    return h


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("sizes", [[1], [3, 1], [5, 4, 1], [4, 3]])
def test_forward_and_gradients_match_torch(activation, sizes):
    rng = np.random.default_rng(len(sizes) * 10 + len(activation))
    n_in = int(rng.integers(1, 5))
    model = MLP(n_in, sizes, activation=activation, seed=int(rng.integers(1000)))
    X = rng.normal(size=(7, n_in))
    targets = rng.normal(size=(7, sizes[-1]))

    # Our engine: squared error summed over examples and outputs.
    loss = Value(0.0)
    outs = []
    for x, t in zip(X, targets):
        out = model(list(x))
        out = [out] if isinstance(out, Value) else out
        outs.append([o.data for o in out])
        loss = loss + sum((o - float(ti)) ** 2 for o, ti in zip(out, t))
    model.zero_grad()
    loss.backward()

    params = torch_copy(model)
    out_t = torch_forward(params, torch.tensor(X, dtype=torch.float64), activation)
    loss_t = ((out_t - torch.tensor(targets, dtype=torch.float64)) ** 2).sum()
    loss_t.backward()

    np.testing.assert_allclose(np.array(outs), out_t.detach().numpy(), atol=TOL, rtol=0)
    assert abs(loss.data - loss_t.item()) < TOL * max(1.0, abs(loss_t.item()))
    for layer, (W, b) in zip(model.layers, params):
        grad_W = np.array([[w.grad for w in n.w] for n in layer.neurons])
        grad_b = np.array([n.b.grad for n in layer.neurons])
        np.testing.assert_allclose(grad_W, W.grad.numpy(), atol=TOL, rtol=0)
        np.testing.assert_allclose(grad_b, b.grad.numpy(), atol=TOL, rtol=0)


def test_gradients_flow_into_value_inputs():
    """When the inputs are Values, the neuron's one-node weighted sum passes dL/dx back
    too."""
    model = MLP(3, [4, 1], seed=5)
    xs = [Value(0.3), Value(-1.2), Value(0.8)]
    model(xs).backward()
    params = torch_copy(model)
    xt = torch.tensor([[0.3, -1.2, 0.8]], dtype=torch.float64, requires_grad=True)
    torch_forward(params, xt, "tanh").sum().backward()
    np.testing.assert_allclose(
        [x.grad for x in xs], xt.grad.numpy()[0], atol=TOL, rtol=0
    )


def test_logistic_loss_matches_torch_bce_with_logits():
    for score in (-30.0, -2.5, 0.0, 0.7, 12.0):
        for label in (0, 1):
            s = Value(score)
            loss = logistic_loss(s, label)
            loss.backward()
            st = torch.tensor(score, dtype=torch.float64, requires_grad=True)
            lt = torch.nn.functional.binary_cross_entropy_with_logits(
                st, torch.tensor(float(label), dtype=torch.float64)
            )
            lt.backward()
            assert abs(loss.data - lt.item()) < TOL
            assert abs(s.grad - st.grad.item()) < TOL


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learns_xor(seed):
    X, y = XOR_X, XOR_T
    model = MLP(2, [4, 1], seed=seed)
    losses = train(model, X, y, steps=300, lr=0.5)
    assert losses[-1] < 0.1 < losses[0]
    assert accuracy(model, X, y) == 1.0
    np.testing.assert_array_equal(predict(model, X), [0, 1, 1, 0])


def test_learns_two_moons():
    X, y = make_moons(50, noise=0.1, seed=0)
    X_test, y_test = make_moons(300, noise=0.1, seed=1)
    model = MLP(2, [8, 8, 1], seed=0)
    losses = train(model, X, y, steps=150, lr=0.5)
    assert losses[-1] < 0.25 * losses[0]
    assert accuracy(model, X, y) >= 0.95
    assert accuracy(model, X_test, y_test) >= 0.9


def test_training_step_is_gradient_descent():
    """One train step must move each parameter by exactly -lr * (the gradient computed
    by torch)."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(6, 2))
    y = np.array([0, 1, 1, 0, 1, 0])
    model = MLP(2, [3, 1], seed=4)
    params = torch_copy(model)
    scores = torch_forward(params, torch.tensor(X), "tanh")[:, 0]
    loss_t = torch.nn.functional.binary_cross_entropy_with_logits(
        scores, torch.tensor(y, dtype=torch.float64)
    )
    loss_t = loss_t + 0.01 * sum((W**2).sum() + (b**2).sum() for W, b in params)
    loss_t.backward()
    history = train(model, X, y, steps=1, lr=0.3, weight_decay=0.01)
    assert abs(history[0] - loss_t.item()) < TOL
    for layer, (W, b) in zip(model.layers, params):
        new_W = np.array([[w.data for w in n.w] for n in layer.neurons])
        np.testing.assert_allclose(
            new_W, (W - 0.3 * W.grad).detach().numpy(), atol=TOL, rtol=0
        )
        new_b = np.array([n.b.data for n in layer.neurons])
        np.testing.assert_allclose(
            new_b, (b - 0.3 * b.grad).detach().numpy(), atol=TOL, rtol=0
        )


def test_structure_and_parameter_count():
    model = MLP(2, [8, 8, 1])
    assert len(model.parameters()) == (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    assert [len(layer.neurons) for layer in model.layers] == [8, 8, 1]
    assert [n.activation for n in model.layers[-1].neurons] == ["linear"]
    assert all(
        n.activation == "tanh" for layer in model.layers[:-1] for n in layer.neurons
    )
    assert len(model([0.1, 0.2]).parents) > 0
    assert isinstance(MLP(2, [3, 2])([0.1, 0.2]), list)


def test_same_seed_same_model():
    a, b = MLP(3, [4, 1], seed=9), MLP(3, [4, 1], seed=9)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    c = MLP(3, [4, 1], seed=10)
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]


# --------------------------------------------------------------------------------------
# Clear errors
# --------------------------------------------------------------------------------------
def test_errors():
    model = MLP(2, [3, 1])
    with pytest.raises(ValueError, match="x must have 2 entries"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="activation must be one of .* got 'swish'"):
        MLP(2, [3, 1], activation="swish")
    with pytest.raises(ValueError, match="activation must be one of"):
        Neuron(2, activation="step")
    with pytest.raises(ValueError, match=r"layer_sizes must not be empty, got \[\]"):
        MLP(2, [])
    with pytest.raises(TypeError, match="layer_sizes must be a list of ints, got 3"):
        MLP(2, 3)
    with pytest.raises(TypeError, match="layer_sizes must be a list of ints"):
        MLP(2, "31")
    with pytest.raises(ValueError, match="each layer size must be an int >= 1, got 0"):
        MLP(2, [3, 0])
    with pytest.raises(
        TypeError, match=r"each layer size must be an int >= 1, got 2\.0"
    ):
        MLP(2, [2.0, 1])
    with pytest.raises(ValueError, match="n_in must be an int >= 1, got 0"):
        MLP(0, [1])
    with pytest.raises(TypeError, match="n_in must be an int >= 1, got True"):
        MLP(True, [1])
    with pytest.raises(ValueError, match="n_out must be an int >= 1, got -1"):
        Layer(2, -1)
    X, y = XOR_X, XOR_T
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\), got \(4, 3\)"):
        train(model, np.ones((4, 3)), y)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\), got \(3,\)"):
        train(model, X, y[:3])
    with pytest.raises(ValueError, match="0/1 labels"):
        train(model, X, np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"lr must be a positive number, got 0\.0"):
        train(model, X, y, lr=0.0)
    with pytest.raises(ValueError, match="steps must be an int >= 1, got 0"):
        train(model, X, y, steps=0)
    with pytest.raises(TypeError, match="model must be an MLP"):
        train("model", X, y)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        predict(model, np.ones(2))
    with pytest.raises(ValueError, match="label must be 0 or 1, got -1"):
        logistic_loss(Value(0.0), -1)
    with pytest.raises(TypeError, match="label must be a number, got True"):
        logistic_loss(Value(0.0), True)
    assert logistic_loss(Value(0.0), 1.0).data == logistic_loss(Value(0.0), 1).data
    with pytest.raises(TypeError, match=r"score must be a Value, got 0\.0"):
        logistic_loss(0.0, 1)
