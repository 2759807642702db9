"""Architecture diagrams for chapters 5, 6 and 7, drawn with matplotlib.

    lstm_cell()                  the LSTM cell, torch's gates i, f, g, o
    gru_cell()                   the GRU cell, torch's gates r, z and candidate n
    encoder_decoder_attention()  dlbook.seq2seq's recurrent translator with attention
    transformer_blocks()         the encoder and decoder blocks, post-norm
    norm_placement()             post-norm against pre-norm

Each function returns a matplotlib Figure and draws nothing else; ``ALT`` holds each
figure's alt text. The symbols are the chapters' own: the LSTM and GRU equations of
chapter 5 (as dlbook.rnn computes them),

    LSTM: c_t = f_t * c_{t-1} + i_t * g_t,   h_t = o_t * tanh(c_t)
    GRU:  n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn)),
          h_t = (1 - z_t) * n_t + z_t * h_{t-1}

the attention read-out of dlbook.seq2seq (alpha_tj, c_t = sum_j alpha_tj h_j,
R s_t + C c_t + b) and the blocks of dlbook.transformer. The path that carries the
gradient (or the residual stream) unchanged is dashed and labelled, so no figure
relies on colour alone; the colours are from the Okabe-Ito palette, which readers with
any common colour-vision deficiency can tell apart.

The drawing works in inches: each figure has one axes that fills it, with data
coordinates equal to inches from the bottom-left corner, so a box of width 1 is one inch
wide on the page at any size.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from dlbook.style import BOOK_STYLE

__all__ = [
    "ALT",
    "lstm_cell",
    "gru_cell",
    "encoder_decoder_attention",
    "transformer_blocks",
    "norm_placement",
]

# The book's text sizes, so a diagram reads like the plots beside it.
TITLE_SIZE = BOOK_STYLE["axes.titlesize"]  # 13
LABEL_SIZE = BOOK_STYLE["axes.labelsize"]  # 12
SMALL_SIZE = BOOK_STYLE["legend.fontsize"]  # 11
SYMBOL_SIZE = 15  # the names of vectors on the arrows

INK = BOOK_STYLE["axes.labelcolor"]  # "#222222"
# Light fills from the Okabe-Ito palette; every box also says what it is in words.
SIGMOID_FILL = "#cfe7f6"  # sky blue: sigmoid gates
TANH_FILL = "#fbe2b0"  # orange: tanh
ATTENTION_FILL = "#c7eadf"  # bluish green: attention
FEED_FORWARD_FILL = "#fbe2b0"  # orange: feed-forward network
NORM_FILL = "#f2d7e6"  # reddish purple: layer norm
STATE_FILL = "#eeeeee"  # grey: states and plain maps
HIGHLIGHT = "#d55e00"  # vermillion, dashed: the gradient path, the residual stream

OP_RADIUS = 0.17  # the circles of pointwise operations
TIMES, PLUS = "×", "+"  # elementwise product and sum


# ---------------------------------------------------------------------------------
# Drawing primitives shared by all the diagrams
# ---------------------------------------------------------------------------------


def _canvas(width: float, height: float, title: str):
    """A white figure of width x height inches whose data coordinates are inches."""
    fig = plt.figure(figsize=(width, height), facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    _label(ax, width / 2, height - 0.3, title, size=TITLE_SIZE)
    return fig, ax


def _label(ax, x, y, text, size=LABEL_SIZE, color=INK, **kwargs):
    """Text centred on (x, y) unless ``ha``/``va`` say otherwise."""
    kwargs = {"ha": "center", "va": "center", **kwargs}
    return ax.text(x, y, text, fontsize=size, color=color, zorder=4, **kwargs)


def _box(ax, x, y, text, width=1.0, height=0.5, fill=STATE_FILL, size=LABEL_SIZE):
    """A rounded box centred on (x, y) with its text in the middle."""
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=fill,
            edgecolor=INK,
            linewidth=1.2,
            zorder=2,
        )
    )
    return _label(ax, x, y, text, size=size, multialignment="center")


def _frame(ax, x0, y0, x1, y1):
    """A light grey rounded frame around a group of parts (a cell, a block)."""
    ax.add_patch(
        FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0,rounding_size=0.15",
            facecolor="#f7f7f7",
            edgecolor="#999999",
            linewidth=1.0,
            zorder=0,
        )
    )


def _op(ax, x, y, symbol):
    """A pointwise operation: a small circle holding its symbol (TIMES, PLUS, ...)."""
    ax.add_patch(
        Circle((x, y), OP_RADIUS, facecolor="white", edgecolor=INK, lw=1.2, zorder=2)
    )
    return _label(ax, x, y, symbol, size=LABEL_SIZE + 4)


def _arrow(ax, *points, color=INK, dashed=False, width=1.4, head=True):
    """A polyline through ``points`` with an arrowhead at the last one."""
    ax.add_patch(
        FancyArrowPatch(
            path=Path(points),
            arrowstyle="-|>" if head else "-",
            mutation_scale=14,
            color=color,
            linewidth=width,
            linestyle=(0, (4, 3)) if dashed else "-",
            joinstyle="miter",
            capstyle="butt",
            zorder=3 if dashed else 1,  # a highlighted path lies on top
        )
    )


def _dot(ax, x, y):
    """A junction where one line splits into two."""
    ax.add_patch(Circle((x, y), 0.045, color=INK, zorder=3))


# ---------------------------------------------------------------------------------
# Chapter 5: gated cells
# ---------------------------------------------------------------------------------


def _state_line(ax, y, names, ops, gradient_note):
    """A cell's state as a straight line at height y: in from the left (names[0]),
    through a product and a sum at x = ops, out on the right (names[1]); above it, the
    gradient's way back, dashed, with its note."""
    (x_times, x_plus), (name_in, name_out) = ops, names
    _label(ax, 0.5, y, name_in, size=SYMBOL_SIZE)
    _label(ax, 7.9, y, name_out, size=SYMBOL_SIZE)
    _arrow(ax, (0.9, y), (x_times - OP_RADIUS, y))
    _op(ax, x_times, y, TIMES)
    _arrow(ax, (x_times + OP_RADIUS, y), (x_plus - OP_RADIUS, y))
    _op(ax, x_plus, y, PLUS)
    _arrow(ax, (x_plus + OP_RADIUS, y), (7.6, y))
    _arrow(ax, (7.6, y + 0.5), (0.9, y + 0.5), color=HIGHLIGHT, dashed=True)
    _label(ax, 4.25, y + 0.75, gradient_note, color=HIGHLIGHT)


