"""Argument checks for the public functions of dlbook, all in one place.

Every check takes the value first and its name second, and returns the value converted,
so a public function checks one argument per line:

    lr = checks.positive(lr, "lr")
    steps = checks.integer(steps, "steps", minimum=0)
    w = checks.array(w, "w", shape=("O", "C", "kh", "kw"))

A wrong type raises TypeError, a wrong value ValueError, and the message names the
argument and shows what it got: ``steps must be an int >= 0, got 2.5``. Booleans are not
numbers: ``lr=True`` is refused, and so is an array of booleans where numbers are wanted
(torch refuses them too).

Numbers and other single values
- number(value, name, minimum=None)  a real number, as a float (>= minimum if given)
- positive(value, name)              a finite number > 0
- in_range(value, name, low, high)   a number with low <= value < high
- integer(value, name, minimum=None) an int (NumPy integers too), >= minimum if given
- one_of(value, name, options)       one of a few allowed values, e.g. "max" or "avg"
- text(value, name)                  a string that is not blank
- function(value, name)              something that can be called
- instance(value, name, cls)         an instance of cls

Arrays
- array(value, name, shape=None, dtype=float64, finite=False, nonempty=False)
                                     an array of real numbers, as a NumPy array
- has_shape(value, name, shape)      an array or tensor of the given shape
- labels(value, name, n_classes)     a 1-D array of class labels 0..n_classes-1

A shape is a tuple of axes: an int is a size the axis must have, a string names an axis
of any size, and ``...`` first allows any number of leading axes: ``(..., "H", "W")``.

``describe(value)`` writes the "got ..." part of every message; modules use it for the
checks that only they need (two shapes that must agree, say).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import TypeVar

import numpy as np

__all__ = [
    "number",
    "positive",
    "in_range",
    "integer",
    "one_of",
    "text",
    "function",
    "instance",
    "array",
    "has_shape",
    "labels",
    "describe",
]

T = TypeVar("T")


# -- how a value is shown in a message -------------------------------------------------
def describe(value: object) -> str:
    """A short description of ``value`` for a message: its repr, or what it is."""
    if isinstance(value, np.generic):  # np.float64(2.5) is shown as 2.5
        value = value.item()
    if isinstance(value, (str, bytes)) and len(value) > 50:
        return f"{_a(type(value).__name__)} of length {len(value)}"
    if isinstance(value, (bool, numbers.Number, str, bytes)) or value is None:
        return repr(value)
    shape = getattr(value, "shape", None)
    if shape is not None:  # a NumPy array or a torch tensor
        is_numpy = isinstance(value, np.ndarray)
        kind = "array" if is_numpy else type(value).__name__.lower()  # "tensor"
        return f"{_a(kind)} of shape {tuple(shape)} and dtype {value.dtype}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if callable(value):
        return f"the function {getattr(value, '__name__', type(value).__name__)}"
    text = repr(value)
    if len(text) <= 60 and " at 0x" not in text:
        return text
    return _a(type(value).__name__)


def _a(noun: str) -> str:
    """The noun with its indefinite article: "a Value", "an Optimizer", "an MLP"."""
    acronym = noun[:2].isupper()  # spoken letter by letter: "an MLP", "a GPT"
    vowel_sound = noun[:1] in "AEFHILMNORSX" if acronym else noun[:1].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {noun}"


# -- numbers ---------------------------------------------------------------------------
def _real(value: object, name: str, requirement: str) -> float:
    """``value`` as a float, or a TypeError: ``name`` must be ``requirement``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()  # a 0-d array holding one number
    # bool is a subclass of int, but lr=True is almost always a mistake: refuse it.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {requirement}, got {describe(value)}")
    return float(value)


def _finite(x: float, name: str) -> float:
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x}")
    return x


def number(value: object, name: str, *, minimum: float | None = None) -> float:
    """A real number as a float; with ``minimum``, a finite one that is >= minimum.

    Without a minimum, inf and nan pass: they are floats, and some callers need them.
    """
    requirement = "a number" if minimum is None else f"a number >= {minimum:g}"
    x = _real(value, name, requirement)
    if minimum is not None:
        _finite(x, name)
        if x < minimum:
            raise ValueError(f"{name} must be {requirement}, got {describe(value)}")
    return x


def positive(value: object, name: str) -> float:
    """A finite number > 0, as a float (a learning rate, a step size)."""
    x = _finite(_real(value, name, "a positive number"), name)
    if not x > 0:
        raise ValueError(f"{name} must be a positive number, got {describe(value)}")
    return x


def in_range(value: object, name: str, low: float, high: float) -> float:
    """A number with low <= value < high, as a float (a decay rate in [0, 1), say)."""
    requirement = f"a number in [{low:g}, {high:g})"
    x = _real(value, name, requirement)
    if not low <= x < high:  # also refuses nan, whose comparisons are all False
        raise ValueError(f"{name} must be {requirement}, got {describe(value)}")
    return x


