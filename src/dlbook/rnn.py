"""Recurrent layers from scratch in NumPy (chapter 5): the same numbers as torch's
one-layer ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` given the same weights.

    rnn_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh")
        -> (outputs, h_T)
    lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> (outputs, (h_T, c_T))
    gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh) -> (outputs, h_T)

Shapes follow torch's defaults (``batch_first=False``): x (T, N, D) holds T time steps
of a batch of N inputs of size D; h0 and c0 (N, H) are the initial states; outputs
(T, N, H) holds the hidden state after every step. Weights are torch's parameters
``weight_ih_l0`` (G H, D), ``weight_hh_l0`` (G H, H), ``bias_ih_l0`` and
``bias_hh_l0`` (G H,), with G = 1 for the RNN, 4 for the LSTM (gates stacked i, f, g,
o) and 3 for the GRU (r, z, n). Each step is written out once, for one time step, so it
can be read next to the chapter's equations. The gates' sigmoid is
``dlbook.activations.sigmoid``.
"""

from __future__ import annotations

import numpy as np

from dlbook import checks
from dlbook.activations import sigmoid

__all__ = ["rnn_forward", "lstm_forward", "gru_forward"]


def rnn_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """Plain (Elman) RNN: h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    f is tanh or relu (``nonlinearity``). Biases may be None (torch's ``bias=False``).
    Returns (outputs (T, N, H), h_T (N, H)).
    """
    nonlinearity = checks.one_of(nonlinearity, "nonlinearity", ("tanh", "relu"))
    x, h0, w_ih, w_hh, b_ih, b_hh = _check(x, h0, w_ih, w_hh, b_ih, b_hh, gates=1)
    f = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
    h = h0
    outputs = []
    for x_t in x:  # x_t: (N, D)
        h = f(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)  # (N, H)
        outputs.append(h)
    return _stack(outputs, h0), h


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Long short-term memory, torch's equations and gate order (i, f, g, o):

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)   input gate
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)   forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)      candidate cell
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)   output gate
        c' = f * c + i * g,   h' = o * tanh(c')

    Returns (outputs (T, N, H), (h_T, c_T)).
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _check(x, h0, w_ih, w_hh, b_ih, b_hh, gates=4)
    c0 = checks.array(c0, "c0", shape=h0.shape)
    h, c = h0, c0
    outputs = []
    for x_t in x:
        a = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # (N, 4H): all gates at once
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        c = f * c + i * g  # keep part of the old cell, write part of the new
        h = o * np.tanh(c)  # show part of the cell
        outputs.append(h)
    return _stack(outputs, h0), (h, c)


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """Gated recurrent unit, torch's equations and gate order (r, z, n):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       candidate
        h' = (1 - z) * n + z * h                            z keeps the old state

    The reset gate multiplies W_hn h + b_hn, after the matrix product; some texts write
    W_hn (r * h) instead, which gives different numbers.
    Returns (outputs (T, N, H), h_T).
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _check(x, h0, w_ih, w_hh, b_ih, b_hh, gates=3)
    h = h0
    outputs = []
    for x_t in x:
        a_x = x_t @ w_ih.T + b_ih  # (N, 3H): input parts of r, z, n
        a_h = h @ w_hh.T + b_hh  # (N, 3H): hidden parts of r, z, n
        x_r, x_z, x_n = np.split(a_x, 3, axis=1)
        h_r, h_z, h_n = np.split(a_h, 3, axis=1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = np.tanh(x_n + r * h_n)
        h = (1.0 - z) * n + z * h
        outputs.append(h)
    return _stack(outputs, h0), h


def _check(x, h0, w_ih, w_hh, b_ih, b_hh, gates):
    """The arrays as float arrays, after checking that their shapes fit together."""
    x, h0 = checks.arrays(x=(x, "T N D"), h0=(h0, "N H"))  # one state per sequence
    D, H = x.shape[2], h0.shape[1]
    rows = gates * H  # the gates' weights, stacked
    w_ih = checks.array(w_ih, "w_ih", shape=(rows, D))
    w_hh = checks.array(w_hh, "w_hh", shape=(rows, H))
    b_ih = np.zeros(rows) if b_ih is None else checks.array(b_ih, "b_ih", shape=(rows,))
    b_hh = np.zeros(rows) if b_hh is None else checks.array(b_hh, "b_hh", shape=(rows,))
    return x, h0, w_ih, w_hh, b_ih, b_hh


def _stack(outputs: list, h0: np.ndarray) -> np.ndarray:
    if not outputs:  # T = 0: no steps, no outputs
        return np.zeros((0, *h0.shape))
    return np.stack(outputs)  # (T, N, H)
