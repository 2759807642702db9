"""Gradient descent and the optimizers built on it, from scratch in NumPy (chapter 2).

Every method here minimises a differentiable loss ``L`` over a vector ``x`` by repeating

    x_{t+1} = x_t - (a step computed from the gradients seen so far).

- ``gradient_descent(grad, x0, lr, steps)``: the plain rule ``x <- x - lr * grad(x)``.
- ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``, ``RMSProp``, ``Adam``, ``AdamW``:
  optimizer objects with one method, ``step(x, g) -> new x``. Each takes exactly the
  steps of the ``torch.optim`` class of the same name and hyper-parameters (the tests
  check this).
- ``optimize(optimizer, grad, x0, steps)``: run any of them and return the iterates.
- ``exact_line_search(A, b, x0, steps)``: steepest descent with the best step length, on
  a quadratic; ``quadratic_rate(kappa)``: its worst-case rate
  ((kappa - 1) / (kappa + 1))^2.
- ``newton_step`` / ``newton``: the second-order step ``x - H^{-1} g``.
- ``clip_by_norm(g, max_norm)``: shrink a gradient to norm at most ``max_norm``.

Iterates are returned as an array of shape ``(steps + 1, dim)``: row 0 is the start.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlbook import checks

GradFn = Callable[[np.ndarray], np.ndarray]

__all__ = [
    "gradient_descent",
    "optimize",
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "AdamW",
    "exact_line_search",
    "quadratic_rate",
    "newton_step",
    "newton",
    "clip_by_norm",
]


def _vector(value: object, name: str) -> np.ndarray:
    """A float64 copy of ``value`` as a 1-D array; a number is a vector of length 1."""
    x = checks.array(value, name, finite=True, nonempty=True)
    x = x.reshape(1) if x.ndim == 0 else x  # a 1-D problem may pass plain numbers
    return checks.has_shape(x, name, ("dim",))


def _gradient_at(grad: GradFn, x: np.ndarray) -> np.ndarray:
    """Call ``grad`` on a copy of ``x`` (so it cannot change our iterate), check the
    answer."""
    g = np.asarray(grad(x.copy()), dtype=np.float64)
    if g.shape != x.shape:
        if g.size == x.size == 1:  # a 1-D problem may return a plain number
            return g.reshape(x.shape)
        raise ValueError(
            f"grad must return an array of shape {x.shape} (the shape of x), "
            f"got shape {g.shape}"
        )
    return g


# -- plain gradient descent ------------------------------------------------------------
def gradient_descent(grad: GradFn, x0: object, lr: float, steps: int) -> np.ndarray:
    """Plain gradient descent, ``x_{t+1} = x_t - lr * grad(x_t)``.

    grad:  function returning the gradient of the loss at x (an array of x's shape).
    x0:    starting point, a 1-D array of length dim (a scalar counts as dim = 1).
    lr:    learning rate alpha > 0.
    steps: number of updates.

    Returns the iterates x_0, x_1, ..., x_steps as an array of shape (steps + 1, dim).
    Nothing stops a run whose learning rate is too large: the iterates then grow, which
    is exactly what the chapter wants to show.
    """
    grad = checks.function(grad, "grad")
    x = _vector(x0, "x0")
    lr = checks.positive(lr, "lr")
    steps = checks.integer(steps, "steps", minimum=0)
    iterates = np.empty((steps + 1, x.size))
    iterates[0] = x
    for t in range(steps):
        x = x - lr * _gradient_at(grad, x)
        iterates[t + 1] = x
    return iterates


# -- optimizers with state -------------------------------------------------------------
class Optimizer:
    """Base class: ``step(x, g)`` returns the next iterate; the object keeps the running
    state.

    ``weight_decay`` (lambda) adds lambda * x to the gradient (an L2 penalty
    lambda/2 ||x||^2), the way ``torch.optim`` applies it in every class but ``AdamW``.
    """

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr = checks.positive(lr, "lr")
        self.weight_decay = checks.number(weight_decay, "weight_decay", minimum=0)
        self.reset()

    def reset(self) -> None:
        """Forget the step count and every running average."""
        self.t = 0
        self._dim: int | None = None

    def step(self, x: object, g: object) -> np.ndarray:
        """One update from the point ``x`` with gradient ``g``; return the new point."""
        x = _vector(x, "x")
        g = _vector(g, "g")
        if g.shape != x.shape:
            raise ValueError(
                f"g must have the shape of x {x.shape}, got shape {g.shape}"
            )
        if self._dim is not None and x.size != self._dim:
            raise ValueError(
                f"x has length {x.size} but this optimizer was stepping a vector of "
                f"length {self._dim}; call reset() to start a new problem"
            )
        self._dim = x.size
        self.t += 1
        return self._update(x, g)

    def _update(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _with_weight_decay(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g + self.weight_decay * x if self.weight_decay else g

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.startswith("_")
            and k not in ("t",)
            and not isinstance(v, np.ndarray)
        )
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Stochastic gradient descent: ``x <- x - lr * g`` (``torch.optim.SGD(lr=lr)``).

    "Stochastic" refers to where g comes from (a random mini-batch), not to the rule.
    """

    def _update(self, x, g):
        return x - self.lr * self._with_weight_decay(x, g)


class Momentum(Optimizer):
    """Heavy-ball momentum (``torch.optim.SGD(lr=lr, momentum=beta)``).

        m_t = beta * m_{t-1} + g_t      (m_1 = g_1)
        x_t = x_{t-1} - lr * m_t

    m is a running sum of past gradients, sum_k beta^k g_{t-k}: directions that keep
    agreeing build up speed (up to 1/(1 - beta) times), directions that flip sign cancel
    out.
    """

    nesterov = False

    def __init__(self, lr: float, beta: float = 0.9, weight_decay: float = 0.0) -> None:
        self.beta = checks.in_range(beta, "beta", 0, 1)
        super().__init__(lr, weight_decay)

    def reset(self) -> None:
        super().reset()
        self.m: np.ndarray | None = None

    def _update(self, x, g):
        g = self._with_weight_decay(x, g)
        self.m = g.copy() if self.m is None else self.beta * self.m + g
        # Nesterov looks ahead: it steps along the gradient plus the momentum it is
        # about to apply, g + beta * m, instead of m alone (PyTorch's form of
        # Nesterov's method).
        direction = g + self.beta * self.m if self.nesterov else self.m
        return x - self.lr * direction


class Nesterov(Momentum):
    """Nesterov momentum (``torch.optim.SGD(lr=lr, momentum=beta, nesterov=True)``).

    m_t = beta * m_{t-1} + g_t
    x_t = x_{t-1} - lr * (g_t + beta * m_t)
    """

    nesterov = True


class AdaGrad(Optimizer):
    """AdaGrad (``torch.optim.Adagrad(lr=lr, eps=eps)``): a step size per coordinate.

        s_t = s_{t-1} + g_t^2                      (element-wise)
        x_t = x_{t-1} - lr * g_t / (sqrt(s_t) + eps)

    Coordinates with large past gradients get small steps. s only grows, so the steps
    shrink like 1/sqrt(t) for a steady gradient.
    """

    def __init__(
        self, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0
    ) -> None:
        self.eps = checks.number(eps, "eps", minimum=0)
        super().__init__(lr, weight_decay)

    def reset(self) -> None:
        super().reset()
        self.s: np.ndarray | None = None

    def _update(self, x, g):
        g = self._with_weight_decay(x, g)
        self.s = g * g if self.s is None else self.s + g * g
        return x - self.lr * (g / (np.sqrt(self.s) + self.eps))


class RMSProp(Optimizer):
    """RMSProp (``torch.optim.RMSprop(lr=lr, alpha=alpha, eps=eps)``).

        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2     (v_0 = 0)
        x_t = x_{t-1} - lr * g_t / (sqrt(v_t) + eps)

    AdaGrad with a forgetting sum: v is a moving average of g^2, so the step size adapts
    to recent gradients instead of shrinking for ever.
    """

    def __init__(
        self,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.alpha = checks.in_range(alpha, "alpha", 0, 1)
        self.eps = checks.number(eps, "eps", minimum=0)
        super().__init__(lr, weight_decay)

    def reset(self) -> None:
        super().reset()
        self.v: np.ndarray | None = None

    def _update(self, x, g):
        g = self._with_weight_decay(x, g)
        previous = np.zeros_like(g) if self.v is None else self.v
        self.v = self.alpha * previous + (1 - self.alpha) * (g * g)
        return x - self.lr * (g / (np.sqrt(self.v) + self.eps))


class Adam(Optimizer):
    """Adam (``torch.optim.Adam(lr=lr, betas=betas, eps=eps)``), Kingma and Ba (2015).

    m_t = beta1 * m_{t-1} + (1 - beta1) * g_t        momentum (mean of g)
    v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2      RMSProp (mean of g^2)
    m_hat = m_t / (1 - beta1^t)                      undo the bias of m_0 = 0
    v_hat = v_t / (1 - beta2^t)                      undo the bias of v_0 = 0
    x_t = x_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            shown = checks.describe(betas)
            raise TypeError(f"betas must be a pair (beta1, beta2), got {shown}")
        self.betas = (
            checks.in_range(betas[0], "betas[0]", 0, 1),
            checks.in_range(betas[1], "betas[1]", 0, 1),
        )
        self.eps = checks.number(eps, "eps", minimum=0)
        super().__init__(lr, weight_decay)

    def reset(self) -> None:
        super().reset()
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None

    def _adam_step(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        beta1, beta2 = self.betas
        m = np.zeros_like(g) if self.m is None else self.m
        v = np.zeros_like(g) if self.v is None else self.v
        self.m = beta1 * m + (1 - beta1) * g
        self.v = beta2 * v + (1 - beta2) * g * g
        m_hat = self.m / (1 - beta1**self.t)
        v_hat = self.v / (1 - beta2**self.t)
        return x - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _update(self, x, g):
        return self._adam_step(x, self._with_weight_decay(x, g))


class AdamW(Adam):
    """AdamW (``torch.optim.AdamW``), Adam with *decoupled* weight decay (Loshchilov and
    Hutter).

        x <- (1 - lr * lambda) * x,   then an Adam step with the plain gradient g.

    In ``Adam(weight_decay=lambda)`` the penalty's gradient lambda * x is divided by
    sqrt(v_hat) like any other gradient, so weights with large gradients are barely
    decayed. AdamW shrinks every weight by the same factor instead.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay)

    def _update(self, x, g):
        return self._adam_step((1 - self.lr * self.weight_decay) * x, g)


def optimize(optimizer: Optimizer, grad: GradFn, x0: object, steps: int) -> np.ndarray:
    """Run ``optimizer`` from ``x0`` for ``steps`` updates; return the iterates, shape
    (steps + 1, dim).

    The optimizer is reset first, so the same object can run several problems.
    """
    optimizer = checks.instance(optimizer, "optimizer", Optimizer)
    grad = checks.function(grad, "grad")
    x = _vector(x0, "x0")
    steps = checks.integer(steps, "steps", minimum=0)
    optimizer.reset()
    iterates = np.empty((steps + 1, x.size))
    iterates[0] = x
    for t in range(steps):
        x = optimizer.step(x, _gradient_at(grad, x))
        iterates[t + 1] = x
    return iterates


# -- quadratics: exact line search and its rate ----------------------------------------
def _check_quadratic(A: object, b: object) -> tuple[np.ndarray, np.ndarray]:
    """Check a quadratic's A and b: A symmetric positive definite, b of A's size."""
    b = _vector(b, "b")
    A = checks.array(A, "A", shape=(b.size, b.size), finite=True)
    if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12):
        raise ValueError("A must be symmetric")
    if np.linalg.eigvalsh(A).min() <= 0:
        raise ValueError("A must be positive definite (all eigenvalues > 0)")
    return A, b


