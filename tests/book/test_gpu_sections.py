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


def test_some_chapter_has_a_gpu_section():
    assert GPU_CHAPTERS, "no chapter has a heading with 'GPU section'"


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
