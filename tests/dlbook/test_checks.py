"""Tests for dlbook.checks: what each check accepts and returns, the exception type and
message of what it refuses, and that the package's modules use it instead of copies."""

from __future__ import annotations

import importlib
import inspect
import math
import pickle
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


def test_divisor():
    assert checks.divisor(2, "num_heads", 8, "the embedding size E") == 2
    assert checks.divisor(np.int64(8), "num_heads", 8, "E") == 8
    with pytest.raises(
        ValueError, match="^num_heads must divide the embedding size E = 8, got 3$"
    ):
        checks.divisor(3, "num_heads", 8, "the embedding size E")
    with pytest.raises(ValueError, match="^num_heads must be an int >= 1, got 0$"):
        checks.divisor(0, "num_heads", 8, "E")
    with pytest.raises(TypeError, match=r"^num_heads must be an int >= 1, got 2\.0$"):
        checks.divisor(2.0, "num_heads", 8, "E")


def test_pair():
    assert checks.pair(3, "stride", minimum=1) == (3, 3)
    assert checks.pair((2, np.int64(5)), "stride", minimum=1) == (2, 5)
    assert checks.pair([0, 1], "padding", minimum=0) == (0, 1)
    assert checks.pair((4, 6), "input_shape", minimum=1, int_for_both=False) == (4, 6)
    with pytest.raises(ValueError, match="^stride must be an int >= 1, got 0$"):
        checks.pair(0, "stride", minimum=1)
    with pytest.raises(ValueError, match=r"^padding\[1\] must be an int >= 0, got -2$"):
        checks.pair((1, -2), "padding", minimum=0)
    with pytest.raises(TypeError, match=r"^stride\[0\] must be an int >= 1, got 1\.5$"):
        checks.pair((1.5, 1), "stride", minimum=1)
    with pytest.raises(
        ValueError,
        match=r"^dilation must be an int or a pair \(H, W\), got \(1, 2, 3\)$",
    ):
        checks.pair((1, 2, 3), "dilation", minimum=1)
    with pytest.raises(TypeError, match="^stride must be an int >= 1, got '2'$"):
        checks.pair("2", "stride", minimum=1)
    with pytest.raises(
        TypeError, match=r"^input_shape must be a pair \(H, W\), got 3$"
    ):
        checks.pair(3, "input_shape", minimum=1, int_for_both=False)
    with pytest.raises(
        ValueError, match=r"^input_shape must be a pair \(H, W\), got \[3\]$"
    ):
        checks.pair([3], "input_shape", int_for_both=False)


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


# -- several arrays whose axes agree ---------------------------------------------------


def test_arrays_converts_each_and_returns_them_in_order():
    q, k = checks.arrays(q=([[1, 2]], ("L", "d")), k=(np.zeros((3, 2)), "S d"))
    assert q.dtype == k.dtype == np.float64 and q.shape == (1, 2) and k.shape == (3, 2)
    (x,) = checks.arrays(x=(np.zeros((2, 3), dtype=np.float32), "... n"), dtype=None)
    assert x.dtype == np.float32
    assert checks.arrays() == ()


@pytest.mark.parametrize(
    "spec, shape",
    [
        ("... L d", (2, 5, 3, 4)),
        ("L d", (3, 4)),
        ("3 E", (3, 4)),
        ("", ()),
        ((..., "L", "d"), (3, 4)),
        ((3, "E"), (3, 7)),
    ],
)
def test_arrays_takes_shapes_as_strings_or_tuples(spec, shape):
    (x,) = checks.arrays(x=(np.zeros(shape), spec))
    assert x.shape == shape


def test_arrays_binds_a_named_axis_across_arrays():
    q, k, v = np.zeros((3, 4)), np.zeros((5, 4)), np.zeros((5, 2))
    checks.arrays(q=(q, "... L d"), k=(k, "... S d"), v=(v, "... S dv"))
    with pytest.raises(
        ValueError,
        match=r"^k must have shape \(\.\.\., S, 4\), got \(5, 3\): d is 4 in q, "
        r"which has shape \(3, 4\)$",
    ):
        checks.arrays(q=(q, "... L d"), k=(np.zeros((5, 3)), "... S d"))
    # the third array disagrees with the second, not the first
    with pytest.raises(
        ValueError,
        match=r"^v must have shape \(5, dv\), got \(4, 2\): S is 5 in k, which has",
    ):
        checks.arrays(q=(q, "L d"), k=(k, "S d"), v=(np.zeros((4, 2)), "S dv"))
    # leading axes (...) are not bound: only the named ones must agree
    checks.arrays(a=(np.zeros((2, 3, 4)), "... n"), b=(np.zeros((7, 4)), "... n"))