def lstm_cell() -> Figure:
    """The LSTM cell of chapter 5 (torch.nn.LSTM's equations and gate order i, f, g, o).

    The cell state runs along the top, touched only by a multiply by f_t and an add;
    the four gates read x_t and h_{t-1} from the line along the bottom.
    """
    fig, ax = _canvas(8.3, 5.3, "The LSTM cell: the cell state runs along the top")
    belt, gates, bus = 3.75, 1.95, 0.85  # heights of the three rows
    _frame(ax, 1.05, 0.5, 7.35, 4.05)

    # The cell state: c_{t-1} -> x f_t -> + i_t g_t -> c_t, a straight line.
    x_forget, x_add, x_out = 2.2, 4.5, 6.7
    x_i, x_g, x_o = 3.4, x_add, 5.6  # the other gates' columns
    _state_line(
        ax,
        belt,
        (r"$\mathbf{c}_{t-1}$", r"$\mathbf{c}_t$"),
        (x_forget, x_add),
        r"gradient path: multiplied by $\mathbf{f}_t$ only",
    )

    # The input line: h_{t-1} from the left, x_t from below, read by every gate.
    _label(ax, 0.5, bus, r"$\mathbf{h}_{t-1}$", size=SYMBOL_SIZE)
    _arrow(ax, (0.9, bus), (x_o, bus), head=False)
    _label(ax, 1.5, 0.2, r"$\mathbf{x}_t$", size=SYMBOL_SIZE)
    _arrow(ax, (1.5, 0.38), (1.5, bus), head=False)
    _dot(ax, 1.5, bus)

    # The gates, each sigma or tanh of its own affine map of x_t and h_{t-1}.
    for x, name, fill, word in [
        (x_forget, r"$\sigma$", SIGMOID_FILL, "forget"),
        (x_i, r"$\sigma$", SIGMOID_FILL, "input"),
        (x_g, "tanh", TANH_FILL, "candidate"),
        (x_o, r"$\sigma$", SIGMOID_FILL, "output"),
    ]:
        _arrow(ax, (x, bus), (x, gates - 0.3))
        _dot(ax, x, bus)
        _box(
            ax,
            x,
            gates,
            f"{word}\n{name}",
            width=0.95,
            height=0.6,
            fill=fill,
            size=SMALL_SIZE,
        )

    # f_t multiplies the old cell; i_t * g_t is added to it.
    _arrow(ax, (x_forget, gates + 0.3), (x_forget, belt - OP_RADIUS))
    _label(ax, x_forget - 0.28, 2.85, r"$\mathbf{f}_t$", size=SYMBOL_SIZE)
    y_write = 2.95
    _arrow(ax, (x_i, gates + 0.3), (x_i, y_write), (x_g - OP_RADIUS, y_write))
    _label(ax, x_i - 0.28, 2.6, r"$\mathbf{i}_t$", size=SYMBOL_SIZE)
    _arrow(ax, (x_g, gates + 0.3), (x_g, y_write - OP_RADIUS))
    _label(ax, x_g + 0.3, 2.55, r"$\mathbf{g}_t$", size=SYMBOL_SIZE)
    _op(ax, x_g, y_write, TIMES)
    _arrow(ax, (x_g, y_write + OP_RADIUS), (x_add, belt - OP_RADIUS))

    # h_t = o_t * tanh(c_t).
    _dot(ax, x_out, belt)
    _arrow(ax, (x_out, belt), (x_out, 3.2))
    _box(ax, x_out, 2.95, "tanh", width=0.7, height=0.45, fill=TANH_FILL)
    _arrow(ax, (x_out, 2.72), (x_out, gates + OP_RADIUS))
    _op(ax, x_out, gates, TIMES)
    _arrow(ax, (x_o + 0.475, gates), (x_out - OP_RADIUS, gates))
    _label(ax, 6.3, gates + 0.25, r"$\mathbf{o}_t$", size=SYMBOL_SIZE)
    _arrow(ax, (x_out, gates - OP_RADIUS), (x_out, bus), (7.6, bus))
    _label(ax, 7.9, bus, r"$\mathbf{h}_t$", size=SYMBOL_SIZE)
    return fig


