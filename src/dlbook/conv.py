"""Convolution arithmetic from scratch, in NumPy (chapter 4).

Everything here computes what a deep-learning library computes, and the tests check it
against PyTorch on random inputs:

- ``convolve1d(x, w)``: true (flipped-kernel) full convolution,
  z[i] = sum_u w[u] x[i - u];
- ``correlate1d(x, w)``: cross-correlation (no flip), z[i] = sum_u w[u] x[i + u];
- ``output_size(n, kernel, stride, padding, dilation)``: the length of a convolution's
  output;
- ``transposed_output_size(...)``: the same for a transposed convolution;
- ``im2col(x, ...)``: every receptive field of a batch of images as one column of a
  matrix;
- ``conv2d(x, w, b, stride, padding, dilation)``: what ``torch.nn.functional.conv2d``
  computes (a cross-correlation), as one matrix product over ``im2col``'s columns;
- ``conv_matrix(w, input_shape, ...)``: the sparse, weight-tied matrix C with
  vec(Y) = C vec(X);
- ``pool2d(x, size, stride, mode)``: max or average pooling over the last two axes.

No function loops over pixels in Python: windows are *views* of the input made with
``numpy.lib.stride_tricks.as_strided`` (no data copied), and the arithmetic is one BLAS
call.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlbook import checks

__all__ = [
    "convolve1d",
    "correlate1d",
    "output_size",
    "transposed_output_size",
    "im2col",
    "conv2d",
    "conv_matrix",
    "pool2d",
]


# -- 1-D: convolution versus cross-correlation -----------------------------------------


def correlate1d(x, w, mode: str = "full") -> np.ndarray:
    """Cross-correlation of ``x`` with the kernel ``w`` (no flip): what deep learning
    calls "convolution".

        z[i] = sum_{u=0}^{k-1} w[u] x[i + u]

    mode="valid": only windows that lie inside x (length n - k + 1; empty when k > n);
    mode="full":  x padded with k - 1 zeros on both sides, so every partial overlap
                  counts (length n + k - 1), as ``numpy.correlate(x, w, "full")``.
    """
    x, w = checks.arrays(x=(x, "n"), w=(w, "k"), dtype=None, nonempty=True)
    mode = checks.one_of(mode, "mode", ("full", "valid"))
    return _correlate1d(x, w, mode)


def _correlate1d(x: np.ndarray, w: np.ndarray, mode: str) -> np.ndarray:
    k = w.size
    if mode == "full":
        x = np.pad(x, k - 1)
    if x.size < k:
        return np.zeros(0, dtype=np.result_type(x, w))
    windows = np.lib.stride_tricks.sliding_window_view(x, k)  # (n_out, k), a view
    return windows @ w


def convolve1d(x, w) -> np.ndarray:
    """True (full) convolution of ``x`` with ``w``: the kernel is flipped before it
    slides.

        z[i] = sum_u w[u] x[i - u],   i = 0, ..., n + k - 2

    Flipping turns it into a cross-correlation:
    ``convolve1d(x, w) == correlate1d(x, w[::-1])``. The same numbers as
    ``numpy.convolve(x, w)``.
    """
    x, w = checks.arrays(x=(x, "n"), w=(w, "k"), dtype=None, nonempty=True)
    return _correlate1d(x, w[::-1], "full")


# -- output-size arithmetic ------------------------------------------------------------


def output_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Length of a convolution's (or pooling's) output along one axis.

    A dilated kernel of size k spans d (k - 1) + 1 input cells; it fits in the padded
    input n + 2p at floor((n + 2p - d (k - 1) - 1) / s) + 1 positions spaced s apart.
    With d = 1 this is the lecture's floor((n + 2p - k + s) / s).
    """
    n = checks.integer(n, "n", minimum=1)
    kernel = checks.integer(kernel, "kernel", minimum=1)
    stride = checks.integer(stride, "stride", minimum=1)
    padding = checks.integer(padding, "padding", minimum=0)
    dilation = checks.integer(dilation, "dilation", minimum=1)
    return _output_size(n, kernel, stride, padding, dilation)


