"""Activation functions and their derivatives, from scratch in NumPy (chapter 1).

A neuron computes ``z = w . x + b`` and then ``y = f(z)``; ``f`` is the activation
function. Every function here works element-wise on a scalar or an array of any shape,
and every derivative ``f'(z)`` is written out by hand, so that it can be compared with a
finite difference and with ``torch.autograd`` (see ``tests/test_activations.py``).

    step(z)       = 1 if z >= 0 else 0               step'(z)     = 0  (z != 0)
    sign(z)       = 1 if z >= 0 else -1              sign'(z)     = 0  (z != 0)
    sigmoid(z)    = 1 / (1 + e^-z)                   sigmoid'(z)  = s (1 - s)
    tanh(z)       = (e^z - e^-z) / (e^z + e^-z)      tanh'(z)     = 1 - tanh(z)^2
    relu(z)       = max(z, 0)                        relu'(z)     = 1 if z > 0 else 0
    leaky_relu(z) = max(z, 0) + alpha min(z, 0)      leaky'(z)    = 1 if z > 0
                                                                    else alpha
    softplus(z)   = log(1 + e^z)                     softplus'(z) = sigmoid(z)
    elu(z)        = z if z > 0 else alpha (e^z - 1)  elu'(z)      = 1 if z > 0
                                                                    else alpha e^z
    swish(z)      = z sigmoid(beta z)                swish'(z)    = s + beta z s (1 - s)
    gelu(z)       = z Phi(z)                         gelu'(z)     = Phi(z) + z phi(z)
    sine(z)       = sin(z)                           sine'(z)     = cos(z)

At a kink (z = 0 for step, sign, ReLU, leaky ReLU, ELU) the derivative does not exist;
the functions return the one-sided value that PyTorch also uses, so results match
``autograd``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dlbook import checks

__all__ = [
    "step",
    "step_grad",
    "sign",
    "sign_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "softplus",
    "softplus_grad",
    "elu",
    "elu_grad",
    "swish",
    "swish_grad",
    "normal_cdf",
    "normal_pdf",
    "gelu",
    "gelu_grad",
    "sine",
    "sine_grad",
    "softmax",
    "log_softmax",
    "numerical_derivative",
    "Activation",
    "ACTIVATIONS",
]

_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_C = 0.044715  # the cubic coefficient of the tanh approximation of GELU
# NumPy has no erf; math.erf is exact to double precision.
_erf = np.frompyfunc(math.erf, 1, 1)
_GELU_FORMS = ("none", "tanh")  # torch's names: the exact GELU and its tanh form


# -- threshold units -------------------------------------------------------------------
@checks.elementwise
def step(z):
    """Heaviside step: 1 where z >= 0, else 0 (Rosenblatt's perceptron, 0/1 outputs)."""
    return np.where(z >= 0, 1.0, 0.0)


@checks.elementwise
def step_grad(z):
    """Derivative of the step: 0 wherever it exists (everywhere but z = 0, where we
    also return 0)."""
    return np.zeros_like(z)


@checks.elementwise
def sign(z):
    """Sign unit with the lecture's convention sign(0) = +1 (``np.sign`` gives 0)."""
    return np.where(z >= 0, 1.0, -1.0)


@checks.elementwise
def sign_grad(z):
    """Derivative of the sign unit: 0 wherever it exists."""
    return np.zeros_like(z)


# -- smooth squashing functions --------------------------------------------------------
@checks.elementwise
def sigmoid(z):
    """Logistic sigmoid 1 / (1 + e^-z), computed without overflow for large |z|."""
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@checks.elementwise
def sigmoid_grad(z):
    """sigma'(z) = sigma(z) (1 - sigma(z)); largest (1/4) at z = 0."""
    s = sigmoid(z)
    return s * (1.0 - s)


@checks.elementwise
def tanh(z):
    """Hyperbolic tangent (e^z - e^-z) / (e^z + e^-z) = 2 sigmoid(2z) - 1."""
    return np.tanh(z)


@checks.elementwise
def tanh_grad(z):
    """tanh'(z) = 1 - tanh(z)^2."""
    return 1.0 - np.tanh(z) ** 2


# -- rectifiers ------------------------------------------------------------------------
@checks.elementwise
def relu(z):
    """Rectified linear unit max(z, 0)."""
    return np.maximum(z, 0.0)


@checks.elementwise
def relu_grad(z):
    """1 where z > 0, else 0 (at the kink z = 0 we take 0, as PyTorch does)."""
    return np.where(z > 0, 1.0, 0.0)


@checks.elementwise
def leaky_relu(z, alpha: float = 0.01):
    """max(z, 0) + alpha min(z, 0): a small slope alpha for negative inputs, so the
    gradient never dies (``torch.nn.functional.leaky_relu``)."""
    alpha = checks.number(alpha, "alpha", minimum=0)
    return np.where(z > 0, z, alpha * z)


@checks.elementwise
def leaky_relu_grad(z, alpha: float = 0.01):
    """1 where z > 0, else alpha."""
    alpha = checks.number(alpha, "alpha", minimum=0)
    return np.where(z > 0, 1.0, alpha)


@checks.elementwise
def softplus(z):
    """log(1 + e^z), a smooth ReLU; ``logaddexp`` keeps it exact for large |z|."""
    return np.logaddexp(0.0, z)


@checks.elementwise
def softplus_grad(z):
    """softplus'(z) = sigmoid(z)."""
    return sigmoid(z)


@checks.elementwise
def elu(z, alpha: float = 1.0):
    """Exponential linear unit: z for z > 0, alpha (e^z - 1) otherwise; bounded below
    by -alpha (``torch.nn.functional.elu``)."""
    alpha = checks.positive(alpha, "alpha")
    # expm1 is accurate near 0; min(z, 0) keeps exp from overflowing on the branch we
    # discard
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


@checks.elementwise
def elu_grad(z, alpha: float = 1.0):
    """1 for z > 0, alpha e^z otherwise."""
    alpha = checks.positive(alpha, "alpha")
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


# -- self-gated units ------------------------------------------------------------------
@checks.elementwise
def swish(z, beta: float = 1.0):
    """Swish z sigmoid(beta z); with beta = 1 it is PyTorch's SiLU."""
    beta = checks.number(beta, "beta", minimum=0)
    return z * sigmoid(beta * z)


@checks.elementwise
def swish_grad(z, beta: float = 1.0):
    """d/dz [z s(beta z)] = s + beta z s (1 - s), with s = sigmoid(beta z)."""
    beta = checks.number(beta, "beta", minimum=0)
    s = sigmoid(beta * z)
    return s + beta * z * s * (1.0 - s)


@checks.elementwise
def normal_cdf(z):
    """Phi(z) = (1 + erf(z / sqrt 2)) / 2, the standard normal distribution function."""
    return 0.5 * (1.0 + np.asarray(_erf(z / _SQRT2), dtype=np.float64))


@checks.elementwise
def normal_pdf(z):
    """phi(z) = exp(-z^2 / 2) / sqrt(2 pi), the standard normal density."""
    return np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)


