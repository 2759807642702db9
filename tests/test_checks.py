"""Tests for dlbook.checks: what each check accepts and returns, the exception type and
message of what it refuses, and that the package's modules use it instead of copies."""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
from collections.abc import Mapping

import numpy as np
import pytest
import torch

import dlbook
from dlbook import checks

# -- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(3, 3.0), (-2.5, -2.5), (np.float32(0.5), 0.5), (np.int64(7), 7.0)]
    + [(np.array(1.5), 1.5), (math.inf, math.inf)],
)
def test_number_accepts_reals_and_returns_a_float(value, expected):
    result = checks.number(value, "x")
    assert type(result) is float and result == expected


def test_number_lets_nan_through_without_a_minimum():
    assert math.isnan(checks.number(float("nan"), "x"))


@pytest.mark.parametrize(
    "value, shown",
    [
        (True, "True"),
        (np.True_, "True"),
        ("1.0", "'1.0'"),
        (None, "None"),
        (1 + 2j, r"\(1\+2j\)"),
        ([1.0], r"\[1\.0\]"),
        (np.array([1.0, 2.0]), r"an array of shape \(2,\) and dtype float64"),
    ],
)
def test_number_refuses_non_numbers_with_a_type_error(value, shown):
    with pytest.raises(TypeError, match=f"^x must be a number, got {shown}$"):
        checks.number(value, "x")


def test_number_with_a_minimum():
    assert checks.number(0, "eps", minimum=0) == 0.0
    with pytest.raises(ValueError, match=r"^eps must be a number >= 0, got -1e-10$"):
        checks.number(-1e-10, "eps", minimum=0)
    with pytest.raises(ValueError, match=r"^kappa must be a number >= 1, got 0\.5$"):
        checks.number(0.5, "kappa", minimum=1)
    with pytest.raises(ValueError, match="^eps must be a finite number, got inf$"):
        checks.number(math.inf, "eps", minimum=0)
    with pytest.raises(TypeError, match="^eps must be a number >= 0, got '0'$"):
        checks.number("0", "eps", minimum=0)


def test_positive():
    assert checks.positive(1e-3, "lr") == 1e-3
    assert type(checks.positive(2, "lr")) is float
    with pytest.raises(ValueError, match=r"^lr must be a positive number, got -0\.1$"):
        checks.positive(-0.1, "lr")
    with pytest.raises(ValueError, match="^lr must be a positive number, got 0$"):
        checks.positive(0, "lr")
    with pytest.raises(ValueError, match="^lr must be a finite number, got nan$"):
        checks.positive(float("nan"), "lr")
    with pytest.raises(ValueError, match="^lr must be a finite number, got inf$"):
        checks.positive(math.inf, "lr")
    with pytest.raises(TypeError, match="^lr must be a positive number, got True$"):
        checks.positive(True, "lr")


def test_in_range_is_half_open():
    assert checks.in_range(0, "beta", 0, 1) == 0.0
    assert checks.in_range(0.999, "beta", 0, 1) == 0.999
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(
            ValueError, match=r"^beta must be a number in \[0, 1\), got"
        ):
            checks.in_range(bad, "beta", 0, 1)
    with pytest.raises(
        TypeError, match=r"^beta must be a number in \[0, 1\), got '0'$"
    ):
        checks.in_range("0", "beta", 0, 1)


def test_integer():
    assert checks.integer(3, "steps") == 3
    result = checks.integer(np.int32(4), "steps", minimum=0)
    assert type(result) is int and result == 4
    with pytest.raises(TypeError, match=r"^steps must be an int >= 0, got 2\.5$"):
        checks.integer(2.5, "steps", minimum=0)
    with pytest.raises(ValueError, match="^steps must be an int >= 0, got -1$"):
        checks.integer(-1, "steps", minimum=0)
    with pytest.raises(TypeError, match="^steps must be an int, got True$"):
        checks.integer(True, "steps")
    with pytest.raises(TypeError, match=r"^n must be an int >= 1, got 3\.0$"):
        checks.integer(3.0, "n", minimum=1)  # a float that happens to be whole
    with pytest.raises(TypeError, match="^n must be an int, got '3'$"):
        checks.integer("3", "n")


# -- choices, text, functions, instances -----------------------------------------------


def test_one_of():
    assert checks.one_of("max", "mode", ("max", "avg")) == "max"
    assert checks.one_of(torch.float64, "dtype", (torch.float32, torch.float64))
    with pytest.raises(ValueError, match="^mode must be 'max' or 'avg', got 'min'$"):
        checks.one_of("min", "mode", ("max", "avg"))
    with pytest.raises(ValueError, match="^act must be one of 'a', 'b', 'c', got 'd'$"):
        checks.one_of("d", "act", ["a", "b", "c"])
    # no comparison across types: an array is not compared with strings, True is not 1
    with pytest.raises(ValueError, match="mode must be"):
        checks.one_of(np.array(["max"]), "mode", ("max", "avg"))
    with pytest.raises(ValueError, match=r"^k must be 1 or 2, got True$"):
        checks.one_of(True, "k", (1, 2))