def _output_size(n, kernel, stride, padding, dilation, axis: str = "") -> int:
    """output_size for checked ints; ``axis`` ("height", say) goes into the message."""
    span = dilation * (kernel - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"the kernel does not fit{' along the ' + axis if axis else ''}: "
            f"kernel={kernel} with dilation={dilation} spans {span} cells, more than "
            f"the padded input n + 2*padding = {n} + 2*{padding} = {n + 2 * padding}"
        )
    return (n + 2 * padding - span) // stride + 1


def transposed_output_size(
    n: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_padding: int = 0,
) -> int:
    """Length of a transposed convolution's output along one axis.

    A transposed convolution maps an input of length n back to a length m whose ordinary
    convolution (same kernel, stride, padding, dilation) has length n:

        m = (n - 1) s - 2p + d (k - 1) + 1 + output_padding

    ``output_padding`` (< stride, or < dilation) picks one of the several lengths m that
    a strided convolution maps to the same n (``torch.nn.ConvTranspose1d`` has the same
    argument).
    """
    n = checks.integer(n, "n", minimum=1)
    kernel = checks.integer(kernel, "kernel", minimum=1)
    stride = checks.integer(stride, "stride", minimum=1)
    padding = checks.integer(padding, "padding", minimum=0)
    dilation = checks.integer(dilation, "dilation", minimum=1)
    output_padding = checks.integer(output_padding, "output_padding", minimum=0)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            "output_padding must be smaller than stride or dilation, got "
            f"output_padding={output_padding} with stride={stride}, dilation={dilation}"
        )
    m = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1 + output_padding
    if m < 1:
        raise ValueError(
            f"padding={padding} is too large: the output would have length {m} "
            f"(n={n}, kernel={kernel}, stride={stride}, dilation={dilation})"
        )
    return m


# -- 2-D: im2col and conv2d ------------------------------------------------------------


def _windows(x: np.ndarray, kernel_size, stride, padding, dilation) -> np.ndarray:
    """Receptive fields of x (N, C, H, W): a read-only view (N, C, OH, OW, kh, kw).

    kernel_size, stride, padding, dilation: each an int or a pair (H, W), checked here.
    """
    kh, kw = checks.pair(kernel_size, "kernel_size", minimum=1)
    sh, sw = checks.pair(stride, "stride", minimum=1)
    ph, pw = checks.pair(padding, "padding", minimum=0)
    dh, dw = checks.pair(dilation, "dilation", minimum=1)
    N, C, H, W = x.shape
    oh = _output_size(H, kh, sh, ph, dh, "height")
    ow = _output_size(W, kw, sw, pw, dw, "width")
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    x = np.ascontiguousarray(x)
    bn, bc, bh, bw = x.strides
    # Moving one output row moves the window down by `stride` rows; moving one kernel
    # row moves the tap down by `dilation` rows. Strides in bytes say exactly that.
    return as_strided(
        x,
        shape=(N, C, oh, ow, kh, kw),
        strides=(bn, bc, bh * sh, bw * sw, bh * dh, bw * dw),
        writeable=False,
    )


