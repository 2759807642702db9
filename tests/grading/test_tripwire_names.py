"""Every tripwire a master names is a function the grader can find.

The runner skips a tripwire name it cannot resolve (a library the grading machine lacks,
such as scipy, cannot be called by the student either). The price of that leniency is
that a misspelt name in a master would switch its tripwire off without a word, and an
answer that calls the library function would pass; this test turns such a typo into a
failure. A name is accepted if it resolves, or if its top-level package is not
installed.
"""

from __future__ import annotations

import importlib.util

import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book.config import chapter_notebooks
from booktools.grading.runner import resolve


def _tripwires():
    for path in chapter_notebooks(REPO_ROOT):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            for name in cell.metadata.get("dlbook", {}).get("tripwires", []):
                yield pytest.param(name, id=f"{path.stem}:{grade_id}:{name}")


def _problem(name: str) -> str | None:
    """None if the grader can watch name, else what is wrong with it."""
    package = name.split(".")[0]
    if importlib.util.find_spec(package) is None:
        return None  # not installed here: no student can call it either
    try:
        resolve(name)
    except Exception as error:  # ImportError, AttributeError
        return f"{name!r} does not resolve: {type(error).__name__}: {error}"
    return None


@pytest.mark.parametrize("name", list(_tripwires()))
def test_tripwire_resolves(name):
    problem = _problem(name)
    assert problem is None, problem


def test_a_misspelt_tripwire_is_caught():
    assert _problem("dlbook.attention.scaled_dot_product_attention") is None
    misspelt = "dlbook.attention.scaled_dot_product_atention"
    assert "does not resolve" in _problem(misspelt)
    assert "does not resolve" in _problem("torch.nn.functional.sofmax")
    assert _problem("not_an_installed_package.anything") is None
