"""Write (or check) the setup cell at the top of every chapter notebook.

The install source is derived from ``_config.yml``, the single place the repository is
configured, so the Colab button and the package install can never point at different
places: both use the repository's student-edition branch, which holds no solutions.

    python -m booktools.book.setup_cell          # rewrite the setup cells
    python -m booktools.book.setup_cell --check  # exit 1 if any notebook is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from booktools.book.config import chapter_notebooks, install_source
from booktools.book.editions import STUDENT_BRANCH

SETUP_TAGS = ["remove-cell"]


def colab_install_source() -> str:
    """What Colab installs: the configured repository's student-edition branch.

    That branch (``python -m booktools.book.editions student-branch``) holds the
    package and the notebooks without solutions; ``main`` holds the masters, which a
    course keeps private, so the public path never points at them.
    """
    return install_source().rsplit("@", 1)[0] + f"@{STUDENT_BRANCH}"


def setup_cell_source(source: str | None = None) -> str:
    source = source or colab_install_source()
    return (
        "# Setup: in Colab, install the book's helper package "
        "(numpy, torch and matplotlib are\n"
        "# already there and are not reinstalled); "
        "then seed, style and pick the device.\n"
        "import os\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    DLBOOK_SOURCE = os.environ.get(\n"
        '        "DLBOOK_SOURCE",\n'
        f'        "{source}",\n'
        "    )\n"
        '    %pip install --quiet "{DLBOOK_SOURCE}"\n'
        "\n"
        "import dlbook\n"
        "\n"
        "DEVICE = dlbook.setup()"
    )


def first_code_cell(nb) -> int | None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            return index
    return None


def is_up_to_date(nb) -> bool:
    index = first_code_cell(nb)
    if index is None:
        return False
    cell = nb.cells[index]
    return cell.source == setup_cell_source() and set(SETUP_TAGS) <= set(
        cell.metadata.get("tags", [])
    )


def update(path: Path) -> bool:
    """Make the first code cell of ``path`` the setup cell.

    Return True if the file changed.
    """
    nb = nbformat.read(path, as_version=4)
    if is_up_to_date(nb):
        return False
    index = first_code_cell(nb)
    if index is None or "import dlbook" not in nb.cells[index].source:
        cell = nbformat.v4.new_code_cell(setup_cell_source())
        nb.cells.insert(0 if index is None else index, cell)
    else:
        cell = nb.cells[index]
        cell.source = setup_cell_source()
    tags = cell.metadata.setdefault("tags", [])
    for tag in SETUP_TAGS:
        if tag not in tags:
            tags.append(tag)
    nbformat.write(nb, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report notebooks out of date"
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="default: every chapter in _toc.yml"
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or chapter_notebooks()
    stale = []
    for path in paths:
        if args.check:
            if not is_up_to_date(nbformat.read(path, as_version=4)):
                stale.append(path)
        elif update(path):
            print(f"updated {path}")
    for path in stale:
        print(
            f"{path}: setup cell out of date; "
            "run `python -m booktools.book.setup_cell`",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