def gru_cell() -> Figure:
    """The GRU cell of chapter 5 (torch.nn.GRU's equations and gate order r, z, n).

    The state runs along the top; z_t near 1 copies h_{t-1} to h_t. The reset gate
    multiplies W_hn h_{t-1} + b_hn, after the matrix product, as torch does.
    """
    title = "The GRU cell (PyTorch's form): the state runs along the top"
    fig, ax = _canvas(8.3, 5.85, title)
    top, mix, gates, bus = 4.45, 3.75, 2.0, 0.8  # heights of the rows
    _frame(ax, 1.05, 0.45, 7.35, 4.75)

    # The state: h_{t-1} -> x z_t -> + (1 - z_t) n_t -> h_t, a straight line.
    x_keep, x_new = 2.3, 6.3
    _state_line(
        ax,
        top,
        (r"$\mathbf{h}_{t-1}$", r"$\mathbf{h}_t$"),
        (x_keep, x_new),
        r"gradient path: multiplied by $\mathbf{z}_t$ only"
        r" ($\mathbf{z}_t \approx 1$ copies $\mathbf{h}_{t-1}$)",
    )

    # The input line: h_{t-1} branches down, x_t comes from below.
    _dot(ax, 1.3, top)
    _arrow(ax, (1.3, top), (1.3, bus), (x_new, bus), head=False)
    _label(ax, 1.75, 0.15, r"$\mathbf{x}_t$", size=SYMBOL_SIZE)
    _arrow(ax, (1.75, 0.33), (1.75, bus), head=False)
    _dot(ax, 1.75, bus)

    # Update gate z_t: keeps the old state on the top line; 1 - z_t weighs n_t.
    _dot(ax, x_keep, bus)
    _arrow(ax, (x_keep, bus), (x_keep, gates - 0.3))
    _box(ax, x_keep, gates, "update\n" + r"$\sigma$", 0.85, 0.6, SIGMOID_FILL)
    _arrow(ax, (x_keep, gates + 0.3), (x_keep, top - OP_RADIUS))
    _label(ax, x_keep - 0.28, 2.85, r"$\mathbf{z}_t$", size=SYMBOL_SIZE)
    _dot(ax, x_keep, mix)
    _arrow(ax, (x_keep, mix), (3.6 - 0.28, mix))
    _box(ax, 3.6, mix, r"$1 - \cdot$", width=0.56, height=0.36, fill="white")
    _arrow(ax, (3.6 + 0.28, mix), (x_new - OP_RADIUS, mix))
    _op(ax, x_new, mix, TIMES)
    _arrow(ax, (x_new, mix + OP_RADIUS), (x_new, top - OP_RADIUS))

    # Reset gate r_t, after the matrix product, and the candidate n_t.
    x_reset, x_hidden, y_affine, y_sum = 3.35, 4.5, 1.3, 2.55
    _dot(ax, x_reset, bus)
    _arrow(ax, (x_reset, bus), (x_reset, gates - 0.3))
    _box(ax, x_reset, gates, "reset\n" + r"$\sigma$", 0.85, 0.6, SIGMOID_FILL)
    _label(ax, x_reset + 0.65, gates + 0.22, r"$\mathbf{r}_t$", size=SYMBOL_SIZE)
    _arrow(ax, (x_reset + 0.425, gates), (x_hidden - OP_RADIUS, gates))
    for x, text, width in [
        (x_hidden, r"$\mathbf{W}_{hn}\mathbf{h}_{t-1} + \mathbf{b}_{hn}$", 1.6),
        (x_new, r"$\mathbf{W}_{xn}\mathbf{x}_t + \mathbf{b}_{xn}$", 1.4),
    ]:
        _dot(ax, x, bus)
        _arrow(ax, (x, bus), (x, y_affine - 0.2))
        _box(ax, x, y_affine, text, width=width, height=0.4, size=SMALL_SIZE)
    _arrow(ax, (x_hidden, y_affine + 0.2), (x_hidden, gates - OP_RADIUS))
    _op(ax, x_hidden, gates, TIMES)
    _arrow(
        ax, (x_hidden, gates + OP_RADIUS), (x_hidden, y_sum), (x_new - OP_RADIUS, y_sum)
    )
    _arrow(ax, (x_new, y_affine + 0.2), (x_new, y_sum - OP_RADIUS))
    _op(ax, x_new, y_sum, PLUS)
    _arrow(ax, (x_new, y_sum + OP_RADIUS), (x_new, 2.9))
    _box(ax, x_new, 3.1, "tanh", width=0.7, height=0.4, fill=TANH_FILL)
    _arrow(ax, (x_new, 3.3), (x_new, mix - OP_RADIUS))
    _label(ax, x_new + 0.3, 3.45, r"$\mathbf{n}_t$", size=SYMBOL_SIZE)
    return fig


