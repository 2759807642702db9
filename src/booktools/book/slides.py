"""Lecture slides for every chapter, from the cells its notebook marks for a slide.

    python -m booktools.book.slides               # the instructor edition's slides/
    python -m booktools.book.slides --output DIR  # elsewhere

The instructor edition's build (``booktools.book.build --edition instructor``) runs it
into _build/instructor/_build/html/slides/: one ``<chapter>.slides.html`` per chapter,
an index.html, and _vendor/ (reveal.js, MathJax).

A chapter marks its lecture with Jupyter's own convention, the cell metadata
``"slideshow": {"slide_type": ...}`` that RISE and nbconvert's reveal.js export read:
``slide`` starts a slide, ``subslide`` one below it (arrow down), ``fragment`` appears
on the next key press, ``-`` continues the slide before, ``notes`` goes to the speaker
notes (key S), ``skip`` is left out. The book's decks read it with three differences,
so that a deck is a lecture and not a copy of the page:

- a cell with no mark is left out (RISE would add it to the slide before);
- a code cell shows its outputs; its code too only when tagged ``slide-input``;
- a markdown cell shows its headings and displayed equations ($$ ... $$), and the
  whole cell goes to the speaker notes; tagged ``slide-prose``, or with neither
  heading nor equation, it shows whole.

Decks are made from the public edition (``editions.student_notebook``), so no
solution, hidden test or worked solution can reach a slide. That edition has no
outputs: a marked code cell takes its stored outputs from the master, which cannot show
a solution as long as the cell runs before the chapter's first one (a marked code cell
after it is an error).

Every deck loads reveal.js and MathJax from ``_vendor/`` beside it: the folder works
offline, and on its own.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

from booktools.book.config import BOOK_DIR, REPO_ROOT, chapter_notebooks
from booktools.book.editions import SOLUTION_TAG, student_notebook

__all__ = ["deck_notebook", "slide_types", "build_deck", "build_all", "main"]

OUTPUT = REPO_ROOT / "_build" / "instructor" / "_build" / "html" / "slides"
VENDOR = BOOK_DIR / "_extra" / "_vendor"
TEMPLATE = Path(__file__).with_name("slides.html.j2")
SHOWN = {"slide", "subslide", "fragment", "-"}
INPUT_TAG = "slide-input"
PROSE_TAG = "slide-prose"
HEADING = re.compile(r"#{1,6} ")
WIDGET = "application/vnd.jupyter.widget-view+json"


def slide_types(nb: nbformat.NotebookNode) -> list[str | None]:
    """Each cell's slideshow mark (None where it has none)."""
    return [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]


def headings_and_equations(markdown: str) -> str:
    """The heading lines and $$ ... $$ blocks of a markdown cell, in order."""
    kept, in_maths = [], False
    for line in markdown.splitlines():
        stripped = line.strip()
        opens = stripped.startswith("$$")
        if in_maths or opens or HEADING.match(stripped):
            kept.append(line)
        if opens or in_maths:
            # a block closes on a line ending in $$ (a one-line block opens and closes)
            closes = stripped.endswith("$$") and (in_maths or len(stripped) > 2)
            in_maths = not closes
    return "\n".join(kept)


def _slide_markdown(cell, mark: str) -> list:
    """A marked markdown cell as slide cells: what it shows, then its notes."""
    shown = headings_and_equations(cell.source)
    if PROSE_TAG in cell.metadata.get("tags", []) or not shown.strip():
        return [_marked(nbformat.v4.new_markdown_cell(cell.source), mark)]
    return [
        _marked(nbformat.v4.new_markdown_cell(shown), mark),
        _marked(nbformat.v4.new_markdown_cell(cell.source), "notes"),
    ]


def _slide_code(cell, master_cell) -> nbformat.NotebookNode:
    """A marked code cell: the master's outputs; its code only if tagged to show."""
    outputs = []
    alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
    for output in master_cell.get("outputs", []):
        if output.get("name") == "stderr":
            continue  # warnings are not part of a lecture
        output = nbformat.from_dict(output)
        output.get("data", {}).pop(WIDGET, None)  # no kernel on a slide
        if "image/png" in output.get("data", {}) and alt:
            output.metadata.setdefault("image/png", {})["alt"] = alt
        outputs.append(output)
    slide = nbformat.v4.new_code_cell(cell.source, outputs=outputs)
    if INPUT_TAG not in cell.metadata.get("tags", []):
        slide.metadata["transient"] = {"remove_source": True}
    return _marked(slide, cell.metadata["slideshow"]["slide_type"])


