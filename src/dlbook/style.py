"""The book's shared matplotlib style.

Figures sit on a white card so they stay legible in both the light and the dark theme of
the HTML book; fonts are large enough to read on a phone.
"""

import matplotlib as mpl

__all__ = ["BOOK_STYLE", "use_book_style"]

BOOK_STYLE: dict[str, object] = {
    "figure.figsize": (6.0, 4.0),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.bbox": "tight",
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#222222",
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    # Ticks and legends a size up from matplotlib's 10: figures are scaled to the page
    # width.
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#222222",
    "ytick.color": "#222222",
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
    # Fixed hash salt for SVG ids and no timestamps in metadata: identical runs give
    # identical files.
    "svg.hashsalt": "dlbook",
}


def use_book_style() -> None:
    """Apply the book style to every figure made from now on."""
    mpl.rcParams.update(BOOK_STYLE)
