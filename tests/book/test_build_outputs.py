"""The build's own execution of every chapter gives the stored outputs.

The strict build executes every chapter with this machine's defaults (or takes it from
its cache, which holds the outputs of the last execution of the same code). Running
nbval over book/ with the same defaults would execute every chapter a second time to
check the same thing, so instead the build's outputs are compared with the stored ones,
cell by cell, exactly as nbval compares them (its markers, its sanitizing patterns,
pictures left out). tests/book/test_portability.py replays every chapter under nbval
with other CPUs' kernels, every cell included.

The build executes the public edition, where a solution is blank or left out, so only
the cells before a chapter's first solution are compared: from there on the two
editions run different code. The exercises' cells are checked by the replays and the
grading round trip.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict

import nbformat
import pytest
from conftest import REPO_ROOT
from nbval.plugin import (
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
    get_sanitize_patterns,
    transform_streams_for_comparison,
)

from booktools.book.config import chapter_notebooks
from booktools.book.editions import SOLUTION_TAG

pytestmark = pytest.mark.slow

CACHE = REPO_ROOT / "_build" / ".jupyter_cache" / "public"
PUBLIC_SOURCES = REPO_ROOT / "_build" / "sources" / "public"
SANITIZE = REPO_ROOT / "tests" / "nbval_sanitize.cfg"
# what nbval leaves out of the comparison (nbval.plugin.IPyNbFile.skip_compare, with
# pictures, which it compares only under --nbdime)
NOT_COMPARED = {
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
}


def checks_output(cell) -> bool:
    """nbval's decision for a code cell: compare its output, unless a tag or a comment
    says to skip the cell or ignore its output."""
    options = defaultdict(bool, find_metadata_tags(cell.metadata))
    options.update(find_comment_markers(cell.source))
    options.setdefault("check", True)
    return options["check"] and not options["skip"]


def comparable(outputs, patterns) -> dict[str, list]:
    """The outputs as nbval compares them: streams joined, each output's keys and
    data types flattened into {key: [values in order]}, every string sanitized."""

    def sanitize(value):
        if isinstance(value, str):
            for regex, replace in patterns:
                value = re.sub(regex, replace, value)
        return value

    flat = defaultdict(list)
    for output in transform_streams_for_comparison(
        coalesce_streams(copy.deepcopy(outputs))  # it joins them in place
    ):
        for key, value in output.items():
            if key in NOT_COMPARED:
                continue
            items = value.items() if key == "data" else [(key, value)]
            for name, item in items:
                if name not in NOT_COMPARED:
                    flat[name].append(sanitize(item))
    return dict(flat)


def differences(stored, executed, patterns) -> tuple[list[str], int]:
    """Where the executed notebook's outputs differ from the stored ones, cell by cell,
    up to the first solution, code or worked (code cells counted from 0, as nbval
    names them); and how many cells were compared."""
    stored_code = [c for c in stored.cells if c.cell_type == "code"]
    executed_code = [c for c in executed.cells if c.cell_type == "code"]
    found, compared = [], 0
    for number, mine in enumerate(stored_code):
        if mine.metadata.get("nbgrader", {}).get("solution") or SOLUTION_TAG in (
            mine.metadata.get("tags", [])
        ):
            break  # an exercise's solution: the public edition leaves it out
        if number >= len(executed_code) or mine.source != executed_code[number].source:
            found.append(f"Cell {number}: the public edition's code differs")
            break
        if mine.execution_count is None:
            if mine.outputs:  # as nbval
                found.append(f"Cell {number}: unrun reference cell has outputs")
            continue
        if not checks_output(mine):
            continue
        want = comparable(mine.outputs, patterns)
        got = comparable(executed_code[number].outputs, patterns)
        compared += 1
        if want != got:
            found.append(f"Cell {number}: stored {want!r}\n  built  {got!r}")
    return found, compared


def executed_by_the_build(notebook) -> nbformat.NotebookNode:
    """The chapter as the build executed it: its public source, with the outputs
    from the build's cache."""
    from jupyter_cache import get_cache

    source = nbformat.read(PUBLIC_SOURCES / notebook.relative_to(REPO_ROOT), 4)
    try:
        _, executed = get_cache(CACHE).merge_match_into_notebook(source)
    except KeyError:
        pytest.fail(f"{notebook.name}: the build's cache holds no execution of it")
    return executed


@pytest.mark.parametrize(
    "notebook", chapter_notebooks(REPO_ROOT), ids=lambda path: path.stem
)
def test_the_build_computed_the_stored_outputs(built_site, notebook):
    patterns = get_sanitize_patterns(SANITIZE.read_text())
    stored = nbformat.read(notebook, as_version=4)
    executed = executed_by_the_build(notebook)
    found, compared = differences(stored, executed, patterns)
    assert compared >= 10, f"{notebook.name}: only {compared} cells compared"
    assert not found, (
        f"{notebook.name}: the build's execution (this machine's defaults) does not "
        "give the stored outputs (if dlbook changed what a cell shows, the build's "
        "cache may be older than it: rm -rf _build/.jupyter_cache/public and build "
        "again; otherwise execute the chapter again or make the output stable):\n"
        + "\n".join(found[:5])
    )


def test_a_changed_number_is_found():
    """The comparison sees a changed digit, and not a changed memory address or a
    picture (which nbval does not compare either)."""
    patterns = get_sanitize_patterns(SANITIZE.read_text())

    def notebook(text, picture, address):
        cell = nbformat.v4.new_code_cell("print(x)", execution_count=1)
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=text[:5]),
            nbformat.v4.new_output("stream", name="stdout", text=text[5:]),
            nbformat.v4.new_output(
                "display_data",
                data={"image/png": picture, "text/plain": f"<object at {address}>"},
            ),
        ]
        return nbformat.v4.new_notebook(cells=[cell])

    stored = notebook("loss 0.1234\n", "AAAA", "0x7f00")
    same = notebook("loss 0.1234\n", "BBBB", "0x7fff")  # another picture and address
    assert differences(stored, same, patterns) == ([], 1)
    assert differences(stored, notebook("loss 0.1235\n", "AAAA", "0x7f00"), patterns)[0]
    assert differences(stored, notebook("loss 0.1234\n", "AAAA", "0x7f00"), []) == (
        [],
        1,
    )
    ignored = nbformat.v4.new_code_cell("x", metadata={"tags": ["nbval-ignore-output"]})
    skipped = nbformat.v4.new_code_cell("# NBVAL_SKIP\nx")
    plain = nbformat.v4.new_code_cell("x", metadata={"tags": ["remove-input"]})
    assert (checks_output(ignored), checks_output(skipped), checks_output(plain)) == (
        False,
        False,
        True,
    )