def test_arrays_message_shows_what_earlier_arrays_fix():
    with pytest.raises(
        ValueError, match=r"^h0 must have shape \(2, H\), got \(3, 5\): N is 2 in x"
    ):
        checks.arrays(x=(np.zeros((4, 2, 3)), "T N D"), h0=(np.zeros((3, 5)), "N H"))
    # an axis named twice in one array binds there too
    with pytest.raises(ValueError, match=r"^A must have shape \(n, n\), got \(3, 4\)"):
        checks.arrays(A=(np.zeros((3, 4)), "n n"))


def test_arrays_explain_gives_an_axis_its_own_words():
    explain = {
        "S": "{a} and {b} must both have shape {shape} ({size_a} and {size_b} rows)",
        "C": "{b} expects {size_b} channels but {a} has {size_a}",
    }
    with pytest.raises(
        ValueError,
        match=r"^key and value must both have shape \(S, 4\) \(3 and 2 rows\): "
        r"key has shape \(3, 4\), value has shape \(2, 4\)$",
    ):
        checks.arrays(
            query=(np.zeros((1, 4)), "L E"),
            key=(np.zeros((3, 4)), "S E"),
            value=(np.zeros((2, 4)), "S E"),
            explain=explain,
        )
    with pytest.raises(ValueError, match="^w expects 1 channels but x has 3: x has"):
        checks.arrays(
            x=(np.zeros((2, 3, 5, 5)), "N C H W"),
            w=(np.zeros((4, 1, 3, 3)), "O C kh kw"),
            explain=explain,
        )
    # an axis without words of its own gets the usual message
    with pytest.raises(ValueError, match=r"^value must have shape \(3, 4\), got"):
        checks.arrays(
            key=(np.zeros((3, 4)), "E E2"),
            value=(np.zeros((2, 4)), "E E2"),
            explain=explain,
        )


def test_arrays_checks_each_array_as_array_does():
    with pytest.raises(ValueError, match=r"^k must have shape \(\.\.\., S, d\), got"):
        checks.arrays(q=(np.zeros((3, 4)), "... L d"), k=(np.zeros(4), "... S d"))
    with pytest.raises(ValueError, match=r"^w must have shape \(5, H\), got \(4, 5\)$"):
        checks.arrays(w=(np.zeros((4, 5)), "5 H"))
    with pytest.raises(TypeError, match="^k must hold real numbers"):
        checks.arrays(q=(np.zeros(2), "d"), k=(["a", "b"], "d"))
    with pytest.raises(ValueError, match="^v must hold finite numbers, got inf$"):
        checks.arrays(v=([1.0, np.inf], "n"), finite=True)


def test_arrays_nonempty_for_all_or_for_the_named_arrays():
    empty, full = np.zeros((0, 2)), np.zeros((3, 2))
    checks.arrays(a=(empty, "n d"), b=(full, "m d"))
    with pytest.raises(ValueError, match=r"^a must not be empty, got shape \(0, 2\)$"):
        checks.arrays(a=(empty, "n d"), b=(full, "m d"), nonempty=True)
    with pytest.raises(ValueError, match="^b must not be empty"):
        checks.arrays(a=(full, "n d"), b=(empty, "m d"), nonempty=True)
    checks.arrays(a=(empty, "n d"), b=(full, "m d"), nonempty="b")
    checks.arrays(a=(empty, "n d"), b=(full, "m d"), nonempty=["b"])
    with pytest.raises(ValueError, match="^a must not be empty"):
        checks.arrays(a=(empty, "n d"), b=(full, "m d"), nonempty="a")