# ---------------------------------------------------------------------------------
# Chapter 6: attention in a recurrent encoder-decoder
# ---------------------------------------------------------------------------------


def encoder_decoder_attention() -> Figure:
    """One decoder step of dlbook.seq2seq.RecurrentTranslator with attention.

    The encoder states h_j serve as keys (k_j = W_k h_j + b_k) and as values; the
    decoder state s_t is the query; the context c_t = sum_j alpha_tj h_j joins s_t in
    the read-out R s_t + C c_t + b.
    """
    fig, ax = _canvas(8.3, 6.1, "Attention in the encoder-decoder: one decoder step t")
    row = 1.25  # the encoder's and the decoder's states
    xs = [0.85, 1.95, 3.05, 4.15]
    names = [r"$\mathbf{h}_1$", r"$\mathbf{h}_2$", r"$\cdots$", r"$\mathbf{h}_S$"]
    weights = [r"$\alpha_{t1}$", r"$\alpha_{t2}$", None, r"$\alpha_{tS}$"]

    # The encoder GRU: one state per source word.
    _frame(ax, 0.35, 0.75, 4.65, 1.75)
    _label(ax, 2.5, 0.52, "encoder GRU over the source words", size=SMALL_SIZE)
    for j, (x, name) in enumerate(zip(xs, names)):
        if name == r"$\cdots$":
            _label(ax, x, row, name, size=SYMBOL_SIZE)
        else:
            _box(ax, x, row, name, width=0.62, height=0.5, size=SYMBOL_SIZE)
        if j:
            _arrow(ax, (xs[j - 1] + 0.31, row), (x - 0.31, row))

    # Values: every h_j, weighted by alpha_tj, summed into the context c_t.
    x_sum, y_sum = 2.5, 3.8
    for x, weight in zip(xs, weights):
        if weight is None:
            continue
        end = (x_sum + (x - x_sum) * 0.12, y_sum - OP_RADIUS)
        _arrow(ax, (x, row + 0.25), end)
        side = -1 if x < x_sum else 1
        _label(ax, x + (x_sum - x) * 0.45 + side * 0.32, 2.55, weight, size=SYMBOL_SIZE)
    _op(ax, x_sum, y_sum, r"$\Sigma$")
    _label(ax, 1.25, 2.05, r"values $\mathbf{h}_j$", size=SMALL_SIZE)

    # Keys k_j = W_k h_j + b_k and the query q_t = W_q s_t + b_q give the weights.
    x_key, x_query = 4.95, 6.9
    _arrow(ax, (4.65, row), (x_key, row), (x_key, 3.5))
    _label(
        ax,
        x_key + 0.1,
        2.95,
        r"keys (every $\mathbf{h}_j$)"
        "\n"
        r"$\mathbf{k}_j = \mathbf{W}_k\mathbf{h}_j + \mathbf{b}_k$",
        size=SMALL_SIZE,
        ha="left",
    )
    _box(
        ax,
        6.05,
        3.8,
        r"$\alpha_{tj} = \mathrm{softmax}_j\,"
        r"(\mathbf{q}_t \cdot \mathbf{k}_j \,/\, \sqrt{\mathrm{hidden}})$",
        width=3.6,
        height=0.6,
        fill=ATTENTION_FILL,
        size=SMALL_SIZE,
    )
    _arrow(ax, (4.25, 3.8), (x_sum + OP_RADIUS, y_sum))
    _label(ax, 3.55, 4.05, "weights", size=SMALL_SIZE)
    _arrow(ax, (x_query, row + 0.25), (x_query, 3.5))
    _label(
        ax,
        x_query - 0.1,
        2.1,
        "query\n" + r"$\mathbf{q}_t = \mathbf{W}_q\mathbf{s}_t + \mathbf{b}_q$",
        size=SMALL_SIZE,
        ha="right",
    )

    # The decoder GRU and the read-out R s_t + C c_t + b.
    _frame(ax, 5.15, 0.75, 7.45, 1.75)
    _label(ax, 5.9, 0.52, "decoder GRU", size=SMALL_SIZE)
    _label(ax, 5.65, row, r"$\mathbf{s}_{t-1}$", size=SYMBOL_SIZE)
    _arrow(ax, (6.05, row), (x_query - 0.31, row))
    _box(ax, x_query, row, r"$\mathbf{s}_t$", width=0.62, height=0.5, size=SYMBOL_SIZE)
    _arrow(ax, (x_query, 0.2), (x_query, row - 0.25))
    _label(ax, x_query + 0.1, 0.3, "previous word", size=SMALL_SIZE, ha="left")
    x_read, y_read = 6.9, 4.75
    _arrow(ax, (x_sum, y_sum + OP_RADIUS), (x_sum, y_read), (x_read - 1.2, y_read))
    _label(ax, x_sum - 0.3, 4.3, r"$\mathbf{c}_t$", size=SYMBOL_SIZE)
    _box(
        ax,
        x_read,
        y_read,
        r"$\mathbf{R}\mathbf{s}_t + \mathbf{C}\mathbf{c}_t + \mathbf{b}$",
        width=2.4,
        height=0.5,
        size=LABEL_SIZE,
    )
    _arrow(ax, (x_query + 0.31, row), (7.85, row), (7.85, y_read - 0.25))
    _arrow(ax, (x_read, y_read + 0.25), (x_read, 5.3))
    _label(
        ax, x_read - 0.1, 5.42, "scores of the next word", size=SMALL_SIZE, ha="right"
    )
    return fig


