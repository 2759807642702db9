"""GPU sections (DESIGN.md): a chapter with one asks Colab for a GPU runtime, and its
large configuration is not dead code: the chapter runs here with DLBOOK_GPU_SMOKE=1,
which sends the large path through two tiny steps on the CPU."""

from __future__ import annotations

import nbformat
import pytest
from conftest import REPO_ROOT
from nbclient import NotebookClient

from booktools.book.config import chapter_notebooks


def _has_gpu_section(path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any(
        cell.cell_type == "markdown" and "GPU section" in line and line.startswith("#")
        for cell in nb.cells
        for line in cell.source.splitlines()
    )


GPU_CHAPTERS = [p for p in chapter_notebooks(REPO_ROOT) if _has_gpu_section(p)]


def _headings(cell) -> list[tuple[int, str]]:
    """The headings of a markdown cell as (level, text): (2, "GPU section: ...")."""
    if cell.cell_type != "markdown":
        return []
    found = []
    for line in cell.source.splitlines():
        marks, _, text = line.partition(" ")
        if marks and set(marks) == {"#"}:
            found.append((len(marks), text))
    return found


def through_gpu_section(cells: list) -> list:
    """The cells from the start to the end of the GPU section (the next heading of
    its level or above): what the chapter does after it plays no part in the check,
    and nbval's replays run it."""
    start, level = next(
        (i, lvl)
        for i, cell in enumerate(cells)
        for lvl, text in _headings(cell)
        if "GPU section" in text
    )
    for end in range(start + 1, len(cells)):
        if any(lvl <= level for lvl, _ in _headings(cells[end])):
            return cells[:end]
    return cells


def test_some_chapter_has_a_gpu_section():
    assert GPU_CHAPTERS, "no chapter has a heading with 'GPU section'"


def test_the_cut_ends_where_the_next_section_starts():
    cells = [
        nbformat.v4.new_markdown_cell("# Chapter"),
        nbformat.v4.new_code_cell("setup()"),
        nbformat.v4.new_markdown_cell("Text\n\n## GPU section: larger"),
        nbformat.v4.new_code_cell("run()"),
        nbformat.v4.new_markdown_cell("### Within it"),
        nbformat.v4.new_code_cell("more()"),
        nbformat.v4.new_markdown_cell("## Summary"),
        nbformat.v4.new_code_cell("after()"),
    ]
    assert [c.source for c in through_gpu_section(cells)][-1] == "more()"
    assert through_gpu_section(cells[:6]) == cells[:6]


@pytest.mark.parametrize("notebook", GPU_CHAPTERS, ids=lambda p: p.stem)
def test_gpu_chapter_asks_colab_for_a_gpu(notebook):
    meta = nbformat.read(notebook, as_version=4).metadata
    assert meta.get("accelerator") == "GPU", f"{notebook.name}: accelerator is not GPU"
    assert meta.get("colab", {}).get("gpuType"), f"{notebook.name}: no colab.gpuType"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", GPU_CHAPTERS, ids=lambda p: p.stem)
def test_large_path_runs_on_the_cpu(notebook, monkeypatch, tmp_path):
    monkeypatch.setenv("DLBOOK_GPU_SMOKE", "1")  # the kernel inherits it
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = through_gpu_section(nb.cells)
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    printed = "\n".join(
        output.get("text", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )
    assert "CPU (smoke run): 2 steps" in printed, (
        f"{notebook.name}: the large configuration did not run (no smoke-run line)"
    )
    assert "skipped: no GPU here" not in printed
