"""The preface lists every erratum box of every chapter, one entry per box.

A chapter that corrects the lecture notes says so in an admonition titled "Erratum ...";
the preface's "Errata in the lecture notes" groups one bullet per box under the page it
is on ("Chapter 5, {doc}`05_recurrent_networks`:"). A box added or removed without the
list changing makes the counts differ, and this test names the page.
"""

from __future__ import annotations

import re

import nbformat
from conftest import REPO_ROOT

BOX = re.compile(r"\{admonition\}\s+Erratum")
PAGE_LINE = re.compile(r"^Chapter \d+, \{doc\}`(\w+)`:$")


def boxes_per_page() -> dict[str, int]:
    counts = {}
    for path in sorted((REPO_ROOT / "book").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
        found = sum(len(BOX.findall(source)) for source in markdown)
        if found:
            counts[path.stem] = found
    return counts


def entries_per_page(preface: str) -> dict[str, int]:
    counts, page = {}, None
    for line in preface.splitlines():
        match = PAGE_LINE.match(line)
        if match:
            page = match.group(1)
            counts[page] = 0
        elif not line.strip():
            page = None
        elif page and line.startswith("- "):
            counts[page] += 1
    return counts


def test_every_erratum_box_has_its_entry_in_the_preface():
    preface = (REPO_ROOT / "book" / "preface.md").read_text(encoding="utf-8")
    assert "(errata-list)=" in preface
    assert entries_per_page(preface) == boxes_per_page()


def test_a_missing_entry_is_caught():
    preface = (REPO_ROOT / "book" / "preface.md").read_text(encoding="utf-8")
    lines = preface.splitlines()
    first_entry = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("- ") and i > 0 and PAGE_LINE.match(lines[i - 1])
    )
    planted = "\n".join(lines[:first_entry] + lines[first_entry + 1 :])
    assert entries_per_page(planted) != boxes_per_page()
