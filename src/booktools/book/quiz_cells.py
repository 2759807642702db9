"""Write (or check) the cells that show each chapter's questions.

A block of questions in ``src/dlbook/quizzes/NN_topic.yml`` is shown by a code cell at
the end of the section it follows: ``quiz.show("NN_topic", k, computed={...})``, which
passes the numbers the chapter computed (``computed_by`` in the data file). The cell's
code is hidden in the HTML book (tag ``remove-input``) and visible in Jupyter and Colab.

    python -m booktools.book.quiz_cells          # rewrite the quiz cells
    python -m booktools.book.quiz_cells --check  # exit 1 if any notebook is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from booktools.book import quizzes
from booktools.book.config import chapter_notebooks

TAG = "dlbook-quiz"


def cell_source(notebook: str, number: int, block: quizzes.Block) -> str:
    computed = [q for q in block.questions if q.computed is not None]
    call = f'quiz.show("{notebook}", {number})'
    if computed:
        lines = "".join(_entry(q.computed, q.computed_by) for q in computed)
        call = (
            f'quiz.show(\n    "{notebook}",\n    {number},\n'
            f"    computed={{\n{lines}    }},\n)"
        )
    return "# Check your understanding\nfrom dlbook import quiz\n\n" + call


def _entry(name: str, expression: str) -> str:
    """One entry of the ``computed`` dict, within 88 columns where it can be."""
    line = f'        "{name}": {expression},\n'
    if len(line) <= 89:
        return line
    return f'        "{name}": (\n            {expression}\n        ),\n'


def with_quiz_cells(nb, notebook: Path):
    """``nb`` with its quiz cells as the data file says (old ones taken out)."""
    cells = [c for c in nb.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    path = quizzes.quiz_file(notebook)
    blocks = quizzes.load(path) if path.exists() else []
    places = []
    for number, block in enumerate(blocks, start=1):
        end = quizzes.section_end(cells, block.after)
        if end is None:
            raise ValueError(
                f"{path.name}: no heading {block.after!r} in {notebook.name}"
            )
        places.append((end, number, block))
    for end, number, block in sorted(places, key=lambda p: (-p[0], -p[1])):
        end += _split_before_heading(cells, end)
        cell = nbformat.v4.new_code_cell(cell_source(notebook.stem, number, block))
        cell.id = f"quiz-{number}"
        cell.metadata["tags"] = ["remove-input", TAG]
        cells.insert(end, cell)
    nb.cells = cells
    return nb


def _split_before_heading(cells, index: int) -> int:
    """If the markdown cell at ``index`` has prose before its first heading (the end of
    the section before), split it there so that a block can go between; return 1 if
    it was split (the heading is then at ``index + 1``), else 0."""
    if index >= len(cells) or cells[index].cell_type != "markdown":
        return 0
    source = cells[index].source
    heading = quizzes.HEADING.search(source)
    if heading is None or not source[: heading.start()].strip():
        return 0
    rest = nbformat.v4.new_markdown_cell(source[heading.start() :])
    rest.id = f"{cells[index].id}-next"[:64]
    cells[index].source = source[: heading.start()].rstrip("\n")
    cells.insert(index + 1, rest)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check, write nothing"
    )
    args = parser.parse_args(argv)
    stale = []
    for notebook in chapter_notebooks():
        nb = nbformat.read(notebook, as_version=4)
        before = [(c.cell_type, c.source) for c in nb.cells]
        after = with_quiz_cells(nb, notebook)
        if [(c.cell_type, c.source) for c in after.cells] == before:
            continue
        stale.append(notebook.name)
        if not args.check:
            nbformat.write(after, notebook)
    if args.check and stale:
        print(
            f"quiz cells out of date in {', '.join(stale)}: run "
            "python -m booktools.book.quiz_cells, then execute those notebooks",
            file=sys.stderr,
        )
        return 1
    for name in stale if not args.check else []:
        print(f"rewrote the quiz cells of {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
