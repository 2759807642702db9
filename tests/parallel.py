"""How the tests are shared out between two workers (pytest-xdist, ``-n 2``): a pytest
plugin, loaded by pyproject.toml's ``-p parallel`` so that it also sees book/.

A scope is what one worker runs, in order:
- every cell of a notebook (nbval runs them in one kernel, one after the other);
- the tests of a page of the built book that share one visit of it;
- every test of a module whose tests share an expensive fixture that should be made
  once (the graded class, the torchrun jobs), or that must not run at the same time
  (the two that build the checkout with pip both write build/ and src/dlbook.egg-info);
- otherwise, each test alone.
The longest scopes go out first, so that neither worker is left with a long one at the
end while the other idles. (xdist's own ``--dist loadgroup`` would do the grouping, but
xdist 3.8 cannot rename pytest 9's node ids, so the scheduler is ours.)
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

# The tests that share one visit of a page (tests/conftest.py's ``loaded``): those that
# only read it, then the quiz test, which answers a question and reloads (its file is
# collected after the others').
READERS_OF_A_PAGE = {
    "tests/book/test_accessibility.py::test_page_has_no_serious_accessibility_violation",
    "tests/book/test_browser.py::test_page_loads_offline_with_maths_and_alt_text",
    "tests/book/test_browser.py::test_chapter_has_one_well_formed_colab_link",
    "tests/book/test_browser.py::test_code_outputs_and_figures_fit_the_column",
    "tests/book/test_quiz_widget.py::test_a_chapter_quiz_answered_wrong_then_right_and_kept",
}

SHARED_SCOPE_OF_MODULE = {
    "tests/grading/test_grading.py": "the graded class",
    "tests/dlbook/test_distributed.py": "the torchrun jobs",
    "tests/dlbook/test_package.py": "pip builds the checkout",
    "tests/book/test_colab_install.py": "pip builds the checkout",
    "tests/book/test_pdf.py": "the PDF edition",
}

# About how long a scope takes, in seconds (pytest --durations on the project's
# machine); by scope, or by the test's function name.
SECONDS = {
    "the graded class": 250,
    "the PDF edition": 130,
    "test_autograding_round_trip": 60,
    "test_nothing_the_submission_started_outlives_it": 20,
    "test_one_submission_over_its_bounds_leaves_the_others_alone": 15,
    "test_large_path_runs_on_the_cpu": 35,
    "test_chapter_replays_on_another_machine": 40,
    "pip builds the checkout": 18,
    "a notebook": 15,
    "a page": 15,
    "the torchrun jobs": 14,
    "test_instructor_edition_builds_strictly_and_shows_every_solution": 12,
}


def scope_of(nodeid: str) -> str:
    """The scope of a test, from its node id ("tests/book/test_x.py::test_y[z]")."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return path
    test, _, parameter = nodeid.partition("[")
    if test in READERS_OF_A_PAGE:
        return f"the page {parameter.removesuffix(']')}"
    return SHARED_SCOPE_OF_MODULE.get(path, nodeid)


def seconds(item: pytest.Item) -> int:
    scope = scope_of(item.nodeid)
    if scope.endswith(".ipynb"):
        kind = "a notebook"
    elif scope.startswith("the page "):
        kind = "a page"
    else:
        kind = scope
    name = getattr(item, "originalname", item.name)
    return SECONDS.get(kind, SECONDS.get(name, 0))


def pytest_collection_modifyitems(config, items):
    # stable: ties keep the collection order, so a notebook's cells stay in order
    items.sort(key=lambda item: -seconds(item))


class ScopedScheduling(LoadScopeScheduling):
    """xdist's scope scheduler, with the scopes above, handed out in collection order
    (which puts the longest first)."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)


@pytest.hookimpl(optionalhook=True)  # xdist's hook: absent under -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    config.option.loadscopereorder = False  # keep the order given above
    return ScopedScheduling(config, log)
