"""Every chapter starts with the same setup cell.

Its install source is the one configured in _config.yml.
"""

import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book.config import chapter_notebooks, install_source, load_config
from booktools.book.setup_cell import first_code_cell, setup_cell_source

CHAPTERS = chapter_notebooks(REPO_ROOT)


def test_install_source_is_the_configured_repository():
    repo = load_config()["repository"]
    assert install_source() == f"dlbook @ git+{repo['url']}@{repo['branch']}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(
        "# "
    ), f"{path.name}: the first cell must be the chapter title"
    cell = nb.cells[first_code_cell(nb)]
    assert cell.source == setup_cell_source(), (
        f"{path.name}: setup cell out of date; "
        "run `python -m booktools.book.setup_cell`"
    )
    assert "remove-cell" in cell.metadata.get("tags", [])


def test_setup_cell_installs_only_in_colab():
    source = setup_cell_source()
    lines = source.splitlines()
    install = next(i for i, line in enumerate(lines) if "%pip install" in line)
    assert lines[install].startswith("    "), (
        "the install must sit inside the Colab branch"
    )
    assert 'if "google.colab" in sys.modules:' in lines[:install]
    pip_line = lines[install]
    for word in (
        "--upgrade",
        "-U",
        "torch",
        "numpy",
        "matplotlib",
        "--force-reinstall",
    ):
        assert word not in pip_line.split(), (
            f"the install must not touch {word}: {pip_line}"
        )


def test_stale_setup_cell_is_detected(tmp_path):
    from booktools.book.setup_cell import main

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# T"),
            nbformat.v4.new_code_cell("import dlbook\nDEVICE = 1"),
        ]
    )
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert main(["--check", str(path)]) == 1
    assert main([str(path)]) == 0
    assert main(["--check", str(path)]) == 0
