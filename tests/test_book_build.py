"""The public book builds strictly and its HTML is self-contained."""

from __future__ import annotations

import re

import pytest
from conftest import CHAPTER_PAGES, REPO_ROOT, toc_pages

from booktools.config import load_config
from booktools.editions import STUDENT_BRANCH

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
        assert "✅" in matching[0], f"{name} did not execute cleanly: {matching[0]}"


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
    """The repository URL appears in _config.yml and nowhere else in the hand-written sources.

    (The chapters' setup cells carry it too, but they are written from _config.yml and checked
    against it by tests/test_setup_cell.py.)
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
