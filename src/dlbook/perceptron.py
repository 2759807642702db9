"""One neuron (chapter 1): the perceptron, its learning rule, and logistic/softmax
regression.

A neuron with weights ``w`` and bias ``b`` maps an input ``x`` to ``y = f(w . x + b)``.

- With ``f = sign`` it is Rosenblatt's perceptron. Its squared-error loss is flat almost
  everywhere, so gradients are useless; the *perceptron learning rule*
  ``w <- w + lr d x``, ``b <- b + lr d`` (applied only to a mistake) fixes one mistake
  at a time.
- With ``f = sigmoid`` it is logistic regression, trained by gradient descent on the
  cross-entropy; with K outputs and a softmax it is softmax (multinomial) regression.

Conventions: a data set is ``X`` of shape (N, D) (one example per row) and targets
``d`` of shape (N,). Perceptron targets are -1/+1; logistic targets are 0/1; softmax
labels are the integers 0..K-1. Weight matrices have the shape ``torch.nn.Linear`` uses:
(K, D). The lecture's table and XOR are in ``dlbook.data``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dlbook import checks
from dlbook.activations import log_softmax, sigmoid, sign, softmax, softplus

__all__ = [
    "neuron",
    "squared_error_loss",
    "perceptron_update",
    "PerceptronResult",
    "train_perceptron",
    "separating_parameters",
    "binary_cross_entropy_with_logits",
    "logistic_regression_gradient",
    "LinearFit",
    "fit_logistic_regression",
    "fit_softmax_regression",
]


# -- checks that only this module needs ------------------------------------------------
def _signed_targets(d, n: int) -> np.ndarray:
    """n perceptron targets, each -1 or +1 (one per row of X)."""
    d = checks.array(d, "d", shape=(n,))
    if not np.all(np.isin(d, (-1.0, 1.0))):
        raise ValueError(
            f"d must hold only -1 and +1 (the sign unit's outputs), got {np.unique(d)}"
        )
    return d


def _binary_targets(t, n: int) -> np.ndarray:
    """n logistic targets, each a probability in [0, 1] (one per row of X)."""
    t = checks.array(t, "t", shape=(n,))
    if np.any((t < 0) | (t > 1)):
        raise ValueError(
            "t must hold probabilities in [0, 1] (usually the labels 0 and 1), "
            f"got values from {t.min():g} to {t.max():g}"
        )
    return t


def _labels(labels, n: int, n_classes: int) -> np.ndarray:
    """n class labels in 0..n_classes-1 (one per row of X)."""
    labels = checks.labels(labels, "labels", n_classes)
    return checks.has_shape(labels, "labels", (n,))


# -- the perceptron --------------------------------------------------------------------
def neuron(X, w, b, f: Callable = sign) -> np.ndarray:
    """Outputs y = f(X w + b) of one neuron for every row of X; shape (N,)."""
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    w = checks.array(w, "w", shape=(X.shape[1],))  # one weight per column of X
    b = checks.number(b, "b")
    f = checks.function(f, "f")
    return np.asarray(f(X @ w + b), dtype=np.float64)


def squared_error_loss(X, d, w, b, f: Callable = sign) -> float:
    """L = sum_i (d_i - y_i)^2, the lecture's loss: with f = sign, 4 per wrong row."""
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    d = checks.array(d, "d", shape=(X.shape[0],))  # one target per row of X
    return float(np.sum((d - neuron(X, w, b, f)) ** 2))


def _is_mistake(x, d: float, w, b: float) -> bool:
    """True when the example is not strictly on its correct side: d (w . x + b) <= 0.

    A point exactly on the boundary (z = 0) counts as a mistake, so the rule keeps going
    until every example has a positive margin, not merely sign(0) = +1 luck.
    """
    x = checks.array(x, "x", shape=("D",))
    d = checks.number(d, "d")
    w = checks.array(w, "w", shape=x.shape)  # one weight per entry of x
    b = checks.number(b, "b")
    return bool(d * (float(x @ w) + b) <= 0)


def perceptron_update(
    x, d: float, w, b: float, lr: float = 1.0
) -> tuple[np.ndarray, float]:
    """One step of the perceptron rule on one example (x, d) with d = -1 or +1;
    returns (w, b).

        if d (w . x + b) <= 0:   w <- w + lr d x,   b <- b + lr d
        otherwise nothing changes.

    For a wrong prediction y = -d this is the lecture's w <- w + (lr/2) (d - y) x. The
    step raises the score d (w . x + b) of this example by lr (|x|^2 + 1) > 0: towards
    correct.
    """
    x = checks.array(x, "x", shape=("D",))
    d = checks.number(d, "d")
    if d not in (-1.0, 1.0):
        raise ValueError(f"d must be -1 or +1, got {d:g}")
    w = checks.array(w, "w", shape=x.shape)  # one weight per entry of x
    b = checks.number(b, "b")
    lr = checks.positive(lr, "lr")
    if _is_mistake(x, d, w, b):
        return w + lr * d * x, b + lr * d
    return w.copy(), b