# ---------------------------------------------------------------------------------
# Chapter 7: transformer blocks and where the layer norm goes
# ---------------------------------------------------------------------------------


BLOCK_WIDTH = 2.3  # the width of a sublayer's box in transformer_blocks


def _sublayer(ax, x, y, text, fill, norm, residual_side):
    """One post-norm sublayer entered at height y: the sublayer, then Add & LayerNorm,
    with the residual connection around it on one side. Returns the height it ends at.
    """
    y_box, y_norm = y + 0.66, y + 1.47  # the centres of the two boxes
    _dot(ax, x, y + 0.15)
    _arrow(ax, (x, y), (x, y_box - 0.31))
    _box(ax, x, y_box, text, BLOCK_WIDTH, 0.62, fill, size=SMALL_SIZE)
    _arrow(ax, (x, y_box + 0.31), (x, y_norm - 0.2))
    _box(
        ax,
        x,
        y_norm,
        f"Add & LayerNorm ({norm})",
        BLOCK_WIDTH,
        0.4,
        NORM_FILL,
        size=SMALL_SIZE,
    )
    side = x + residual_side * (BLOCK_WIDTH / 2 + 0.25)
    _arrow(
        ax,
        (x, y + 0.15),
        (side, y + 0.15),
        (side, y_norm),
        (x + residual_side * BLOCK_WIDTH / 2, y_norm),
    )
    return y_norm + 0.2