def integer(value: object, name: str, *, minimum: int | None = None) -> int:
    """An int (a Python or NumPy integer, not a bool), >= minimum if one is given."""
    requirement = "an int" if minimum is None else f"an int >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {requirement}, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {requirement}, got {describe(value)}")
    return int(value)


# -- choices, text, functions and objects ----------------------------------------------
def one_of(value: T, name: str, options: Iterable[T]) -> T:
    """``value`` if it equals one of ``options`` (e.g. a mode "max" or "avg")."""
    options = tuple(options)
    for option in options:
        # Compare only values of the option's type: no array == str, no True == 1.
        same_kind = isinstance(value, type(option))
        same_kind = same_kind and isinstance(value, bool) == isinstance(option, bool)
        if same_kind and value == option:
            return value
    shown = [repr(option) for option in options]
    if len(shown) == 2:
        allowed = f"{shown[0]} or {shown[1]}"
    else:
        allowed = "one of " + ", ".join(shown)
    raise ValueError(f"{name} must be {allowed}, got {describe(value)}")


def text(value: object, name: str) -> str:
    """A string with at least one character that is not a space."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a non-empty string, got {describe(value)}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def function(value: T, name: str) -> T:
    """Something that can be called: a function, a lambda, a class."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {describe(value)}")
    return value


def instance(value: object, name: str, cls: type[T]) -> T:
    """``value`` if it is an instance of ``cls`` (a Value, a torch.Tensor, ...)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {_a(cls.__name__)}, got {describe(value)}")
    return value


# -- arrays ----------------------------------------------------------------------------
def array(
    value: object,
    name: str,
    *,
    shape: tuple | None = None,
    dtype: type | None = np.float64,
    finite: bool = False,
    nonempty: bool = False,
) -> np.ndarray:
    """``value`` (a number, a list, an array, a CPU tensor) as a NumPy array of reals.

    shape:    the shape it must have (see the module docstring), or None for any shape;
    dtype:    the dtype of the result (a copy, so the caller's array is never changed);
              None keeps the input's own integer or float dtype;
    finite:   refuse inf and nan;
    nonempty: refuse an array with no entries.
    """
    requirement = "a number or an array of real numbers"
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {requirement}, got {describe(value)}")
    try:
        result = np.asarray(value)
    except (TypeError, ValueError):  # a ragged list, for one
        raise TypeError(
            f"{name} must be {requirement}, got {describe(value)}, "
            "which is not a rectangular array"
        ) from None
    if result.dtype.kind not in "iuf":  # signed, unsigned, float: no bool, complex, str
        raise TypeError(f"{name} must hold real numbers, got {describe(result)}")
    if shape is not None:
        has_shape(result, name, shape)
    if nonempty and result.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {result.shape}")
    if finite and not np.all(np.isfinite(result)):
        first = result[~np.isfinite(result)][0]
        raise ValueError(f"{name} must hold finite numbers, got {first}")
    return result if dtype is None else result.astype(dtype)


def has_shape(value: T, name: str, shape: tuple) -> T:
    """``value`` (a NumPy array or a torch tensor) if its shape matches ``shape``.

    has_shape(w, "w", ("O", "C", "kh", "kw")) wants 4 axes of any size;
    has_shape(b, "b", (4,)) wants exactly (4,); (..., "H", "W") wants 2 axes or more.
    """
    if getattr(value, "shape", None) is None:
        raise TypeError(
            f"{name} must be an array of shape {_show_shape(shape)}, "
            f"got {describe(value)}"
        )
    actual = tuple(value.shape)
    wanted = tuple(shape)
    if wanted[:1] == (...,):  # any leading axes, then the named ones
        wanted = wanted[1:]
        fits = len(actual) >= len(wanted) and _sizes_fit(
            actual[len(actual) - len(wanted) :], wanted
        )
    else:
        fits = len(actual) == len(wanted) and _sizes_fit(actual, wanted)
    if not fits:
        raise ValueError(f"{name} must have shape {_show_shape(shape)}, got {actual}")
    return value


def _sizes_fit(actual: tuple, wanted: tuple) -> bool:
    # A named axis ("N") takes any size; a number must be matched exactly.
    return all(isinstance(w, str) or a == w for a, w in zip(actual, wanted))


def _show_shape(shape: tuple) -> str:
    axes = ["..." if axis is ... else str(axis) for axis in shape]
    return "(" + ", ".join(axes) + ("," if len(axes) == 1 else "") + ")"


def labels(value: object, name: str, n_classes: int) -> np.ndarray:
    """A 1-D array of class labels, integers in 0..n_classes-1, as int64."""
    result = array(value, name, shape=("N",), dtype=None)
    if result.size == 0:
        return result.astype(np.int64)
    if result.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer labels 0..{n_classes - 1}, "
            f"got {describe(result)}"
        )
    outside = result[(result < 0) | (result >= n_classes)]
    if outside.size:
        raise ValueError(
            f"{name} must hold labels in 0..{n_classes - 1}, got {outside[0]}"
        )
    return result.astype(np.int64)