@dataclass
class PerceptronResult:
    """What ``train_perceptron`` returns.

    w, b:       the final parameters;
    converged:  True if the last epoch made no mistake (then every row is classified
                right);
    epochs:     passes over the data that were made (the last one is the mistake-free
                one);
    updates:    how many mistakes were corrected in all;
    trace:      (epoch, row, w, b) after every update, for plotting the path.
    """

    w: np.ndarray
    b: float
    converged: bool
    epochs: int
    updates: int
    trace: list[tuple[int, int, np.ndarray, float]] = field(default_factory=list)


def train_perceptron(
    X,
    d,
    w0=None,
    b0: float = 0.0,
    lr: float = 1.0,
    max_epochs: int = 100,
    order: Sequence[int] | None = None,
) -> PerceptronResult:
    """Cycle through the rows (in ``order``, default 0..N-1), applying the perceptron
    rule, until an epoch makes no mistake or ``max_epochs`` passes are done.

    If the data are linearly separable the rule stops after finitely many updates
    (Novikoff: at most (R / gamma)^2 with R the largest |(x, 1)| and gamma the margin);
    if they are not, as for XOR, it never stops and ``converged`` is False.
    """
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    n, dim = X.shape
    d = _signed_targets(d, n)
    w = np.zeros(dim) if w0 is None else checks.array(w0, "w0", shape=(dim,))
    b = checks.number(b0, "b0")
    lr = checks.positive(lr, "lr")
    max_epochs = checks.integer(max_epochs, "max_epochs", minimum=1)
    order = list(range(n)) if order is None else [int(i) for i in order]
    if sorted(order) != list(range(n)):
        raise ValueError(f"order must be a permutation of 0..{n - 1}, got {order}")
    trace: list[tuple[int, int, np.ndarray, float]] = []
    for epoch in range(1, max_epochs + 1):
        mistakes = 0
        for i in order:
            if _is_mistake(X[i], d[i], w, b):  # only a mistake moves the parameters
                mistakes += 1
                w, b = perceptron_update(X[i], d[i], w, b, lr)
                trace.append((epoch, i, w.copy(), b))
        if mistakes == 0:
            return PerceptronResult(w, b, True, epoch, len(trace), trace)
    return PerceptronResult(w, b, False, max_epochs, len(trace), trace)


def separating_parameters(X, d, values: Sequence[float]) -> np.ndarray:
    """Exhaustive search: every (w_1, ..., w_D, b) with each entry taken from ``values``
    for which sign(X w + b) = d on all rows. Returns an array of shape (M, D + 1),
    M >= 0.

    An empty result on a fine grid is evidence (not proof) that no line separates the
    data; the proof for XOR is the contradiction between its four inequalities
    (chapter 1).
    """
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    n, dim = X.shape
    d = _signed_targets(d, n)
    values = checks.array(values, "values", shape=("M",), nonempty=True)
    n_candidates = values.size ** (dim + 1)
    if n_candidates > 5_000_000:
        raise ValueError(
            f"values give {values.size}^{dim + 1} = {n_candidates} candidates; "
            "use fewer values (at most 5,000,000 candidates)"
        )
    grids = np.meshgrid(*([values] * (dim + 1)), indexing="ij")
    params = np.stack([g.ravel() for g in grids], axis=1)  # (M, D + 1): w_1..w_D, b
    scores = params[:, :dim] @ X.T + params[:, dim:]  # (M, N)
    ok = np.all(np.where(scores >= 0, 1.0, -1.0) == d, axis=1)
    return params[ok]


# -- logistic regression: one sigmoid neuron -------------------------------------------
def binary_cross_entropy_with_logits(z, t) -> float:
    """Mean of -[t log sigma(z) + (1 - t) log(1 - sigma(z))] over the examples, as
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Using log sigma(z) = -softplus(-z) and log(1 - sigma(z)) = -softplus(z), the loss is
    softplus(z) - t z, which never takes the log of 0 however large |z| is.
    """
    z = checks.array(z, "z", shape=("N",))
    t = _binary_targets(t, z.shape[0])
    return float(np.mean(np.asarray(softplus(z)) - t * z))


