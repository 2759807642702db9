"""The built book in a real browser, fully offline.

The browser is Debian's chromium driven by playwright. For every page: it loads with
no console error, requests nothing outside 127.0.0.1, typesets its maths (no raw TeX
left), gives every image meaningful alt text, and every slider on it changes what the
page shows. Screenshots land in _build/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import CHAPTER_PAGES, REPO_ROOT, toc_pages

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "_build" / "screenshots"
RAW_TEX = re.compile(
    r"\\(?:frac|mathbf|sum|partial|alpha|sigma|left|right|begin|end|cdot|top)\b|\$\$|\\\(|\\\["
)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: run `bash .ci/browser` (as root) or "
            "`sudo apt-get install chromium`",
            pytrace=False,
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--disable-features=OptimizationHints,Translate",
            ],
        )
        yield browser
        browser.close()


class PageVisit:
    """Open one page with every request outside the site blocked and recorded."""

    def __init__(self, browser, site_url: str, path: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.errors: list[str] = []

        def route(request_route):
            url = request_route.request.url
            if url.startswith(site_url) or url.startswith(("data:", "blob:", "about:")):
                request_route.continue_()
            else:
                self.external.append(url)
                request_route.abort()

        self.context.route("**/*", route)
        self.page.on(
            "console", lambda msg: msg.type == "error" and self.errors.append(msg.text)
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "response",
            lambda response: (
                response.status >= 400
                and self.errors.append(f"HTTP {response.status} for {response.url}")
            ),
        )
        self.page.goto(f"{site_url}/{path}", wait_until="load")
        # MathJax typesets asynchronously; wait until it says it is done.
        self.page.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
        }""")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site_url):
    opened = []

    def open_page(path):
        opened.append(PageVisit(browser, site_url, path))
        return opened[-1]

    yield open_page
    for visit_ in opened:
        visit_.close()


@pytest.mark.parametrize("path", toc_pages())
def test_page_loads_offline_with_maths_and_alt_text(visit, path):
    v = visit(path)
    page = v.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"{path.replace('/', '_').removesuffix('.html')}.png")
    )

    assert not v.external, f"{path} tried to reach other sites: {v.external}"
    assert not v.errors, f"{path} logged console errors: {v.errors}"

    # Maths: every math element was typeset, and no TeX source is left in the prose.
    untypeset = page.evaluate("""() => [...document.querySelectorAll('.math')]
        .filter(el => !el.querySelector('mjx-container'))
        .map(el => el.textContent.slice(0, 60))""")
    assert not untypeset, f"{path}: maths not typeset: {untypeset[:5]}"
    prose = page.evaluate("""() => {
        const walker = document.createTreeWalker(
            document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
        const skip = 'PRE,CODE,SCRIPT,STYLE,MJX-CONTAINER,TEXTAREA';
        let text = '';
        while (walker.nextNode()) {
            const node = walker.currentNode;
            if (!node.parentElement.closest(skip.split(',').join(',')))
                text += node.textContent + ' ';
        }
        return text;
    }""")
    leftovers = RAW_TEX.findall(prose)
    assert not leftovers, f"{path}: raw TeX left on the page: {leftovers[:5]}"

    # Images: meaningful alt text, not empty and not a file name.
    images = page.evaluate("""() =>
        [...document.querySelectorAll('main img, article img')]
        .map(img => ({src: img.getAttribute('src').slice(0, 80),
                      alt: img.getAttribute('alt') || ''}))""")
    for image in images:
        alt = image["alt"].strip()
        assert len(alt) >= 10 and not re.search(
            r"\.(png|jpe?g|svg|gif)\b|_images/|^image$", alt, re.I
        ), f"{path}: image {image['src']} has no meaningful alt text: {alt!r}"