def exact_line_search(A: object, b: object, x0: object, steps: int) -> np.ndarray:
    """Steepest descent with exact line search on ``L(x) = 1/2 x^T A x + b^T x``.

    At x the gradient is g = A x + b. Along the line x - eta g the loss is a parabola in
    eta, smallest at eta* = (g^T g) / (g^T A g): the best step length, computed exactly.
    A must be symmetric positive definite. Returns iterates of shape (steps + 1, dim).
    """
    A, b = _check_quadratic(A, b)
    x = _vector(x0, "x0")
    if x.shape != b.shape:
        raise ValueError(f"x0 must have the shape of b {b.shape}, got shape {x.shape}")
    steps = checks.integer(steps, "steps", minimum=0)
    iterates = np.empty((steps + 1, x.size))
    iterates[0] = x
    for t in range(steps):
        g = A @ x + b
        curvature = g @ A @ g
        if curvature > 0:  # g = 0 means we are at the minimum already: stay there
            x = x - (g @ g) / curvature * g
        iterates[t + 1] = x
    return iterates


def quadratic_rate(kappa: float) -> float:
    """Worst-case rate ``mu = ((kappa - 1) / (kappa + 1))^2`` of exact line search.

    On a quadratic whose Hessian has condition number
    kappa = lambda_max / lambda_min >= 1, each step multiplies L(x_t) - L(x*) by at most
    mu.
    """
    kappa = checks.number(kappa, "kappa", minimum=1)
    return ((kappa - 1) / (kappa + 1)) ** 2