def transformer_blocks() -> Figure:
    """torch.nn.TransformerEncoderLayer and TransformerDecoderLayer as in chapter 7,
    post-norm (norm_first=False, torch's default): x = LayerNorm(x + sublayer(x)).
    The norms carry torch's names (norm1, norm2, norm3)."""
    fig, ax = _canvas(8.3, 7.8, "Transformer blocks (post-norm, PyTorch's default)")
    x_enc, x_dec, y_in = 2.3, 6.1, 1.2
    half = BLOCK_WIDTH / 2

    # Encoder block: self-attention, then feed-forward; its residuals on the left.
    _label(ax, x_enc, 0.45, "source embeddings\n+ positions", size=SMALL_SIZE)
    _arrow(ax, (x_enc, 0.75), (x_enc, y_in), head=False)
    y = _sublayer(
        ax, x_enc, y_in, "multi-head\nself-attention", ATTENTION_FILL, "norm1", -1
    )
    y_enc = _sublayer(ax, x_enc, y, "feed-forward", FEED_FORWARD_FILL, "norm2", -1)
    _frame(ax, x_enc - half - 0.45, 0.95, x_enc + half + 0.2, y_enc + 0.45)
    _label(ax, x_enc - half - 0.35, y_enc + 0.25, "encoder block", ha="left")
    _label(ax, 0.3, (y_in + y_enc) / 2, r"$\times N$", size=SYMBOL_SIZE)

    # Decoder block: masked self-attention, cross-attention, feed-forward; its
    # residuals on the right, so the encoder's output can come in from the left.
    _label(ax, x_dec, 0.45, "target embeddings (shifted)\n+ positions", size=SMALL_SIZE)
    _arrow(ax, (x_dec, 0.75), (x_dec, y_in), head=False)
    y = _sublayer(
        ax, x_dec, y_in, "masked multi-head\nself-attention", ATTENTION_FILL, "norm1", 1
    )
    y_cross = y + 0.66
    y = _sublayer(
        ax, x_dec, y, "multi-head\ncross-attention", ATTENTION_FILL, "norm2", 1
    )
    y_dec = _sublayer(ax, x_dec, y, "feed-forward", FEED_FORWARD_FILL, "norm3", 1)
    _frame(ax, x_dec - half - 0.2, 0.95, x_dec + half + 0.45, y_dec + 0.45)
    _label(ax, x_dec - half - 0.1, y_dec + 0.25, "decoder block", ha="left")
    _label(ax, 8.0, (y_in + y_dec) / 2, r"$\times N$", size=SYMBOL_SIZE)
    _arrow(ax, (x_dec, y_dec), (x_dec, y_dec + 0.75))
    _label(
        ax, x_dec + 0.1, y_dec + 0.7, "to the output layer", size=SMALL_SIZE, ha="left"
    )

    # The encoder's output ("memory") gives the cross-attention its keys and values.
    y_memory, x_between = y_enc + 0.8, (x_enc + x_dec) / 2
    _arrow(
        ax,
        (x_enc, y_enc),
        (x_enc, y_memory),
        (x_between, y_memory),
        (x_between, y_cross),
        (x_dec - half, y_cross),
    )
    _label(
        ax,
        x_enc,
        y_memory + 0.4,
        "encoder output (memory):\nkeys and values of the cross-attention",
        size=SMALL_SIZE,
    )
    return fig