@checks.elementwise
def gelu(z, approximate: str = "none"):
    """Gaussian error linear unit z Phi(z); ``approximate="tanh"`` gives the cheaper
    0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) that some models use."""
    approximate = checks.one_of(approximate, "approximate", _GELU_FORMS)
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (z + _GELU_TANH_C * z**3)
        return 0.5 * z * (1.0 + np.tanh(u))
    return z * normal_cdf(z)


@checks.elementwise
def gelu_grad(z, approximate: str = "none"):
    """Exact: Phi(z) + z phi(z). Tanh form: the product rule through
    u = c (z + 0.044715 z^3)."""
    approximate = checks.one_of(approximate, "approximate", _GELU_FORMS)
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (z + _GELU_TANH_C * z**3))
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_C * z**2)
        return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t**2) * du
    return normal_cdf(z) + z * normal_pdf(z)


# -- periodic --------------------------------------------------------------------------
@checks.elementwise
def sine(z):
    """sin(z): bounded and periodic (used in implicit neural representations)."""
    return np.sin(z)


@checks.elementwise
def sine_grad(z):
    """sin'(z) = cos(z)."""
    return np.cos(z)


# -- vectors of scores -----------------------------------------------------------------
def _scores_and_axis(z, axis) -> tuple[np.ndarray, int]:
    """The checks softmax and log_softmax share: z has an axis ``axis`` of scores."""
    z = checks.array(z, "z")
    axis = checks.integer(axis, "axis")
    if z.ndim == 0:
        raise ValueError(
            "z must have at least one axis (a vector of K scores), got a scalar"
        )
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis {axis} is out of range for z with shape {z.shape}")
    return z, axis


def softmax(z, axis: int = -1):
    """softmax(z)_k = e^{z_k} / sum_j e^{z_j} along ``axis`` (``torch.softmax``).

    Subtracting the maximum first changes nothing mathematically (the factor e^{-max}
    cancels) but keeps every exponential <= 1, so large scores cannot overflow.
    """
    z, axis = _scores_and_axis(z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1):
    """log softmax(z) = z - logsumexp(z), computed stably (no log of a tiny number)."""
    z, axis = _scores_and_axis(z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# -- numerical check -------------------------------------------------------------------
def numerical_derivative(f: Callable, z, h: float = 1e-5):
    """Central finite difference (f(z + h) - f(z - h)) / (2h), element-wise.

    Its error shrinks like h^2 for a smooth f (Taylor: the even terms cancel); far
    smaller h loses digits to rounding, so 1e-5 is a good default in double precision.
    """
    f = checks.function(f, "f")
    h = checks.positive(h, "h")
    z = checks.array(z, "z")
    slope = (
        np.asarray(f(z + h), dtype=np.float64) - np.asarray(f(z - h), dtype=np.float64)
    ) / (2.0 * h)
    return float(slope) if z.ndim == 0 else slope


# -- the catalogue the chapter's table is printed from ---------------------------------
@dataclass(frozen=True)
class Activation:
    """One activation function: its name, the function, its derivative, and its range
    in words."""

    name: str
    function: Callable
    derivative: Callable
    output_range: str
    kinks: tuple[float, ...] = ()  # points where the derivative does not exist


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("step", step, step_grad, "{0, 1}", (0.0,)),
        Activation("sign", sign, sign_grad, "{-1, 1}", (0.0,)),
        Activation("sigmoid", sigmoid, sigmoid_grad, "(0, 1)"),
        Activation("tanh", tanh, tanh_grad, "(-1, 1)"),
        Activation("ReLU", relu, relu_grad, "[0, inf)", (0.0,)),
        Activation("leaky ReLU", leaky_relu, leaky_relu_grad, "(-inf, inf)", (0.0,)),
        Activation("softplus", softplus, softplus_grad, "(0, inf)"),
        Activation("ELU", elu, elu_grad, "(-alpha, inf)", (0.0,)),
        Activation("swish", swish, swish_grad, "[-0.2785, inf)"),
        Activation("GELU", gelu, gelu_grad, "[-0.1700, inf)"),
        Activation("sine", sine, sine_grad, "[-1, 1]"),
    ]
}