def im2col(x, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Every receptive field of x (N, C, H, W) as a column: (N, C*kh*kw, OH*OW).

    Column j of image n holds the C*kh*kw input values the output pixel j reads, in the
    order (channel, kernel row, kernel column) -- the order of ``w.reshape(O, -1)``. The
    same layout as ``torch.nn.functional.unfold``. A convolution is then one matrix
    product: ``w.reshape(O, -1) @ im2col(x, ...)``.
    """
    x = checks.array(x, "x", shape=("N", "C", "H", "W"), dtype=None)
    win = _windows(x, kernel_size, stride, padding, dilation)  # (N, C, OH, OW, kh, kw)
    N, C, oh, ow, kh, kw = win.shape
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, oh * ow)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """2-D convolution layer as ``torch.nn.functional.conv2d`` computes it
    (a cross-correlation).

    x: (N, C, H, W) images; w: (O, C, kh, kw) filters; b: (O,) biases or None.
    stride, padding (zeros), dilation: an int or a pair (height, width).

        y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v]
                               * x_pad[n, c, i s_h + u d_h, j s_w + v d_w]

    Returns (N, O, OH, OW): OH = output_size(H, kh, ...), OW = output_size(W, kw, ...).
    """
    x, w = checks.arrays(
        x=(x, "N C H W"),
        w=(w, "O C kh kw"),
        dtype=None,
        nonempty="w",
        explain={"C": "{b} expects {size_b} input channels but {a} has {size_a}"},
    )
    O = w.shape[0]
    b = None if b is None else checks.array(b, "b", shape=(O,), dtype=None)
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    win = _windows(
        x.astype(dtype, copy=False), (w.shape[2], w.shape[3]), stride, padding, dilation
    )
    N, C, oh, ow, kh, kw = win.shape
    # im2col: copy the view into a matrix with one row per weight of a filter, in w's
    # (channel, kernel row, kernel column) order, and one column per output pixel of the
    # batch. The axis order (c, u, v, n, i, j) keeps the copy's innermost loop running
    # along image rows, which makes it several times faster than (n, i, j, c, u, v).
    cols = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3)).reshape(
        C * kh * kw, N * oh * ow
    )
    # The whole layer is now one matrix product: O filters times all receptive fields.
    y = w.reshape(O, -1).astype(dtype, copy=False) @ cols  # (O, N*OH*OW)
    if b is not None:
        y += b.astype(dtype, copy=False)[:, None]
    return np.ascontiguousarray(y.reshape(-1, N, oh, ow).transpose(1, 0, 2, 3))


def conv_matrix(w, input_shape, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The matrix C with ``C @ X.ravel() == conv2d(X, w).ravel()`` for one channel.

    w: (kh, kw) kernel; input_shape: (H, W). C has one row per output pixel and one
    column per input pixel; row r holds the kernel's weights at the input pixels output
    r reads and zeros elsewhere (taps that land in the zero padding are dropped: they
    multiply zeros). Every row holds the same weights, shifted: the weight sharing of a
    convolution.
    """
    w = checks.array(w, "w", shape=("kh", "kw"), dtype=None, nonempty=True)
    H, W = checks.pair(input_shape, "input_shape", minimum=1, int_for_both=False)
    sh, sw = checks.pair(stride, "stride", minimum=1)
    ph, pw = checks.pair(padding, "padding", minimum=0)
    dh, dw = checks.pair(dilation, "dilation", minimum=1)
    kh, kw = w.shape
    oh, ow = _output_size(H, kh, sh, ph, dh), _output_size(W, kw, sw, pw, dw)
    # Input row and column read by output (i, j) through kernel tap (u, v), all at once.
    i, j, u, v = np.meshgrid(
        np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw), indexing="ij"
    )
    rows = i * sh + u * dh - ph
    cols = j * sw + v * dw - pw
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    C = np.zeros((oh * ow, H * W), dtype=w.dtype)
    out_index = (i * ow + j)[inside]
    in_index = (rows * W + cols)[inside]
    C[out_index, in_index] = np.broadcast_to(w, (oh, ow, kh, kw))[inside]
    return C


# -- pooling ---------------------------------------------------------------------------


def pool2d(x, size, stride=None, mode: str = "max") -> np.ndarray:
    """Max or average pooling over the last two axes of x (any leading axes are kept).

    size: window (int or pair); stride: step (default: size, so windows do not overlap).
    Windows that would run past the edge are dropped (as torch's default
    ceil_mode=False). The same numbers as ``torch.nn.functional.max_pool2d`` /
    ``avg_pool2d`` on (N, C, H, W).
    """
    x = checks.array(x, "x", shape=(..., "H", "W"), dtype=None)
    kh, kw = checks.pair(size, "size", minimum=1)
    mode = checks.one_of(mode, "mode", ("max", "avg"))
    H, W = x.shape[-2:]
    if kh > H or kw > W:
        raise ValueError(
            f"size ({kh}, {kw}) is larger than the input's (H, W) = ({H}, {W}) "
            f"(x has shape {x.shape})"
        )
    lead = x.shape[:-2]
    x4 = x.reshape(-1, 1, H, W)  # (M, 1, H, W), M = the product of the leading axes
    stride = (kh, kw) if stride is None else stride  # windows side by side
    win = _windows(x4, (kh, kw), stride, 0, 1)  # (M, 1, OH, OW, kh, kw)
    out = win.max(axis=(-2, -1)) if mode == "max" else win.mean(axis=(-2, -1))
    return out.reshape(*lead, *out.shape[-2:])