@pytest.mark.parametrize("path", toc_pages())
def test_every_slider_changes_what_the_page_shows(visit, path):
    v = visit(path)
    sliders = v.page.locator("main input[type=range]")
    for index in range(sliders.count()):
        slider = sliders.nth(index)
        slider.scroll_into_view_if_needed()
        container = slider.locator(
            "xpath=ancestor::div[.//img or .//canvas or .//svg][1]"
        )
        before = container.screenshot()
        maximum = int(slider.get_attribute("max") or 1)
        current = int(slider.input_value())
        target = 0 if current != 0 else maximum
        slider.evaluate(
            "(el, value) => { el.value = value; "
            "el.dispatchEvent(new Event('input', {bubbles: true})); "
            "el.dispatchEvent(new Event('change', {bubbles: true})); }",
            str(target),
        )
        v.page.wait_for_timeout(100)
        after = container.screenshot()
        assert before != after, (
            f"{path}: slider {index} ({slider.get_attribute('data-name')}) "
            "changes nothing"
        )
    assert not v.errors, f"{path}: console errors while moving sliders: {v.errors}"


def test_search_finds_a_chapter(visit):
    v = visit("search.html?q=perceptron")
    v.page.wait_for_selector(
        "#search-results ul.search li, ul.search li", timeout=15_000
    )
    results = v.page.locator("ul.search li")
    assert results.count() >= 1
    assert not v.external, v.external


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_chapter_has_one_well_formed_colab_link(visit, path):
    v = visit(path)
    hrefs = v.page.evaluate("""() => [...document.querySelectorAll('a')]
        .map(a => a.href).filter(h => h.includes('colab.research.google.com'))""")
    assert hrefs, f"{path} has no Open-in-Colab link"
    for href in set(hrefs):
        assert re.fullmatch(
            r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/"
            r"book/\d\d[a-z]?_\w+\.ipynb",
            href,
        ), href
        assert href.endswith(path.removeprefix("book/").replace(".html", ".ipynb"))


# The smallest scale at which a figure may be shown: matplotlib's figures are drawn at
# 100 dpi with 11-12 pt text, so at 0.8 their smallest text is still about 12 px on
# screen.
MIN_FIGURE_SCALE = 0.8


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_code_outputs_and_figures_fit_the_column(visit, path):
    """At 1280 px, code cells, printed outputs, displayed equations and figures fit the
    column.

    No code cell or printed output needs horizontal scrolling, no displayed equation is
    wider than the text (it would run under the table of contents), and no figure is
    shrunk so far that its text becomes hard to read.
    """
    page = visit(path).page
    layout = page.evaluate("""() => {
        const longest = el => el.textContent.split('\\n')
            .reduce((a, line) => line.length > a.length ? line : a, '');
        const wide = sel => [...document.querySelectorAll(sel)]
            .filter(el => el.scrollWidth > el.clientWidth + 1).map(longest);
        const figures = [...document.querySelectorAll('div.cell_output img')]
            .filter(img => img.naturalWidth > 0)
            .map(img => ({scale: img.clientWidth / img.naturalWidth,
                          alt: (img.getAttribute('alt') || '').slice(0, 60)}));
        const maths = [...document.querySelectorAll('mjx-container[display="true"]')]
            .filter(m => m.querySelector('mjx-math').getBoundingClientRect().width
                         > (m.closest('div.math') || m.parentElement).clientWidth + 1)
            .map(m => (m.getAttribute('aria-label') || m.textContent).slice(0, 60));
        return {code: wide('div.cell_input pre'), output: wide('div.cell_output pre'),
                maths: maths, figures: figures};
    }""")
    assert not layout["code"], f"{path}: code lines too wide: {layout['code'][:5]}"
    assert not layout["output"], (
        f"{path}: printed lines too wide: {layout['output'][:5]}"
    )
    assert not layout["maths"], (
        f"{path}: displayed equations wider than the column: {layout['maths'][:5]}"
    )
    small = [f for f in layout["figures"] if f["scale"] < MIN_FIGURE_SCALE]
    assert not small, (
        f"{path}: figures shown below {MIN_FIGURE_SCALE:.0%} of their size (text too "
        f"small to read): {[(round(f['scale'], 2), f['alt']) for f in small]}"
    )