def test_text():
    assert checks.text("Exercise 1", "description") == "Exercise 1"
    with pytest.raises(ValueError, match="^d must be a non-empty string, got ' '$"):
        checks.text(" ", "d")
    with pytest.raises(TypeError, match="^d must be a non-empty string, got 42$"):
        checks.text(42, "d")


def test_function():
    assert checks.function(len, "f") is len
    with pytest.raises(TypeError, match="^f must be a function, got 3$"):
        checks.function(3, "f")


def test_instance():
    tensor = torch.zeros(2)
    assert checks.instance(tensor, "x", torch.Tensor) is tensor
    with pytest.raises(
        TypeError,
        match=r"^x must be a Tensor, got an array of shape \(2,\) and dtype float64$",
    ):
        checks.instance(np.zeros(2), "x", torch.Tensor)
    with pytest.raises(TypeError, match="^c must be a Mapping, got the class dict$"):
        checks.instance(dict, "c", Mapping)


def test_articles_in_messages():
    class Optimizer:
        pass

    class MLP:
        pass

    class GPT:
        pass

    for cls, article in [(Optimizer, "an"), (MLP, "an"), (GPT, "a"), (Mapping, "a")]:
        with pytest.raises(TypeError, match=f"^x must be {article} {cls.__name__},"):
            checks.instance(1, "x", cls)


# -- arrays ----------------------------------------------------------------------------


def test_array_converts_to_a_float64_copy():
    original = np.array([1, 2, 3], dtype=np.int32)
    result = checks.array(original, "x")
    assert result.dtype == np.float64 and result.tolist() == [1.0, 2.0, 3.0]
    result[0] = 99
    assert original[0] == 1  # the caller's array is never changed
    assert checks.array(2.5, "x").shape == ()  # a number is a 0-d array
    assert checks.array(torch.arange(3), "x").tolist() == [0.0, 1.0, 2.0]


def test_array_can_keep_the_dtype():
    x = np.zeros((2, 2), dtype=np.float32)
    assert checks.array(x, "x", dtype=None).dtype == np.float32
    assert checks.array([1, 2], "x", dtype=None).dtype.kind == "i"


@pytest.mark.parametrize(
    "value, error, message",
    [
        ("ab", TypeError, "x must be a number or an array of real numbers, got 'ab'"),
        (None, TypeError, "x must be a number or an array of real numbers, got None"),
        ([[1, 2], [3]], TypeError, "which is not a rectangular array"),
        (np.array(["a"]), TypeError, r"x must hold real numbers, got an array of"),
        ([1 + 2j], TypeError, "x must hold real numbers, got .* dtype complex128"),
        ([True, False], TypeError, "x must hold real numbers, got .* dtype bool"),
        (np.array([1, None]), TypeError, "x must hold real numbers, got .* object"),
    ],
)
def test_array_refuses_what_is_not_real_numbers(value, error, message):
    with pytest.raises(error, match=message):
        checks.array(value, "x")


def test_array_finite_and_nonempty():
    with pytest.raises(ValueError, match="^x must hold finite numbers, got inf$"):
        checks.array([1.0, np.inf], "x", finite=True)
    with pytest.raises(ValueError, match="^x must hold finite numbers, got nan$"):
        checks.array([np.nan], "x", finite=True)
    assert checks.array([1.0, np.inf], "x").tolist() == [1.0, np.inf]
    with pytest.raises(ValueError, match=r"^x must not be empty, got shape \(0, 3\)$"):
        checks.array(np.zeros((0, 3)), "x", nonempty=True)
    assert checks.array(np.zeros((0, 3)), "x").shape == (0, 3)


@pytest.mark.parametrize(
    "shape, spec",
    [
        ((2, 3, 4, 5), ("O", "C", "kh", "kw")),
        ((4,), (4,)),
        ((3, 4), ("N", 4)),
        ((7, 7), (..., "H", "W")),
        ((2, 3, 7, 7), (..., "H", "W")),
        ((), ()),
    ],
)
def test_shapes_that_fit(shape, spec):
    x = np.zeros(shape)
    assert checks.has_shape(x, "x", spec) is x
    assert checks.array(x, "x", shape=spec).shape == shape
    assert checks.has_shape(torch.zeros(shape), "x", spec).shape == shape