def _marked(cell, mark: str) -> nbformat.NotebookNode:
    cell.metadata["slideshow"] = {"slide_type": mark}
    return cell


def _is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", []) or "nbgrader" in cell.metadata


def deck_notebook(
    master: nbformat.NotebookNode, name: str = ""
) -> nbformat.NotebookNode:
    """The notebook a chapter's deck is made of: its public edition's marked cells.

    Raises ValueError if no cell is marked for a slide, or if a marked code cell comes
    after the chapter's first solution.
    """
    by_id = {cell.id: cell for cell in master.cells}
    first_solution = next(
        (i for i, cell in enumerate(master.cells) if _is_solution(cell)),
        len(master.cells),
    )
    position = {cell.id: i for i, cell in enumerate(master.cells)}
    public = student_notebook(master)
    cells = []
    for cell, mark in zip(public.cells, slide_types(public)):
        if mark is None or mark == "skip":
            continue
        if mark == "notes" or cell.cell_type != "code":
            cells += (
                [_marked(nbformat.v4.new_markdown_cell(cell.source), "notes")]
                if mark == "notes"
                else _slide_markdown(cell, mark)
            )
            continue
        if position[cell.id] > first_solution:
            raise ValueError(
                f"{name}: code cell {cell.id} is marked for a slide but runs after the "
                "chapter's first solution, so its output could show it; unmark it"
            )
        cells.append(_slide_code(cell, by_id[cell.id]))
    if not any(c.metadata["slideshow"]["slide_type"] in SHOWN for c in cells):
        raise ValueError(f"{name}: no cell is marked for a slide (slideshow metadata)")
    deck = nbformat.v4.new_notebook(cells=cells, metadata=dict(public.metadata))
    deck.metadata.pop("widgets", None)
    return deck


def count_slides(deck: nbformat.NotebookNode) -> int:
    """How many slides reveal.js shows: slides and subslides (the first cell opens
    one)."""
    marks = [m for m in slide_types(deck) if m in SHOWN]
    return 1 + sum(m in {"slide", "subslide"} for m in marks[1:])


def build_deck(master_path: Path, output: Path) -> int:
    """Write ``<chapter>.slides.html`` into ``output``; return its number of slides."""
    master = nbformat.read(master_path, as_version=4)
    deck = deck_notebook(master, master_path.name)
    exporter = SlidesExporter(
        template_file=str(TEMPLATE),
        reveal_url_prefix="_vendor/reveal.js",
        reveal_theme="white",
        reveal_transition="fade",
        reveal_width="1280",
        reveal_height="800",
        mathjax_url="_vendor/mathjax/tex-chtml.js",
    )
    title = master.cells[0].source.splitlines()[0].lstrip("# ")
    deck.metadata["title"] = title
    body, _ = exporter.from_notebook_node(deck, resources={"metadata": {"name": title}})
    (output / f"{master_path.stem}.slides.html").write_text(body, encoding="utf-8")
    return count_slides(deck)


def _index(decks: dict[str, tuple[str, int]]) -> str:
    rows = "\n".join(
        f'<li><a href="{stem}.slides.html">{html.escape(title)}</a> ({n} slides)</li>'
        for stem, (title, n) in decks.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>Lecture slides</title></head>\n<body>\n<h1>Lecture slides</h1>\n"
        "<p>One deck per chapter. Arrow keys move through a deck (down: the slides "
        "below this one); S opens the speaker notes; Esc shows every slide.</p>\n"
        f"<ul>\n{rows}\n</ul>\n</body>\n</html>\n"
    )


def build_all(output: Path = OUTPUT) -> dict[str, int]:
    """Build every chapter's deck, their vendored scripts and an index into ``output``.

    Returns the number of slides of each deck, by chapter.
    """
    output.mkdir(parents=True, exist_ok=True)
    for package in ("reveal.js", "mathjax"):
        shutil.copytree(
            VENDOR / package, output / "_vendor" / package, dirs_exist_ok=True
        )
    decks = {}
    for master_path in chapter_notebooks():
        n = build_deck(master_path, output)
        title = nbformat.read(master_path, as_version=4).cells[0].source.splitlines()[0]
        decks[master_path.stem] = (title.lstrip("# "), n)
    (output / "index.html").write_text(_index(decks), encoding="utf-8")
    return {stem: n for stem, (_, n) in decks.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help=f"folder (default: {OUTPUT})"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        counts = build_all(args.output)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"built {len(counts)} decks ({sum(counts.values())} slides) into "
        f"{args.output} in {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