def _residual_panel(ax, x0, pre_norm):
    """One panel of norm_placement: two sublayers on a vertical residual stream."""
    stream, branch = x0 + 1.2, x0 + 2.85  # the columns of the stream and the sublayers
    if pre_norm:
        title = "pre-norm (norm_first=True)"
        rule = r"$\mathbf{x} \leftarrow \mathbf{x} + "
        rule += r"\mathrm{sublayer}(\mathrm{LN}(\mathbf{x}))$"
    else:
        title = "post-norm (norm_first=False, default)"
        rule = r"$\mathbf{x} \leftarrow \mathrm{LN}(\mathbf{x} + "
        rule += r"\mathrm{sublayer}(\mathbf{x}))$"
    _label(ax, x0 + 2.15, 6.95, title)
    _label(ax, x0 + 2.15, 6.55, rule)
    _label(ax, stream, 0.3, r"$\mathbf{x}$", size=SYMBOL_SIZE)
    y = 0.5  # where the stream enters each sublayer
    for name, fill in [
        ("self-attention", ATTENTION_FILL),
        ("feed-forward", FEED_FORWARD_FILL),
    ]:
        y_add = y + 1.75
        if pre_norm:
            parts = [("LayerNorm", NORM_FILL, y + 0.75), (name, fill, y + 1.3)]
        else:
            parts = [(name, fill, y + 1.05)]
        _dot(ax, stream, y + 0.3)
        _arrow(ax, (stream, y + 0.3), (branch, y + 0.3), (branch, parts[0][2] - 0.18))
        for k, (text, part_fill, y_part) in enumerate(parts):
            _box(ax, branch, y_part, text, 1.5, 0.36, part_fill, size=SMALL_SIZE)
            if k:
                _arrow(ax, (branch, parts[k - 1][2] + 0.18), (branch, y_part - 0.18))
        _arrow(
            ax,
            (branch, parts[-1][2] + 0.18),
            (branch, y_add),
            (stream + OP_RADIUS, y_add),
        )
        _op(ax, stream, y_add, PLUS)
        _stream(ax, stream, y, y_add - OP_RADIUS, pre_norm)
        y = y_add + OP_RADIUS
        if not pre_norm:  # the stream itself goes through the norm
            _arrow(ax, (stream, y), (stream, y + 0.2))
            _box(
                ax, stream, y + 0.38, "LayerNorm", 1.3, 0.36, NORM_FILL, size=SMALL_SIZE
            )
            y += 0.56
    _stream(ax, stream, y, 5.85, pre_norm)
    _label(ax, stream, 6.05, "to the next block", size=SMALL_SIZE)
    if pre_norm:
        note = "residual stream: from x to the output, untouched by any norm"
    else:
        note = "residual stream: through a LayerNorm after every add"
    _label(
        ax,
        x0 + 0.3,
        3.1,
        note,
        size=SMALL_SIZE,
        rotation=90,
        color=HIGHLIGHT if pre_norm else INK,
    )