def test_per_step():
    np.testing.assert_array_equal(checks.per_step(0.5, "g", 3), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(checks.per_step([1, 2], "g", 2), [1.0, 2.0])
    np.testing.assert_array_equal(checks.per_step(None, "g", 2, default=1), [1, 1])
    assert checks.per_step(None, "g", 0, default=1.0).shape == (0,)
    with pytest.raises(TypeError, match="^g must be a number or an array of real"):
        checks.per_step(None, "g", 2)  # no default: None is not a number
    with pytest.raises(
        ValueError,
        match=r"^g must be a number or an array of shape \(5,\), got \(3,\)$",
    ):
        checks.per_step(np.ones(3), "g", 5)
    with pytest.raises(ValueError, match="^beta must hold finite numbers, got nan$"):
        checks.per_step([1.0, np.nan], "beta", 2, finite=True)


@pytest.mark.parametrize(
    "interval, inside, outside",
    [
        ("(0, 1]", [1e-9, 0.5, 1.0], [0.0, 1.5, -1.0, np.nan]),
        ("[0, 1)", [0.0, 0.999], [1.0, -1e-9]),
        ("[-1, 1]", [-1.0, 1.0], [1.01]),
        ("(0, inf)", [1e300], [0.0, np.inf]),
    ],
)
def test_per_step_interval(interval, inside, outside):
    np.testing.assert_array_equal(
        checks.per_step(inside, "g", len(inside), interval=interval), inside
    )
    for bad in outside:
        message = f"^g must lie in {re.escape(interval)}, got {bad}$"
        with pytest.raises(ValueError, match=message):
            checks.per_step([inside[0], bad], "g", 2, interval=interval)


def test_attention_mask():
    allowed = np.array([[True, False], [True, True]])
    assert checks.attention_mask(allowed, "mask", (3, 2, 2)).shape == (3, 2, 2)
    with pytest.raises(
        TypeError, match="^mask must be a boolean array .* dtype float64$"
    ):
        checks.attention_mask(np.ones((2, 2)), "mask", (2, 2))
    with pytest.raises(
        ValueError,
        match=r"^mask must broadcast to the scores' shape \(2, 3\), got \(2, 2\)$",
    ):
        checks.attention_mask(allowed, "mask", (2, 3))
    with pytest.raises(
        ValueError, match=r"^mask allows no key for query row \(1, 0\): every query"
    ):
        rows = np.ones((2, 2, 2), dtype=bool)
        rows[1, 0] = False
        checks.attention_mask(rows, "mask", (2, 2, 2))


# -- a decorator for functions that work entry by entry --------------------------------


@checks.elementwise
def _double(z, plus=0.0):
    """2 z + plus."""
    assert isinstance(z, np.ndarray) and z.dtype == np.float64  # converted
    return 2 * z + plus


@checks.elementwise
def _square(z):
    """z^2."""
    return z * z


def test_elementwise_converts_z_and_gives_a_float_for_a_number():
    assert _double(3) == 6.0 and type(_double(3)) is float
    assert type(_double(np.float32(1.5), plus=1)) is float
    assert _double([1, 2]).tolist() == [2.0, 4.0]
    assert _double(np.ones((2, 3)), 1.0).shape == (2, 3)
    assert type(_double(np.array(2.0))) is float  # a 0-d array is a number too
    with pytest.raises(TypeError, match="^z must hold real numbers, got .* dtype bool"):
        _double([True])
    with pytest.raises(TypeError, match="^z must be a number or an array of real"):
        _double("2")


def test_elementwise_keeps_name_docstring_signature_and_own_code():
    assert _double.__name__ == "_double" and _double.__doc__ == "2 z + plus."
    assert list(inspect.signature(_double).parameters) == ["z", "plus"]
    assert "def _double(z, plus=0.0):" in inspect.getsource(_double)
    assert checks.describe(_double) == "the function _double"
    # The book's grading tripwires find a function by its code object, unwrapping
    # __wrapped__ only when the object has no code of its own: each decorated function
    # must therefore lead to its own code, not to one wrapper shared by all of them.
    assert not hasattr(_double, "__code__")
    assert _double.__wrapped__.__code__ is not _square.__wrapped__.__code__
    assert pickle.loads(pickle.dumps(_square)) is _square
    assert "_square" in repr(_square)


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
    "base_model",
    "bpe",
    "char_rnn",
    "conv",
    "data",
    "decoding",
    "distributed",
    "exercises",
    "gpt",
    "interactive",
    "lenet",
    "linear_attention",
    "lm_training",
    "lora",
    "notebook",
    "optim",
    "perceptron",
    "preference",
    "quiz",
    "rnn",
    "scalar_mlp",
    "seq2seq",
    "timing",
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
    assert names - CHECKING == {"checks", "diagrams", "style"}
