"""dlbook.diagrams: each figure carries the chapters' symbols, stays inside its canvas,
has no two labels on top of each other, and has alt text."""

import io
import itertools
import re

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from PIL import Image

from dlbook import diagrams

matplotlib.use("Agg")

NAMES = [
    "lstm_cell",
    "gru_cell",
    "encoder_decoder_attention",
    "transformer_blocks",
    "norm_placement",
]
BOOK_DPI = 100  # dlbook.style: figure.dpi

# The symbols of each chapter's equations, as mathtext, written out here from the
# chapters (05: the LSTM and GRU equations; 06: the encoder-decoder with attention;
# 07: the blocks), not taken from the module.
EXACT_LABELS = {
    "lstm_cell": [
        r"$\mathbf{i}_t$",
        r"$\mathbf{f}_t$",
        r"$\mathbf{g}_t$",
        r"$\mathbf{o}_t$",
        r"$\mathbf{c}_t$",
        r"$\mathbf{c}_{t-1}$",
        r"$\mathbf{h}_t$",
        r"$\mathbf{h}_{t-1}$",
        r"$\mathbf{x}_t$",
    ],
    "gru_cell": [
        r"$\mathbf{r}_t$",
        r"$\mathbf{z}_t$",
        r"$\mathbf{n}_t$",
        r"$\mathbf{h}_t$",
        r"$\mathbf{h}_{t-1}$",
        r"$\mathbf{x}_t$",
    ],
    "encoder_decoder_attention": [
        r"$\mathbf{h}_1$",
        r"$\mathbf{h}_S$",
        r"$\mathbf{s}_t$",
        r"$\mathbf{c}_t$",
        r"$\alpha_{t1}$",
        r"$\alpha_{tS}$",
        r"$\mathbf{R}\mathbf{s}_t + \mathbf{C}\mathbf{c}_t + \mathbf{b}$",
    ],
    "transformer_blocks": [r"$\times N$"],
    "norm_placement": [r"$\mathbf{x}$"],
}
# Pieces that must appear inside some label (a box's text, a formula).
PARTS = {
    "lstm_cell": [
        r"$\sigma$",
        "tanh",
        "gradient path",
        "multiplied by $\\mathbf{f}_t$",
    ],
    "gru_cell": [
        r"$\sigma$",
        "tanh",
        r"\mathbf{W}_{hn}\mathbf{h}_{t-1} + \mathbf{b}_{hn}",
        r"\mathbf{W}_{xn}\mathbf{x}_t + \mathbf{b}_{xn}",
        "gradient path",
        "multiplied by $\\mathbf{z}_t$",
    ],
    "encoder_decoder_attention": [
        r"\mathbf{q}_t = \mathbf{W}_q\mathbf{s}_t + \mathbf{b}_q",
        r"\mathbf{k}_j = \mathbf{W}_k\mathbf{h}_j + \mathbf{b}_k",
        r"\alpha_{tj} = \mathrm{softmax}_j",
    ],
    "transformer_blocks": [
        "masked multi-head\nself-attention",
        "multi-head\nself-attention",
        "cross-attention",
        "feed-forward",
        "LayerNorm (norm1)",
        "LayerNorm (norm2)",
        "LayerNorm (norm3)",
        "post-norm",
        "memory",
    ],
    "norm_placement": [
        "post-norm",
        "pre-norm",
        "norm_first=False",
        "norm_first=True",
        "untouched by any norm",
    ],
}


def visible_texts(fig):
    """Every non-empty text the figure draws."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [*ax.texts, ax.title, ax.xaxis.label, ax.yaxis.label]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


@pytest.fixture(scope="module", params=NAMES)
def drawn(request):
    fig = getattr(diagrams, request.param)()
    fig.set_dpi(BOOK_DPI)
    fig.canvas.draw()
    yield request.param, fig
    plt.close(fig)


def test_each_function_returns_a_figure_that_fits_the_column(drawn):
    name, fig = drawn
    assert isinstance(fig, Figure), name
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=BOOK_DPI, bbox_inches="tight")
    width = Image.open(buffer).size[0]
    # The notebook shows figures cropped tight at 100 dpi; in a ~700 px column a
    # figure must keep 0.8 of its size (tests/book/test_browser.py), so 875 px at most.
    assert width <= 700 / 0.8, (name, width)


def test_the_chapters_symbols_are_labels(drawn):
    name, fig = drawn
    texts = [t.get_text() for t in visible_texts(fig)]
    for label in EXACT_LABELS[name]:
        assert label in texts, f"{name}: no label {label!r}"
    for part in PARTS[name]:
        assert any(part in text for text in texts), f"{name}: no label holds {part!r}"


def test_the_transformer_has_one_norm_after_each_sublayer():
    fig = diagrams.transformer_blocks()
    texts = [t.get_text() for t in visible_texts(fig)]
    plt.close(fig)
    # encoder: self-attention and feed-forward; decoder: those and cross-attention
    assert sum(text.startswith("Add & LayerNorm") for text in texts) == 5
    assert texts.count(r"$\times N$") == 2


def test_norm_placement_draws_two_norms_in_each_panel():
    fig = diagrams.norm_placement()
    texts = [t.get_text() for t in visible_texts(fig)]
    plt.close(fig)
    assert texts.count("LayerNorm") == 4


def test_labels_are_legible(drawn):
    name, fig = drawn
    for text in visible_texts(fig):
        # the book's smallest size (legend.fontsize 11): figures are scaled to ~700 px
        assert text.get_fontsize() >= 11, (name, text.get_text())


def test_no_text_leaves_the_figure(drawn):
    name, fig = drawn
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    for text in visible_texts(fig):
        box = text.get_window_extent(renderer)
        inside = box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
        assert inside, f"{name}: {text.get_text()!r} at {box.bounds} leaves the figure"


def test_no_two_labels_overlap(drawn):
    name, fig = drawn
    renderer = fig.canvas.get_renderer()
    tolerance = 1.0  # pixels: boxes that merely touch are fine
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in visible_texts(fig)]
    for (text_a, a), (text_b, b) in itertools.combinations(boxes, 2):
        overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_x <= tolerance or overlap_y <= tolerance, (
            f"{name}: {text_a!r} overlaps {text_b!r}"
        )


def test_drawing_is_deterministic(drawn):
    name, _ = drawn
    pictures = []
    for _ in range(2):
        fig = getattr(diagrams, name)()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=BOOK_DPI, metadata={"Software": None})
        plt.close(fig)
        pictures.append(buffer.getvalue())
    assert pictures[0] == pictures[1], name


def test_every_figure_has_alt_text_of_one_or_two_sentences():
    assert set(diagrams.ALT) == set(NAMES)
    for name in NAMES:
        alt = diagrams.ALT[name]
        sentences = re.findall(r"[.!?](?:\s|$)", alt)
        assert alt.endswith(".") and 1 <= len(sentences) <= 2, (name, alt)
        assert len(alt) >= 80, f"{name}: alt text too short to describe the figure"
