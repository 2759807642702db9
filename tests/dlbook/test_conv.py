"""Oracle tests for dlbook.conv: every function against PyTorch (or NumPy) on random
inputs, the worked examples of chapter 4, and the errors for impossible
configurations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import conv

torch.set_num_threads(1)


def random_conv_config(rng: np.random.Generator) -> dict:
    """A random, valid conv2d configuration (shapes; stride, padding, dilation per
    axis)."""
    while True:
        N, C, O = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 5)
        H, W = rng.integers(1, 13), rng.integers(1, 13)
        kh, kw = rng.integers(1, 6), rng.integers(1, 6)
        sh, sw = rng.integers(1, 4), rng.integers(1, 4)
        ph, pw = rng.integers(0, 4), rng.integers(0, 4)
        dh, dw = rng.integers(1, 4), rng.integers(1, 4)
        if dh * (kh - 1) + 1 <= H + 2 * ph and dw * (kw - 1) + 1 <= W + 2 * pw:
            return dict(
                N=int(N),
                C=int(C),
                O=int(O),
                H=int(H),
                W=int(W),
                kh=int(kh),
                kw=int(kw),
                stride=(int(sh), int(sw)),
                padding=(int(ph), int(pw)),
                dilation=(int(dh), int(dw)),
            )


# -- 1-D -------------------------------------------------------------------------------


def test_worked_example_1d():
    x, w = [1, 2, 3, 4], [7, 6, 5]
    # by hand: convolution flips w, so z0 = 7*1, z1 = 7*2 + 6*1, ...; correlation
    # starts with 5*1
    assert conv.convolve1d(x, w).tolist() == [7, 20, 38, 56, 39, 20]
    assert conv.correlate1d(x, w).tolist() == [5, 16, 34, 52, 45, 28]
    assert conv.correlate1d(x, w, mode="valid").tolist() == [34, 52]


@pytest.mark.parametrize("seed", range(40))
def test_1d_against_numpy_and_torch(seed):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(1, 20), rng.integers(1, 8)
    x, w = rng.standard_normal(n), rng.standard_normal(k)
    np.testing.assert_allclose(conv.convolve1d(x, w), np.convolve(x, w), atol=1e-12)
    np.testing.assert_allclose(
        conv.correlate1d(x, w), np.correlate(x, w, "full"), atol=1e-12
    )
    # torch's conv1d is a cross-correlation; padding k - 1 makes it the "full" one
    full = F.conv1d(
        torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None], padding=k - 1
    )
    np.testing.assert_allclose(conv.correlate1d(x, w), full[0, 0].numpy(), atol=1e-12)
    # ... and with the kernel flipped it is the true convolution
    flipped = F.conv1d(
        torch.from_numpy(x)[None, None],
        torch.from_numpy(w[::-1].copy())[None, None],
        padding=k - 1,
    )
    np.testing.assert_allclose(conv.convolve1d(x, w), flipped[0, 0].numpy(), atol=1e-12)
    np.testing.assert_allclose(
        conv.correlate1d(x, w, mode="valid"),
        np.correlate(x, w, "valid") if k <= n else np.zeros(0),
        atol=1e-12,
    )


def test_1d_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(n,\), got \(2, 2\)"):
        conv.convolve1d(np.ones((2, 2)), [1, 2])
    with pytest.raises(ValueError, match=r"w must not be empty, got shape \(0,\)"):
        conv.correlate1d([1, 2], [])
    with pytest.raises(ValueError, match="mode must be 'full' or 'valid', got 'same'"):
        conv.correlate1d([1, 2], [1], mode="same")
    with pytest.raises(TypeError, match="x must hold real numbers"):
        conv.convolve1d(["a", "b"], [1])
    with pytest.raises(TypeError, match="w must hold real numbers, got .* dtype bool"):
        conv.convolve1d([1.0, 2.0], [True, False])


# -- conv2d ----------------------------------------------------------------------------


def test_worked_examples_2d():
    X = np.arange(9).reshape(1, 1, 3, 3)
    K = np.array([[0, 1], [2, 3]]).reshape(1, 1, 2, 2)
    # by hand: 0*0 + 1*1 + 2*3 + 3*4 = 19, ...
    assert conv.conv2d(X, K)[0, 0].tolist() == [[19, 25], [37, 43]]
    image = np.array(
        [
            [1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0],
            [0, 0, 1, 1, 1],
            [0, 0, 1, 1, 0],
            [0, 1, 1, 0, 0],
        ]
    )
    x_kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    assert conv.conv2d(image[None, None], x_kernel[None, None])[0, 0].tolist() == [
        [4, 3, 4],
        [2, 4, 3],
        [2, 3, 4],
    ]


@pytest.mark.parametrize("seed", range(150))
def test_conv2d_against_torch(seed):
    rng = np.random.default_rng(seed)
    cfg = random_conv_config(rng)
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"]))
    w = rng.standard_normal((cfg["O"], cfg["C"], cfg["kh"], cfg["kw"]))
    b = rng.standard_normal(cfg["O"]) if seed % 2 else None
    # alternate between int and pair arguments when both axes agree
    kwargs = {
        k: (v[0] if v[0] == v[1] and seed % 3 == 0 else v)
        for k, v in cfg.items()
        if k in ("stride", "padding", "dilation")
    }
    ours = conv.conv2d(x, w, b, **kwargs)
    theirs = F.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        None if b is None else torch.from_numpy(b),
        **kwargs,
    ).numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_conv2d_float32_matches_torch_and_keeps_dtype():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    ours = conv.conv2d(x, w, b)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(
        ours, F.conv2d(*map(torch.from_numpy, (x, w, b))).numpy(), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("seed", range(30))
def test_im2col_against_torch_unfold(seed):
    rng = np.random.default_rng(1000 + seed)
    cfg = random_conv_config(rng)
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"]))
    kwargs = {k: cfg[k] for k in ("stride", "padding", "dilation")}
    ours = conv.im2col(x, (cfg["kh"], cfg["kw"]), **kwargs)
    theirs = F.unfold(torch.from_numpy(x), (cfg["kh"], cfg["kw"]), **kwargs).numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_conv_matrix_lecture_example():
    w1, w2, w3, w4 = 2, 3, 5, 7  # primes, so every entry says which weight it is
    expected = np.array(
        [
            [w1, w2, 0, w3, w4, 0, 0, 0, 0],
            [0, w1, w2, 0, w3, w4, 0, 0, 0],
            [0, 0, 0, w1, w2, 0, w3, w4, 0],
            [0, 0, 0, 0, w1, w2, 0, w3, w4],
        ]
    )
    np.testing.assert_array_equal(
        conv.conv_matrix(np.array([[w1, w2], [w3, w4]]), (3, 3)), expected
    )


@pytest.mark.parametrize("seed", range(30))
def test_conv_matrix_against_torch(seed):
    rng = np.random.default_rng(2000 + seed)
    cfg = random_conv_config(rng)
    x = rng.standard_normal((cfg["H"], cfg["W"]))
    w = rng.standard_normal((cfg["kh"], cfg["kw"]))
    kwargs = {k: cfg[k] for k in ("stride", "padding", "dilation")}
    C = conv.conv_matrix(w, (cfg["H"], cfg["W"]), **kwargs)
    y = F.conv2d(
        torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None], **kwargs
    ).numpy()
    assert C.shape == (y.size, x.size)
    np.testing.assert_allclose(C @ x.ravel(), y.ravel(), atol=1e-10)


def test_conv2d_errors():
    x = np.zeros((2, 3, 5, 5))
    with pytest.raises(
        ValueError, match=r"x must have shape \(N, C, H, W\), got \(5, 5\)"
    ):
        conv.conv2d(np.zeros((5, 5)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(
        ValueError, match=r"w must have shape \(O, C, kh, kw\), got \(3, 3\)"
    ):
        conv.conv2d(x, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"w must not be empty, got shape \(0, 3"):
        conv.conv2d(x, np.zeros((0, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"w expects 1 input channels .* x has 3"):
        conv.conv2d(x, np.zeros((4, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\), got \(3,\)"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), b=np.zeros(3))
    with pytest.raises(ValueError, match="does not fit along the height"):
        conv.conv2d(x, np.zeros((4, 3, 6, 3)))
    with pytest.raises(ValueError, match="does not fit along the width"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), dilation=(1, 3))
    with pytest.raises(ValueError, match="stride must be an int >= 1, got 0"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="padding must be an int >= 0, got -1"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), padding=-1)
    with pytest.raises(TypeError, match=r"stride must be an int >= 1, got 1\.5"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), stride=1.5)
    with pytest.raises(ValueError, match=r"padding\[1\] must be an int >= 0, got -2"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), padding=(1, -2))
    with pytest.raises(ValueError, match=r"dilation must be an int or a pair"):
        conv.conv2d(x, np.zeros((4, 3, 3, 3)), dilation=(1, 2, 3))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        conv.conv2d(np.full((1, 1, 3, 3), "a"), np.zeros((1, 1, 3, 3)))


def test_conv2d_errors_show_the_shapes_and_sizes():
    x = np.zeros((2, 3, 5, 5))
    with pytest.raises(
        ValueError,
        match=r"^w expects 1 input channels but x has 3: x has shape \(2, 3, 5, 5\), "
        r"w has shape \(4, 1, 3, 3\)$",
    ):
        conv.conv2d(x, np.zeros((4, 1, 3, 3)))
    with pytest.raises(
        ValueError,
        match=r"^the kernel does not fit along the height: kernel=6 with dilation=1 "
        r"spans 6 cells, more than the padded input n \+ 2\*padding = 5 \+ 2\*0 = 5$",
    ):
        conv.conv2d(x, np.zeros((4, 3, 6, 3)))
    with pytest.raises(ValueError, match=r"kernel_size\[1\] must be an int >= 1"):
        conv.im2col(x, (2, 0))


def test_conv2d_does_not_fit_where_torch_refuses_too():
    x, w = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3)
    with pytest.raises(RuntimeError):
        F.conv2d(x, w, dilation=2)
    with pytest.raises(ValueError, match="spans 5 cells"):
        conv.conv2d(x.numpy(), w.numpy(), dilation=2)


# -- output-size arithmetic ------------------------------------------------------------


def test_lecture_output_sizes():
    # 5 x 7 input, k = 3, p = 1: 5 x 7 with stride 1 and 3 x 4 with stride 2
    assert (conv.output_size(5, 3, padding=1), conv.output_size(7, 3, padding=1)) == (
        5,
        7,
    )
    assert (conv.output_size(5, 3, 2, 1), conv.output_size(7, 3, 2, 1)) == (3, 4)
    # LeNet-5: 28 -> 28 (pad 2) -> 14 (pool) -> 10 -> 5
    assert conv.output_size(28, 5, padding=2) == 28
    assert conv.output_size(28, 2, stride=2) == 14
    assert conv.output_size(14, 5) == 10


@pytest.mark.parametrize("seed", range(300))
def test_output_size_against_torch(seed):
    rng = np.random.default_rng(3000 + seed)
    n, k, s, p, d = (
        int(v)
        for v in (
            rng.integers(1, 40),
            rng.integers(1, 8),
            rng.integers(1, 6),
            rng.integers(0, 5),
            rng.integers(1, 5),
        )
    )
    x, w = torch.zeros(1, 1, 1, n), torch.zeros(1, 1, 1, k)
    if d * (k - 1) + 1 > n + 2 * p:
        with pytest.raises(RuntimeError):
            F.conv2d(x, w, stride=s, padding=(0, p), dilation=d)
        with pytest.raises(ValueError, match="does not fit"):
            conv.output_size(n, k, s, p, d)
    else:
        expected = F.conv2d(x, w, stride=s, padding=(0, p), dilation=d).shape[-1]
        assert conv.output_size(n, k, s, p, d) == expected


@pytest.mark.parametrize("seed", range(150))
def test_transposed_output_size_against_torch(seed):
    rng = np.random.default_rng(4000 + seed)
    n, k, s, p, d = (
        int(v)
        for v in (
            rng.integers(1, 20),
            rng.integers(1, 6),
            rng.integers(1, 5),
            rng.integers(0, 3),
            rng.integers(1, 4),
        )
    )
    op = int(rng.integers(0, max(s, d)))
    m = (n - 1) * s - 2 * p + d * (k - 1) + 1 + op
    if m < 1:
        with pytest.raises(ValueError, match="too large"):
            conv.transposed_output_size(n, k, s, p, d, op)
        return
    y = F.conv_transpose1d(
        torch.zeros(1, 1, n),
        torch.zeros(1, 1, k),
        stride=s,
        padding=p,
        output_padding=op,
        dilation=d,
    )
    assert conv.transposed_output_size(n, k, s, p, d, op) == y.shape[-1]
    # the forward convolution of that output has length n again (when
    # output_padding < stride)
    if op < s:
        assert conv.output_size(y.shape[-1], k, s, p, d) == n


def test_output_size_errors():
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        conv.output_size(0, 3)
    with pytest.raises(ValueError, match="kernel must be an int >= 1, got 0"):
        conv.output_size(5, 0)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        conv.output_size(5, 3, stride=0)
    with pytest.raises(ValueError, match="dilation must be an int >= 1"):
        conv.output_size(5, 3, dilation=0)
    with pytest.raises(TypeError, match=r"n must be an int >= 1, got 5\.0"):
        conv.output_size(5.0, 3)
    with pytest.raises(TypeError, match="kernel must be an int >= 1, got True"):
        conv.output_size(5, True)
    with pytest.raises(
        ValueError,
        match=r"kernel=4 with dilation=2 spans 7 cells, more than the padded input",
    ):
        conv.output_size(5, 4, dilation=2)
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        conv.transposed_output_size(5, 3, stride=2, output_padding=2)
    assert conv.output_size(np.int64(5), 3) == 3  # NumPy integers are fine


# -- pooling ---------------------------------------------------------------------------


def test_lecture_pooling_examples():
    a = np.array([[1, 2, 2, 3], [2, 1, 3, 2], [2, 3, 1, 2], [3, 2, 2, 1]])
    assert conv.pool2d(a, 2, mode="avg").tolist() == [[1.5, 2.5], [2.5, 1.5]]
    assert conv.pool2d(a, 2).tolist() == [[2, 3], [3, 2]]
    b = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    assert conv.pool2d(b, 2, stride=2, mode="max").tolist() == [[6, 8], [3, 4]]


@pytest.mark.parametrize("seed", range(80))
def test_pool2d_against_torch(seed):
    rng = np.random.default_rng(5000 + seed)
    H, W = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    kh, kw = int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1))
    stride = (
        None if seed % 3 == 0 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    )
    x = rng.standard_normal((2, 3, H, W))
    xt = torch.from_numpy(x)
    for mode, fn in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        ours = conv.pool2d(x, (kh, kw), stride, mode=mode)
        theirs = fn(xt, (kh, kw), stride).numpy()
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_pool2d_keeps_leading_axes():
    x = np.random.default_rng(0).standard_normal((3, 6, 6))
    assert conv.pool2d(x, 3).shape == (3, 2, 2)
    assert conv.pool2d(x[0], 2, stride=1).shape == (5, 5)


def test_pool2d_errors():
    with pytest.raises(
        ValueError, match=r"x must have shape \(\.\.\., H, W\), got \(4,\)"
    ):
        conv.pool2d(np.zeros(4), 2)
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg', got 'min'"):
        conv.pool2d(np.zeros((4, 4)), 2, mode="min")
    with pytest.raises(
        ValueError,
        match=r"size \(5, 5\) is larger than the input's \(H, W\) = \(4, 4\)",
    ):
        conv.pool2d(np.zeros((4, 4)), 5)
    with pytest.raises(ValueError, match="size must be an int >= 1, got 0"):
        conv.pool2d(np.zeros((4, 4)), 0)
    with pytest.raises(TypeError, match="stride must be an int >= 1, got '2'"):
        conv.pool2d(np.zeros((4, 4)), 2, stride="2")
    with pytest.raises(ValueError, match="stride must be an int >= 1, got 0"):
        conv.pool2d(np.zeros((4, 4)), 2, stride=0)
    with pytest.raises(ValueError, match=r"stride\[1\] must be an int >= 1, got 0"):
        conv.pool2d(np.zeros((4, 4)), 2, stride=(1, 0))


def test_im2col_and_conv_matrix_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        conv.im2col(np.zeros((3, 3)), 2)
    with pytest.raises(TypeError, match=r"kernel_size must be an int >= 1, got 2\.0"):
        conv.im2col(np.zeros((1, 1, 3, 3)), 2.0)
    with pytest.raises(ValueError, match=r"w must have shape \(kh, kw\), got \(3,\)"):
        conv.conv_matrix(np.zeros(3), (3, 3))
    with pytest.raises(TypeError, match="input_shape must be a pair"):
        conv.conv_matrix(np.zeros((2, 2)), 3)
    with pytest.raises(
        ValueError, match=r"input_shape\[1\] must be an int >= 1, got 0"
    ):
        conv.conv_matrix(np.zeros((2, 2)), (3, 0))
    with pytest.raises(
        ValueError, match=r"input_shape must be a pair \(H, W\), got \(3, 3, 3\)"
    ):
        conv.conv_matrix(np.zeros((2, 2)), (3, 3, 3))
