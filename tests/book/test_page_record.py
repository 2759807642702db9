"""Every chapter page ends with a record of how it was computed (book.page_record).

The record's facts are checked against sources other than the extension: the Python,
PyTorch and NumPy of the environment that ran the build, the processor in
/proc/cpuinfo, the seed that dlbook.setup uses by default, and the run time that
myst-nb's execution-statistics table gives for the same page.
"""

from __future__ import annotations

import datetime
import platform
import re
from importlib import metadata

import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import CHAPTER_PAGES

from booktools.book.page_record import record_lines, setup_seed
from dlbook.notebook import DEFAULT_SEED


def _notebook_with(tmp_path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(
    "call, seed",
    [
        ("DEVICE = dlbook.setup()", DEFAULT_SEED),
        ("DEVICE = dlbook.setup(seed=7)", 7),
        ("DEVICE = dlbook.setup(3, threads=2)", 3),
        ("DEVICE = dlbook.setup(threads=2, seed=11)", 11),
        ("import dlbook", None),
    ],
)
def test_the_seed_is_read_from_the_setup_call(tmp_path, call, seed):
    assert setup_seed(_notebook_with(tmp_path, "import os", call)) == seed


def test_the_record_lines():
    when = datetime.datetime(2026, 12, 7, 13, 5, tzinfo=datetime.timezone.utc)
    lines = record_lines({"mtime": when.timestamp(), "runtime": 12.345}, seed=4)
    text = "\n".join(lines)
    assert "Executed on 2026-12-07 at 13:05 UTC, in 12.3 s" in text
    assert f"Python {platform.python_version()}" in text
    assert f"PyTorch {metadata.version('torch')}" in text
    assert f"NumPy {metadata.version('numpy')}" in text
    assert "Seed: 4 (dlbook.setup)." in text
    no_seed = record_lines({"mtime": when.timestamp(), "runtime": None}, seed=None)
    assert "(time not recorded)" in no_seed[0] and "none set" in no_seed[-1]


def _model_name() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        return next(
            line.split(":", 1)[1].strip()
            for line in cpuinfo
            if line.startswith("model name")
        )


def _statistics_runtimes(built_site) -> dict[str, float]:
    """docname -> run time in seconds, from myst-nb's execution-statistics table."""
    soup = BeautifulSoup(
        (built_site / "book" / "execution_statistics.html").read_text(), "html.parser"
    )
    times = {}
    for row in soup.select("table tbody tr"):
        cells = [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
        numbers = [c for c in cells[1:] if re.fullmatch(r"\d+\.\d+", c)]
        if cells and numbers:
            times[cells[0]] = float(numbers[-1])
    return times


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_every_chapter_page_ends_with_its_record(built_site, page):
    soup = BeautifulSoup((built_site / page).read_text(), "html.parser")
    record = soup.find(id="how-this-page-was-computed")
    assert record is not None, f"{page} has no record of how it was computed"
    text = record.get_text(" ", strip=True)
    when = r"Executed on \d{4}-\d\d-\d\d at \d\d:\d\d UTC, in \d+\.\d s"
    assert re.search(when, text), text
    assert f"Python {platform.python_version()}" in text
    assert f"PyTorch {metadata.version('torch')}" in text
    assert f"NumPy {metadata.version('numpy')}" in text
    assert _model_name() in text and "no GPU" in text
    # every chapter's setup cell calls dlbook.setup() with no seed of its own
    assert f"Seed: {DEFAULT_SEED} (dlbook.setup)." in text
    # the record comes after the last exercise: no heading or text of the chapter
    # follows it
    article = soup.select_one("article.bd-article")
    after = [
        element.get_text(" ", strip=True)[:40]
        for element in record.find_all_next(["h1", "h2", "h3", "p", "section"])
        if article in element.parents and record not in element.parents
    ]
    assert not after, f"{page}: the chapter goes on after its record: {after}"
    docname = page.removesuffix(".html")
    runtime = _statistics_runtimes(built_site)[docname]
    shown = float(re.search(r"in (\d+\.\d) s", text).group(1))
    assert abs(shown - runtime) <= 0.051, (
        f"{page}: the record says {shown} s, the execution statistics {runtime} s"
    )
