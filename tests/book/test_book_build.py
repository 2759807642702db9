"""The public book builds strictly and its HTML is self-contained."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from conftest import CHAPTER_PAGES, REPO_ROOT, toc_pages

from booktools.book.config import load_config
from booktools.book.editions import STUDENT_BRANCH

pytestmark = pytest.mark.slow


def test_every_toc_page_is_built(built_site):
    missing = [page for page in toc_pages() if not (built_site / page).exists()]
    assert not missing, f"pages in _toc.yml with no HTML: {missing}"
    assert (built_site / "index.html").exists()


def test_execution_statistics_list_every_chapter_with_a_time(built_site):
    page = (built_site / "book" / "execution_statistics.html").read_text()
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S)
    for chapter in CHAPTER_PAGES:
        name = chapter.removeprefix("book/").removesuffix(".html")
        matching = [row for row in rows if name in row]
        assert matching, f"{name} is missing from the execution statistics"
        assert re.search(r"\d+\.\d+", matching[0]), (
            f"no run time for {name}: {matching[0]}"
        )
        assert "ran without error" in matching[0], (
            f"{name} did not execute cleanly: {matching[0]}"
        )
    # in words: a browser without an emoji font shows an emoji as an empty box
    assert "✅" not in page and "❌" not in page


@pytest.mark.parametrize("page", toc_pages())
def test_no_third_party_kernel_configuration(built_site, page):
    """sphinx-thebe's per-page Binder configuration is removed.

    It names a third-party repository.
    """
    html = (built_site / page).read_text()
    for leftover in ["x-thebe-config", "binderOptions", "kernelName =", "sphinx-thebe"]:
        assert leftover not in html, f"{page} still carries thebe's {leftover!r}"


EXERCISE_TITLE = re.compile(
    r'<p class="admonition-title"><span class="caption-number">Exercise (\d+)\.(\d+) '
    r"</span> \((.*?)\)</p>"
)


def _chapter_number(page: str) -> int:
    return int(re.search(r"book/(\d+)[a-z]?_", page).group(1))


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_exercises_are_numbered_per_chapter_with_titles_in_one_form(built_site, page):
    html = (built_site / page).read_text()
    chapter = _chapter_number(page)
    found = EXERCISE_TITLE.findall(html)
    assert len(found) >= 6, f"{page}: {len(found)} numbered exercises"
    # a chapter in two notebooks (08_, 08b_) numbers on from its first page
    earlier = sum(
        len(EXERCISE_TITLE.findall((built_site / other).read_text()))
        for other in CHAPTER_PAGES[: CHAPTER_PAGES.index(page)]
        if _chapter_number(other) == chapter
    )
    numbers = [(int(c), int(k)) for c, k, _ in found]
    expected = [(chapter, earlier + k) for k in range(1, len(found) + 1)]
    assert numbers == expected, numbers
    for _, _, title in found:
        # difficulty first, then the kind for coding and thinking exercises,
        # then the title
        assert re.fullmatch(r"★{1,3} ((Coding|Thinking): )?\S.*", title), (
            f"{page}: exercise title {title!r} is not in the form '★★ Coding: title'"
        )


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_check_cells_print_only_their_message(built_site, page):
    """A coding exercise's visible check prints its message and nothing else (no stray
    return value under the cell)."""
    soup = BeautifulSoup((built_site / page).read_text(), "html.parser")
    checks = [
        cell
        for cell in soup.select("div.cell")
        if cell.select_one("div.cell_input")
        and "check(" in cell.select_one("div.cell_input").get_text()
    ]
    assert checks, f"{page} has no exercise checks"
    for cell in checks:
        output = cell.select_one("div.cell_output")
        assert output is not None, f"{page}: an exercise check shows no output"
        lines = [line for line in output.get_text().splitlines() if line.strip()]
        assert lines and lines[0].startswith("[not done yet]"), (
            f"{page}: a check in the public book should say the exercise "
            f"is not done yet, got {lines}"
        )
        strays = [line for line in lines[1:] if not line.startswith(" ")]
        assert not strays, f"{page}: an exercise check also prints {strays}"


RESOURCE = re.compile(
    r'<(?:script|img|link|iframe|source)\b[^>]*?\b(?:src|href)="([^"]+)"', re.I
)


@pytest.mark.parametrize("page", toc_pages())
def test_pages_load_nothing_from_other_sites(built_site, page):
    html = (built_site / page).read_text()
    external = [url for url in RESOURCE.findall(html) if re.match(r"(https?:)?//", url)]
    assert not external, f"{page} loads resources from other sites: {external}"


@pytest.mark.parametrize("page", toc_pages())
def test_no_dead_widget_views(built_site, page):
    html = (built_site / page).read_text()
    assert "application/vnd.jupyter.widget-view+json" not in html, (
        f"{page} embeds an ipywidgets view, which cannot run without a kernel; "
        "use dlbook.interactive.interactive_figure instead"
    )


def test_vendored_scripts_are_in_the_site(built_site):
    for path in [
        "_vendor/mathjax/tex-chtml.js",
        "_vendor/requirejs/require.js",
        "_vendor/@jupyter-widgets/html-manager/dist/embed-amd.js",
    ]:
        assert (built_site / path).stat().st_size > 10_000, path
    assert not (built_site / "_static" / "_vendor").exists()


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_colab_link_points_at_this_chapter(built_site, page):
    html = (built_site / page).read_text()
    repo = load_config()["repository"]["url"].removeprefix("https://github.com/")
    expected = (
        f"https://colab.research.google.com/github/{repo}/blob/{STUDENT_BRANCH}/"
        f"{page.removesuffix('.html')}.ipynb"
    )
    links = set(re.findall(r'href="(https://colab\.research\.google\.com[^"]*)"', html))
    assert links == {expected}


def test_repository_configured_in_one_place():
    """The repository URL is in _config.yml and nowhere else in hand-written sources.

    (The chapters' setup cells carry it too, but they are written from _config.yml and
    checked against it by tests/test_setup_cell.py.)
    """
    url = load_config()["repository"]["url"]
    sources = [
        *REPO_ROOT.glob("book/**/*.md"),
        *REPO_ROOT.glob("src/**/*.py"),
        REPO_ROOT / "_toc.yml",
    ]
    offenders = [
        str(path.relative_to(REPO_ROOT)) for path in sources if url in path.read_text()
    ]
    assert not offenders, (
        f"the repository URL is hard-coded in {offenders}; read it from _config.yml"
    )
