"""The lecture slides: every chapter has a deck, no deck shows a solution, and every
deck works in a real browser, offline.

The decks are built once (about 2 s) into a temporary folder; the browser is the one
of test_browser.py (Debian's chromium, everything outside 127.0.0.1 blocked and
recorded).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading

import nbformat
import pytest
from conftest import REPO_ROOT, PageVisit
from test_browser import maths_problems
from test_editions import MARKERS, artifact_text, secrets_of

from booktools.book import slides
from booktools.book.config import chapter_notebooks

CHAPTERS = chapter_notebooks(REPO_ROOT)
FEWEST_SLIDES = 10  # a lecture, not a title page
# an address the browser would fetch by itself (a script, style sheet, image, frame or
# font), not a link a reader may follow
FETCHED_URL = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*"""
    r"""["']?(?:https?:)?//[^"'\s>]*|@import\s+url\(\s*["']?(?:https?:)?//[^)]*"""
)


@pytest.fixture(scope="session")
def decks(tmp_path_factory):
    """Every chapter's deck, built into a temporary folder: {chapter: slides}."""
    folder = tmp_path_factory.mktemp("slides")
    return folder, slides.build_all(folder)


@pytest.fixture(scope="session")
def slides_url(decks):
    """Serve the decks on 127.0.0.1 (a free port)."""
    handler = functools.partial(
        _QuietHandler, directory=str(decks[0])
    )  # the same quiet server as conftest's site_url
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.mark.parametrize("master", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_a_lecture(master):
    deck = slides.deck_notebook(nbformat.read(master, as_version=4), master.name)
    n = slides.count_slides(deck)
    assert n >= FEWEST_SLIDES, (
        f"{master.name} marks {n} slides, fewer than {FEWEST_SLIDES}: mark its "
        "section titles, key equations, figures and results (slideshow metadata)"
    )


def test_a_chapter_with_no_marks_has_no_deck():
    nb = nbformat.read(CHAPTERS[0], as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("slideshow", None)
    with pytest.raises(ValueError, match="no cell is marked for a slide"):
        slides.deck_notebook(nb, "planted.ipynb")


def test_a_marked_code_cell_after_a_solution_is_refused():
    """Its stored output may show the solution: the deck builder says so."""
    nb = nbformat.read(CHAPTERS[0], as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "nbgrader" in c.metadata)
    later = next(
        c
        for c in nb.cells[first + 1 :]
        if c.cell_type == "code"
        and "nbgrader" not in c.metadata
        and "solution" not in c.metadata.get("tags", [])
    )
    later.metadata["slideshow"] = {"slide_type": "slide"}
    with pytest.raises(ValueError, match="after the chapter's first solution"):
        slides.deck_notebook(nb, "planted.ipynb")


def test_no_deck_shows_a_solution_or_fetches_from_elsewhere(decks):
    folder, counts = decks
    assert set(counts) == {p.stem for p in CHAPTERS}
    secrets = {master.stem: secrets_of(master) for master in CHAPTERS}
    problems = []
    for path in sorted(folder.glob("*.html")):
        raw = path.read_text(encoding="utf-8")
        problems += [f"{path.name}: marker {m!r}" for m in MARKERS if m in raw]
        problems += [
            f"{path.name}: fetches {m.group(0)!r}" for m in FETCHED_URL.finditer(raw)
        ]
        text = artifact_text(path)
        for chapter, lines in secrets.items():
            problems += [
                f"{path.name}: {chapter} solution line {line!r}"
                for line in lines
                if line in text
            ]
    assert not problems, "\n".join(problems[:30])


@pytest.mark.slow
@pytest.mark.parametrize("master", CHAPTERS, ids=lambda p: p.stem)
def test_deck_opens_offline_and_the_arrow_keys_reach_every_slide(
    browser,  # noqa: F811
    slides_url,
    decks,
    master,
):
    visit = PageVisit(browser, slides_url, f"{master.stem}.slides.html")
    try:
        page = visit.page
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total == decks[1][master.stem], "reveal.js counts other slides"
        visited = {
            tuple(page.evaluate("[Reveal.getIndices().h, Reveal.getIndices().v]"))
        }
        for _ in range(total + 1):
            routes = page.evaluate("Reveal.availableRoutes()")
            if not (routes["down"] or routes["right"]):
                break
            page.keyboard.press("ArrowDown" if routes["down"] else "ArrowRight")
            visited.add(
                tuple(page.evaluate("[Reveal.getIndices().h, Reveal.getIndices().v]"))
            )
        assert len(visited) == total, (
            f"the arrow keys reached {len(visited)} of {total} slides"
        )
        assert page.evaluate("Reveal.isLastSlide()")
        assert not visit.external, f"requests outside 127.0.0.1: {visit.external}"
        assert not visit.errors, f"console errors: {visit.errors}"
        assert page.locator("mjx-container").count() > 0, "no maths typeset"
        no_alt = page.evaluate("""() => [...document.querySelectorAll('img')]
            .filter(img => (img.getAttribute('alt') || '').length < 10).length""")
        assert not no_alt, f"{no_alt} figures without alt text"
        problems = maths_problems(page)
        assert not problems, "\n".join(problems[:20])
    finally:
        visit.close()
