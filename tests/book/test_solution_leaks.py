"""No line of a coding exercise's solution is shown anywhere in the public book.

The public edition (``booktools.book.editions.student_notebook``) replaces each
solution, the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, by a stub.
That protects nothing if the same code is shown elsewhere: in a cell before the
exercise, in a later chapter, or in a package function that a chapter prints with
``inspect.getsource``. These tests read every page as the public edition shows it and
look for every distinctive line of every solution.

What a page shows: every cell of every chapter after ``student_notebook`` (markdown and
code), the outputs of its code cells, and every ``book/*.md`` page. The public build
runs the notebooks again; a cell whose source the public edition leaves unchanged
prints what the master's stored output shows (tests/book/test_build_outputs.py and
the replays check that), so those outputs stand for it. A cell the public edition
changes (a stub, a test cell without its hidden tests) prints other things, so its
stored output is skipped.

Lines are compared without white space and without comments; a solution line leaks
when it is found inside a line the book shows (which may say more: `self.m = ...` holds
`m = ...`). A solution line counts when it holds at least ``SHORTEST`` characters other
than white space and is not an import. Shorter lines are plumbing that any
implementation has: the ones the pages showed when this test was written were
`return out`, `for x_t in x:`, `out.backward()`, `return h, rounds` and
`rounds, span = 0, 1` (9 to 15 characters), while a line of 16 or more carries a
formula or a decision (`m = beta1 * m + (1 - beta1) * g` has 21). 16 is also the
length below which tests/book/test_editions.py calls a solution line not distinctive.
The comparison is of text: the same code with its variables renamed is not caught.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book.editions import student_notebook

NOTEBOOKS = sorted((REPO_ROOT / "book").glob("*.ipynb"))
PAGES = sorted((REPO_ROOT / "book").glob("*.md"))
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
EXERCISE_LABEL = re.compile(r":::\{exercise\}.*\n:label: ([\w-]+)")
SHORTEST = 16  # characters other than white space, see the module's docstring


def without_comment(line: str) -> str:
    """``line`` up to a ``#`` that is not inside a string literal."""
    quote, at = None, 0
    while at < len(line):
        if quote is None and line[at] == "#":
            return line[:at]
        if quote is None and line[at] in "'\"":
            quote = (
                line[at : at + 3] if line[at : at + 3] in ('"""', "'''") else line[at]
            )
            at += len(quote)
            continue
        if quote is not None and line[at] == "\\":
            at += 2
            continue
        if quote is not None and line.startswith(quote, at):
            at, quote = at + len(quote), None
            continue
        at += 1
    return line


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class SolutionLine:
    chapter: str
    exercise: str  # the label of the exercise the solution answers
    cell: int  # the solution cell's index in the master
    line: str  # as written
    key: str  # without comment and white space: what is searched for


def solution_lines(master: Path) -> list[SolutionLine]:
    """The distinctive lines of every coding exercise's solution in ``master``."""
    found, exercise = [], None
    for index, cell in enumerate(nbformat.read(master, as_version=4).cells):
        exercise = ([exercise] + EXERCISE_LABEL.findall(cell.source))[-1]
        if cell.cell_type != "code":
            continue
        for region in SOLUTION_REGION.findall(cell.source):
            for line in region.splitlines():
                key = squashed(without_comment(line))
                if len(key) >= SHORTEST and not re.match(
                    r"\s*(import|from\s+\S+\s+import)\s", line
                ):
                    found.append(
                        SolutionLine(master.stem, exercise, index, line.strip(), key)
                    )
    return found


def output_text(output) -> str:
    """What a reader sees of one output: a stream, or the text forms of a result."""
    if "text" in output:
        return "".join(output["text"])
    data = output.get("data", {})
    kinds = ("text/plain", "text/markdown", "text/html", "text/latex")
    return "".join("".join(data.get(kind, "")) for kind in kinds)


def public_texts(notebooks: list[Path], pages: list[Path]) -> list[tuple[str, str]]:
    """(where, text) for everything the public book shows of ``notebooks`` and
    ``pages``: each cell's source and each output, as the public edition has them."""
    texts = []
    for master in notebooks:
        nb = nbformat.read(master, as_version=4)
        index_of = {cell.get("id"): index for index, cell in enumerate(nb.cells)}
        for cell in student_notebook(nb).cells:
            index = index_of.get(cell.get("id"))
            where = f"{master.name}, cell {index} (id {cell.get('id')})"
            texts.append((f"{where}, source", cell.source))
            same = nb.cells[index] if index is not None else None
            if (
                cell.cell_type == "code"
                and same is not None
                and same.source == cell.source
            ):
                texts += [
                    (f"{where}, output", output_text(output))
                    for output in same.get("outputs", [])
                ]
    texts += [(page.name, page.read_text(encoding="utf-8")) for page in pages]
    return texts


@functools.cache
def public_lines_of_the_book() -> tuple[tuple[str, str], ...]:
    return public_lines(NOTEBOOKS, PAGES)


def public_lines(notebooks, pages) -> tuple[tuple[str, str], ...]:
    """(where, line without white space) for every line the public book shows."""
    return tuple(
        (f"{where}, line {number}", squashed(line))
        for where, text in public_texts(notebooks, pages)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    )


def leaks(lines: list[SolutionLine], shown) -> list[str]:
    """One report per solution line found in a line that the public book shows."""
    return [
        f"{s.chapter}, exercise {s.exercise} (solution cell {s.cell}): "
        f"{s.line!r} is shown in {where}"
        for s in lines
        for where, text in shown
        if s.key in text
    ]


@pytest.mark.parametrize("master", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solution_line_is_shown_in_the_public_book(master):
    found = leaks(solution_lines(master), public_lines_of_the_book())
    assert not found, (
        f"{len(found)} lines of {master.stem}'s solutions are shown in the public "
        "book:\n" + "\n".join(found)
    )


def test_a_planted_leak_is_found_in_a_cell_and_in_a_printed_output(tmp_path):
    """A copy of a chapter shows one of its solution lines in a new cell before the
    exercises, then in the printed output of an existing cell (as a function printed
    with inspect.getsource would): each is reported, naming the exercise and place."""
    master = REPO_ROOT / "book" / "02_gradient_descent.ipynb"
    lines = solution_lines(master)
    assert lines, f"{master.name} has no distinctive solution line to plant"
    planted = lines[-1]
    copy = tmp_path / master.name

    nb = nbformat.read(master, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(f"if True:\n    {planted.line}\n"))
    nbformat.write(nb, copy)
    found = leaks(solution_lines(copy), public_lines([copy], []))
    assert [report for report in found if f"(id {nb.cells[3].id})" in report] == [
        f"{planted.chapter}, exercise {planted.exercise} (solution cell "
        f"{planted.cell + 1}): {planted.line!r} is shown in {master.name}, cell 3 "
        f"(id {nb.cells[3].id}), source, line 2"
    ]

    nb = nbformat.read(master, as_version=4)
    printer = next(
        i
        for i, cell in enumerate(nb.cells)
        if i > 1 and cell.cell_type == "code" and "nbgrader" not in cell.metadata
    )
    nb.cells[printer].outputs.append(
        nbformat.v4.new_output("stream", text=f"def f():\n    {planted.line}\n")
    )
    nbformat.write(nb, copy)
    place = f"{master.name}, cell {printer} (id {nb.cells[printer].id}), output"
    found = leaks(solution_lines(copy), public_lines([copy], []))
    assert [report for report in found if place in report] == [
        f"{planted.chapter}, exercise {planted.exercise} (solution cell "
        f"{planted.cell}): {planted.line!r} is shown in {place}, line 2"
    ]
