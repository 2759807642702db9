"""The chapters are stored small (an interactive figure keeps one picture, not every
frame: see booktools.book.slim), and their printed output fits the page's text
column."""

from __future__ import annotations

import matplotlib.pyplot as plt
import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book import slim
from booktools.book.config import chapter_notebooks
from dlbook.interactive import interactive_figure


def _line(slope):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, slope])
    return fig


@pytest.mark.parametrize("notebook", chapter_notebooks(REPO_ROOT), ids=lambda p: p.stem)
def test_stored_chapter_keeps_one_picture_per_interactive_figure(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert slim.slim_notebook(nb) == 0, (
        f"{notebook.name} stores every frame of its interactive figures: run "
        f"`.venv/bin/python -m booktools.book.slim {notebook.relative_to(REPO_ROOT)}`"
    )


@pytest.mark.parametrize("notebook", chapter_notebooks(REPO_ROOT), ids=lambda p: p.stem)
def test_printed_output_fits_the_text_column(notebook):
    # what a cell prints is shown as preformatted text: a longer line scrolls sideways
    nb = nbformat.read(notebook, as_version=4)
    wide = [
        (index, line)
        for index, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
        for line in output.text.splitlines()
        if len(line) > 88
    ]
    assert not wide, (
        f"{notebook.name}: {len(wide)} printed lines are wider than 88 characters, "
        f"the first in cell {wide[0][0]}: {wide[0][1][:60]!r}..."
    )


def test_slimming_keeps_the_first_picture_and_drops_the_frames():
    figure = interactive_figure(
        _line, {"slope": [0.0, 1.0, 2.0]}, alt="a line of slope"
    )
    page = figure.to_html()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("figure")]
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": page, "text/plain": "<figure>"}
        )
    ]
    assert slim.slim_notebook(nb) == 1
    stored = nb.cells[0].outputs[0].data["text/html"]
    assert stored.count("<img ") == 1 and "<script" not in stored
    assert slim.FIRST_IMAGE.search(page).group(0) in stored  # the picture first shown
    assert len(stored) < len(page) / 2
    assert slim.slim_notebook(nb) == 0  # slimming twice changes nothing