def logistic_regression_gradient(X, t, w, b) -> tuple[np.ndarray, float]:
    """Gradient of the mean cross-entropy: dL/dz_i = (sigma(z_i) - t_i) / N, so
    dL/dw = X^T (p - t) / N and dL/db = mean(p - t)."""
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    t = _binary_targets(t, X.shape[0])
    p = neuron(X, w, b, sigmoid)
    residual = (p - t) / X.shape[0]
    return X.T @ residual, float(residual.sum())


@dataclass
class LinearFit:
    """Parameters after gradient descent and the loss before each step (and after the
    last)."""

    w: np.ndarray
    b: np.ndarray | float
    losses: np.ndarray


def fit_logistic_regression(
    X, t, lr: float = 0.1, steps: int = 1000, w0=None, b0: float = 0.0
) -> LinearFit:
    """Full-batch gradient descent on the mean binary cross-entropy. Returns w (D,), b,
    and the losses (steps + 1,)."""
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    t = _binary_targets(t, X.shape[0])
    lr = checks.positive(lr, "lr")
    steps = checks.integer(steps, "steps", minimum=0)
    dim = X.shape[1]
    w = np.zeros(dim) if w0 is None else checks.array(w0, "w0", shape=(dim,))
    b = checks.number(b0, "b0")
    losses = []
    for _ in range(steps):
        losses.append(binary_cross_entropy_with_logits(X @ w + b, t))
        gw, gb = logistic_regression_gradient(X, t, w, b)
        w, b = w - lr * gw, b - lr * gb
    losses.append(binary_cross_entropy_with_logits(X @ w + b, t))
    return LinearFit(w, b, np.array(losses))


# -- softmax regression: K neurons and a softmax ---------------------------------------
def _cross_entropy(logits, labels) -> float:
    """Mean over rows of -log softmax(logits)[label], as
    ``torch.nn.functional.cross_entropy``."""
    logits = checks.array(logits, "logits", shape=("N", "K"), nonempty=True)
    labels = _labels(labels, logits.shape[0], logits.shape[1])
    logp = log_softmax(logits, axis=1)
    return float(-np.mean(logp[np.arange(logits.shape[0]), labels]))


def _one_hot(labels, n_classes: int) -> np.ndarray:
    """Rows of the K x K identity picked by the labels: shape (N, K), as
    ``torch.nn.functional.one_hot``."""
    n_classes = checks.integer(n_classes, "n_classes", minimum=1)
    labels = checks.labels(labels, "labels", n_classes)
    return np.eye(n_classes)[labels]


def _softmax_regression_gradient(X, labels, W, b) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the mean cross-entropy of softmax(X W^T + b): with P the
    probabilities and Y the one-hot labels, dL/dZ = (P - Y) / N, so
    dL/dW = (P - Y)^T X / N and dL/db = mean(P - Y)."""
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    W = checks.array(W, "W", shape=("K", X.shape[1]), nonempty=True)  # (K, D) as X
    b = checks.array(b, "b", shape=(W.shape[0],))  # one bias per row of W
    labels = _labels(labels, X.shape[0], W.shape[0])
    residual = (softmax(X @ W.T + b, axis=1) - _one_hot(labels, W.shape[0])) / X.shape[
        0
    ]
    return residual.T @ X, residual.sum(axis=0)


def fit_softmax_regression(
    X, labels, n_classes: int, lr: float = 0.1, steps: int = 1000, W0=None, b0=None
) -> LinearFit:
    """Full-batch gradient descent on the mean cross-entropy of a K-class linear
    classifier. Returns W (K, D), b (K,) and the losses (steps + 1,)."""
    X = checks.array(X, "X", shape=("N", "D"), nonempty=True)
    n_classes = checks.integer(n_classes, "n_classes", minimum=2)
    labels = _labels(labels, X.shape[0], n_classes)
    lr = checks.positive(lr, "lr")
    steps = checks.integer(steps, "steps", minimum=0)
    shape = (n_classes, X.shape[1])
    W = np.zeros(shape) if W0 is None else checks.array(W0, "W0", shape=shape)
    K = n_classes
    b = np.zeros(K) if b0 is None else checks.array(b0, "b0", shape=(K,))
    losses = []
    for _ in range(steps):
        losses.append(_cross_entropy(X @ W.T + b, labels))
        gW, gb = _softmax_regression_gradient(X, labels, W, b)
        W, b = W - lr * gW, b - lr * gb
    losses.append(_cross_entropy(X @ W.T + b, labels))
    return LinearFit(W, b, np.array(losses))
