"""The prose of the book holds no control characters.

A control character in a markdown cell is nearly always an escape that went wrong. When
`n_\\text{layers}` is written into a notebook's JSON, or into a Python string, as
"n_\\text{layers}" without doubling the backslash, `\\t` becomes a TAB: the cell then
holds `n_<TAB>ext{layers}`, and MathJax, which skips the TAB as white space, typesets
"n_e xtlayers" without any error. JSON and Python turn `\\f` (`\\frac`), `\\b`
(`\\beta`), `\\r` (`\\right`) and, in Python, `\\a` (`\\alpha`) and `\\v` (`\\vec`) into
control characters the same way. Every character of Unicode category Cc except the
newline is refused, with the notebook, the cell and the text around it.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "book").glob("*.ipynb"))
PAGES = sorted((REPO_ROOT / "book").glob("*.md"))
# the escape letter that turns into each control character (JSON and Python strings)
ESCAPE_OF = {"\t": "t", "\x0c": "f", "\x08": "b", "\r": "r", "\x07": "a", "\x0b": "v"}
SHORT_NAME = {
    "\t": "TAB",
    "\x0c": "FF",
    "\x08": "BS",
    "\r": "CR",
    "\x07": "BEL",
    "\x0b": "VT",
}
CONTEXT = 30  # characters shown either side


def is_control(char: str) -> bool:
    return char != "\n" and unicodedata.category(char) == "Cc"


def shown(char: str) -> str:
    """A control character as a visible tag, e.g. <TAB U+0009>."""
    name = SHORT_NAME.get(char, "control")
    return f"<{name} U+{ord(char):04X}>"


def describe(char: str, text: str, at: int) -> str:
    """The character and the text around it (newlines as ⏎, control characters as
    tags), with a guess at the TeX command it came from when letters follow it: a TAB
    followed by "ext{" was `\\text{`."""
    around = text[max(0, at - CONTEXT) : at + CONTEXT + 1]
    around = "".join(
        shown(c) if is_control(c) else "⏎" if c == "\n" else c for c in around
    )
    found = f"{shown(char)} in “{around}”"
    tail = text[at + 1 : at + 1 + CONTEXT]
    letters = tail[: len(tail) - len(tail.lstrip("abcdefghijklmnopqrstuvwxyz"))]
    if char in ESCAPE_OF and letters:
        found += f" (the escape \\{ESCAPE_OF[char]} of \\{ESCAPE_OF[char]}{letters}?)"
    return found


def control_characters(path: Path) -> list[str]:
    """One line per control character (category Cc, the newline allowed) in the markdown
    of ``path``: a notebook's markdown cells, or the whole of a .md page."""
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        texts = [
            (f"markdown cell {index}", cell.source)
            for index, cell in enumerate(cells)
            if cell.cell_type == "markdown"
        ]
    else:
        texts = [("page", path.read_text(encoding="utf-8"))]
    return [
        f"{path.name}, {where}: {describe(char, text, at)}"
        for where, text in texts
        for at, char in enumerate(text)
        if is_control(char)
    ]


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=lambda p: p.name)
def test_markdown_has_no_control_characters(path):
    found = control_characters(path)
    assert not found, (
        f"{len(found)} control characters in the markdown of {path.name} (write TeX "
        "commands with a literal backslash, e.g. r-strings in Python):\n"
        + "\n".join(found)
    )


def test_a_planted_tab_is_found_with_its_cell_and_context(tmp_path):
    # the mistake of review D8, made in a copy of a chapter: `\t` of `\text` as a TAB
    chapter, nb, index = next(
        (chapter, nb, index)
        for chapter in NOTEBOOKS
        for nb in [nbformat.read(chapter, as_version=4)]
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown" and "\\text{" in cell.source
    )
    nb.cells[index].source = nb.cells[index].source.replace("\\text{", "\text{", 1)
    copy = tmp_path / chapter.name
    nbformat.write(nb, copy)
    before = control_characters(chapter)
    (found,) = [line for line in control_characters(copy) if line not in before]
    assert found.startswith(f"{chapter.name}, markdown cell {index}: <TAB U+0009> in ")
    assert "<TAB U+0009>ext{" in found and "(the escape \\t of \\text?)" in found

    page = tmp_path / "page.md"
    page.write_text("# A page\n\nHalf of it: $\\alpha + \frac{1}{2}$.\n")
    (found,) = control_characters(page)
    assert found.startswith("page.md, page: <FF U+000C> in ")
    assert "(the escape \\f of \\frac?)" in found