@pytest.mark.parametrize(
    "shape, spec, message",
    [
        (
            (3, 3),
            ("O", "C", "kh", "kw"),
            r"w must have shape \(O, C, kh, kw\), got \(3, 3\)",
        ),
        ((3,), (4,), r"w must have shape \(4,\), got \(3,\)"),
        ((3, 5), ("N", 4), r"w must have shape \(N, 4\), got \(3, 5\)"),
        ((7,), (..., "H", "W"), r"w must have shape \(\.\.\., H, W\), got \(7,\)"),
        ((2, 1), ("n",), r"w must have shape \(n,\), got \(2, 1\)"),
    ],
)
def test_shapes_that_do_not_fit(shape, spec, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        checks.has_shape(np.zeros(shape), "w", spec)
    with pytest.raises(ValueError, match=f"^{message}$"):
        checks.has_shape(torch.zeros(shape), "w", spec)


def test_has_shape_needs_an_array():
    with pytest.raises(
        TypeError, match=r"^x must be an array of shape \(N,\), got \[1\]$"
    ):
        checks.has_shape([1], "x", ("N",))


def test_labels():
    result = checks.labels([2, 0, 1], "y", 3)
    assert result.dtype == np.int64 and result.tolist() == [2, 0, 1]
    assert checks.labels(torch.tensor([1, 1]), "y", 2).tolist() == [1, 1]
    assert checks.labels([], "y", 3).shape == (0,)
    with pytest.raises(ValueError, match="^y_pred must hold labels in 0..2, got -1$"):
        checks.labels([0, -1], "y_pred", 3)
    with pytest.raises(ValueError, match="^y_pred must hold labels in 0..2, got 3$"):
        checks.labels([3, 0], "y_pred", 3)
    with pytest.raises(
        TypeError, match="^y must hold integer labels 0..2, got an array"
    ):
        checks.labels([0.0, 1.0], "y", 3)
    with pytest.raises(TypeError, match="y must hold real numbers, got .* dtype bool"):
        checks.labels([True, False], "y", 3)
    with pytest.raises(ValueError, match=r"^y must have shape \(N,\), got \(2, 2\)$"):
        checks.labels([[0, 1], [1, 0]], "y", 3)


def test_describe():
    assert checks.describe(2.5) == "2.5"
    assert checks.describe(np.float64(2.5)) == "2.5"
    assert checks.describe("a") == "'a'"
    assert checks.describe(torch.zeros(2, 3)) == (
        "a tensor of shape (2, 3) and dtype torch.float32"
    )
    assert checks.describe(len) == "the function len"
    assert checks.describe(int) == "the class int"
    assert checks.describe(lambda: 0) == "the function <lambda>"
    assert checks.describe(object()) == "an object"  # no memory address in a message
    assert checks.describe("x" * 100) == "a str of length 100"
    assert checks.describe(10**70) == repr(10**70)
    assert checks.describe([0] * 100) == "a list"  # too long to show


# -- the package uses this module ------------------------------------------------------

# The private checkers that modules kept before dlbook.checks existed.
OLD_CHECKERS = [
    "_as_real_array",
    "_check_int",
    "_check_number",
    "_check_param",
    "_as_vector",
    "_as_real",
    "_positive",
    "_non_negative",
    "_in_unit_interval",
    "_check_steps",
    "_check_callable",
    "_matrix",
    "_scalar",
    "_count",
    "_check_positive_int",
    "_check_activation",
    "_check_approximate",
    "_check_1d",
    "_check_images",
]
MODULES = [
    importlib.import_module(f"dlbook.{m.name}")
    for m in pkgutil.iter_modules(dlbook.__path__)
]
# Modules whose public functions take arguments, so they must check them.
CHECKING = {
    "activations",
    "attention",
    "autograd",
    "conv",
    "data",
    "decoding",
    "distributed",
    "exercises",
    "gpt",
    "interactive",
    "lenet",
    "linear_attention",
    "notebook",
    "optim",
    "perceptron",
    "rnn",
    "scalar_mlp",
    "seq2seq",
    "timing",
    "tokenize",
    "training",
    "transformer",
}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_no_module_keeps_its_own_checker_copies(module):
    kept = [name for name in OLD_CHECKERS if hasattr(module, name)]
    assert not kept, f"{module.__name__} still defines {kept}"


@pytest.mark.parametrize("name", sorted(CHECKING))
def test_modules_check_through_dlbook_checks(name):
    module = importlib.import_module(f"dlbook.{name}")
    assert module.checks is checks
    source = open(module.__file__).read()
    assert re.search(r"checks\.\w+\(", source)


def test_every_module_is_accounted_for():
    names = {m.__name__.split(".")[-1] for m in MODULES}
    assert CHECKING <= names
    # the rest take no arguments to check
    assert names - CHECKING == {"checks", "colab", "style"}