def _stream(ax, x, y0, y1, highlighted):
    """A piece of the residual stream, dashed and highlighted where no norm is on it."""
    if highlighted:
        _arrow(ax, (x, y0), (x, y1), color=HIGHLIGHT, dashed=True, width=2.2)
    else:
        _arrow(ax, (x, y0), (x, y1))


def norm_placement() -> Figure:
    """Post-norm, x = LN(x + sublayer(x)), against pre-norm, x = x + sublayer(LN(x)),
    the two placements of dlbook.transformer (norm_first as in torch)."""
    fig, ax = _canvas(8.3, 7.7, "Where the layer norm goes")
    _residual_panel(ax, 0.0, pre_norm=False)
    _residual_panel(ax, 4.15, pre_norm=True)
    ax.plot([4.15, 4.15], [0.2, 6.8], color="#bbbbbb", linewidth=1.0)
    return fig


ALT = {
    "lstm_cell": (
        "Diagram of the LSTM cell: the cell state runs as a straight line along the "
        "top from c_{t-1} to c_t, touched only by a multiplication with the forget "
        "gate f_t and the addition of i_t times g_t; below, x_t and h_{t-1} feed the "
        "sigmoid gates f, i, o and the tanh candidate g, and h_t = o_t times "
        "tanh(c_t) leaves at the bottom right. A dashed line above the cell state "
        "marks the gradient path, multiplied by f_t only."
    ),
    "gru_cell": (
        "Diagram of the GRU cell in PyTorch's form: the state runs along the top from"
        " h_{t-1} to h_t, multiplied by the update gate z_t and added to (1 - z_t) "
        "times the candidate n_t = tanh(W_xn x_t + b_xn + r_t times (W_hn h_{t-1} + "
        "b_hn)), with the reset gate r_t applied after the matrix product. A dashed "
        "line along the top marks the gradient path, multiplied by z_t only, where "
        "z_t near 1 copies h_{t-1}."
    ),
    "encoder_decoder_attention": (
        "Diagram of one decoder step of the recurrent translator with attention: the "
        "encoder states h_1 to h_S give keys k_j = W_k h_j + b_k to a softmax box "
        "that also takes the query q_t = W_q s_t + b_q from the decoder state s_t; "
        "its weights alpha_tj weigh the values h_j into the context c_t, which joins "
        "s_t in the read-out R s_t + C c_t + b that scores the next word."
    ),
    "transformer_blocks": (
        "Diagram of the transformer's encoder block (multi-head self-attention, then "
        "feed-forward) beside its decoder block (masked self-attention, cross-"
        "attention, feed-forward), each repeated N times; every sublayer has a "
        "residual connection around it and an Add & LayerNorm after it (post-norm, "
        "PyTorch's default), and the encoder's output enters the cross-attention as "
        "its keys and values."
    ),
    "norm_placement": (
        "Two panels with two sublayers each on a vertical residual stream. In post-"
        "norm the stream passes through a LayerNorm after every addition; in pre-norm"
        " the LayerNorm sits on the side branch before each sublayer, and the dashed "
        "stream runs from x to the output without passing any norm."
    ),
}
