"""A tiny multilayer perceptron made of scalar ``Value`` objects (chapter 3).

Everything here is deliberately scalar and slow: each weight is one ``Value``, each
neuron computes ``f(w . x + b)`` and ``loss.backward()`` walks the whole graph in pure
Python. The point is that nothing is hidden: a network is a list of layers, a layer a
list of neurons, a neuron a list of weights and a bias.

    model = MLP(2, [8, 1], activation="tanh", seed=0)
    losses = train(model, X, y, steps=100, lr=0.5)

The data sets the chapter trains on, XOR and two moons, are in ``dlbook.data``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dlbook import checks
from dlbook.autograd import Value

__all__ = [
    "Neuron",
    "Layer",
    "MLP",
    "logistic_loss",
    "train",
    "predict",
    "accuracy",
]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


class Neuron:
    """y = f(w . x + b) with n_in weights and one bias, all Values.

    Weights start as N(0, 1/n_in) samples (variance 1/n_in keeps w . x of order one when
    the inputs are), the bias at 0.
    """

    def __init__(
        self,
        n_in: int,
        activation: str = "tanh",
        rng: np.random.Generator | None = None,
    ) -> None:
        n_in = checks.integer(n_in, "n_in", minimum=1)
        self.activation = checks.one_of(activation, "activation", ACTIVATIONS)
        rng = rng if rng is not None else np.random.default_rng(0)
        scale = 1.0 / math.sqrt(n_in)
        self.w = [Value(float(rng.normal(0.0, scale))) for _ in range(n_in)]
        self.b = Value(0.0)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(
                f"x must have {len(self.w)} entries (the neuron's n_in), got {len(x)}"
            )
        # The weighted sum as ONE graph node with many parents. Its local derivatives
        # are dz/dw_i = x_i, dz/dx_i = w_i (only when x_i is a Value) and dz/db = 1.
        # Building it from 2 n_in separate * and + nodes gives the same gradients,
        # about 3x more slowly.
        xs = [xi.data if isinstance(xi, Value) else float(xi) for xi in x]
        z_data = self.b.data + sum(wi.data * xv for wi, xv in zip(self.w, xs))
        parents: list[Value] = [*self.w, self.b]
        local: list[float] = [*xs, 1.0]
        for wi, xi in zip(self.w, x):
            if isinstance(xi, Value):
                parents.append(xi)
                local.append(wi.data)
        z = Value(z_data, parents, local, "w.x+b")
        if self.activation == "linear":
            return z
        return getattr(z, self.activation)()

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer:
    """n_out neurons that all read the same input vector."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str = "tanh",
        rng: np.random.Generator | None = None,
    ) -> None:
        n_out = checks.integer(n_out, "n_out", minimum=1)
        rng = rng if rng is not None else np.random.default_rng(0)
        self.neurons = [Neuron(n_in, activation, rng) for _ in range(n_out)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    """Stacked layers: hidden layers use ``activation``, the last layer is linear.

    MLP(2, [8, 1]) maps 2 inputs through 8 hidden units to 1 output. Calling the model
    on one input vector returns a Value when the last layer has one unit, else a list of
    Values.
    """

    def __init__(
        self,
        n_in: int,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        seed: int = 0,
    ) -> None:
        n_in = checks.integer(n_in, "n_in", minimum=1)
        shown = checks.describe(layer_sizes)
        is_text = isinstance(layer_sizes, (str, bytes))
        if is_text or not isinstance(layer_sizes, Sequence):
            raise TypeError(f"layer_sizes must be a list of ints, got {shown}")
        if not layer_sizes:
            raise ValueError(f"layer_sizes must not be empty, got {shown}")
        sizes = [checks.integer(s, "each layer size", minimum=1) for s in layer_sizes]
        sizes = [n_in, *sizes]
        activation = checks.one_of(activation, "activation", ACTIVATIONS)
        rng = np.random.default_rng(seed)
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation if i < len(sizes) - 2 else "linear",
                rng,
            )
            for i in range(len(sizes) - 1)
        ]
        self.n_in = n_in

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Sequence[Value | float] = x
        for layer in self.layers:
            out = layer(out)
        return out[0] if len(out) == 1 else list(out)

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def logistic_loss(score: Value, label: int) -> Value:
    """Binary cross-entropy of a raw score: log(1 + exp(-s score)), s = +1 for label 1,
    -1 for label 0 (``torch.nn.functional.binary_cross_entropy_with_logits``).

    This equals -log sigma(score) for label 1 and -log(1 - sigma(score)) for label 0.
    """
    score = checks.instance(score, "score", Value)
    label = checks.number(label, "label")
    if label not in (0.0, 1.0):
        raise ValueError(f"label must be 0 or 1, got {label:g}")
    sign = 1.0 if label == 1 else -1.0
    return (1.0 + (-sign * score).exp()).log()


def _check_data(X, y, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """A data set for a model with n_in inputs: X (N, n_in), y (N,) of 0/1 labels."""
    X = checks.array(X, "X", shape=("N", n_in))
    y = checks.array(y, "y", shape=(X.shape[0],), dtype=None)  # one label per row of X
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y must hold 0/1 labels only, got {np.unique(y)}")
    return X, y.astype(int)


def train(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    steps: int = 100,
    lr: float = 0.5,
    weight_decay: float = 0.0,
) -> list[float]:
    """Full-batch gradient descent on the mean logistic loss; returns the loss before
    each step.

    Each step: forward every example, average the losses (plus weight_decay * sum w^2),
    zero the gradients, backward, then p <- p - lr * dL/dp for every parameter.
    """
    model = checks.instance(model, "model", MLP)
    X, y = _check_data(X, y, model.n_in)
    steps = checks.integer(steps, "steps", minimum=1)
    lr = checks.positive(lr, "lr")
    weight_decay = checks.number(weight_decay, "weight_decay")
    params = model.parameters()
    history = []
    for _ in range(steps):
        losses = [logistic_loss(model(list(x)), int(t)) for x, t in zip(X, y)]
        loss = sum(losses) * (1.0 / len(losses))
        if weight_decay:
            loss = loss + weight_decay * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        history.append(loss.data)
    return history


def predict(model: MLP, X: np.ndarray) -> np.ndarray:
    """Predicted labels (1 where the score is positive) for each row of X."""
    model = checks.instance(model, "model", MLP)
    X = checks.array(X, "X", shape=("N", model.n_in))
    return np.array([int(model(list(x)).data > 0.0) for x in X])


def accuracy(model: MLP, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of X whose predicted label equals y."""
    model = checks.instance(model, "model", MLP)
    X, y = _check_data(X, y, model.n_in)
    return float(np.mean(predict(model, X) == y))