# -- Newton's method -------------------------------------------------------------------
def newton_step(x: object, g: object, H: object) -> np.ndarray:
    """One Newton step ``x - H^{-1} g``: jump to the minimum of the local quadratic
    model

        L(x + d) ~ L(x) + g^T d + 1/2 d^T H d,   minimised at d = -H^{-1} g.

    H (the Hessian at x) must be a non-singular (dim, dim) matrix; we solve H d = g
    rather than forming H^{-1}, which is cheaper and more accurate.
    """
    x = _vector(x, "x")
    g = _vector(g, "g")
    if g.shape != x.shape:
        raise ValueError(f"g must have the shape of x {x.shape}, got shape {g.shape}")
    H = checks.array(H, "H", finite=True)
    H = H.reshape(1, 1) if H.ndim == 0 else H  # a 1-D problem may pass a plain number
    checks.has_shape(H, "H", (x.size, x.size))
    try:
        return x - np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        raise ValueError("H is singular: the Newton step is not defined") from None


def newton(
    grad: GradFn, hess: Callable[[np.ndarray], np.ndarray], x0: object, steps: int
) -> np.ndarray:
    """Newton's method from ``x0``: iterates of shape (steps + 1, dim)."""
    grad = checks.function(grad, "grad")
    hess = checks.function(hess, "hess")
    x = _vector(x0, "x0")
    steps = checks.integer(steps, "steps", minimum=0)
    iterates = np.empty((steps + 1, x.size))
    iterates[0] = x
    for t in range(steps):
        x = newton_step(x, _gradient_at(grad, x), hess(x.copy()))
        iterates[t + 1] = x
    return iterates


# -- gradient clipping -----------------------------------------------------------------
def clip_by_norm(g: object, max_norm: float, eps: float = 0.0) -> np.ndarray:
    """Rescale ``g`` so that its Euclidean norm is at most ``max_norm``:

        g' = min(1, max_norm / (||g|| + eps)) * g

    The direction is kept; only a too-long step is shortened. ``eps = 1e-6`` reproduces
    ``torch.nn.utils.clip_grad_norm_`` (which adds it to avoid dividing by zero); with
    the default ``eps = 0`` a zero gradient is returned unchanged.
    """
    g = _vector(g, "g")
    max_norm = checks.positive(max_norm, "max_norm")
    eps = checks.number(eps, "eps", minimum=0)
    norm = np.linalg.norm(g)
    if norm + eps == 0:
        return g
    return g * min(1.0, max_norm / (norm + eps))
