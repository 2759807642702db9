"""The built book in a real browser, fully offline.

The browser is Debian's chromium driven by playwright. For every page: it loads with
no console error, requests nothing outside 127.0.0.1, typesets its maths (no MathJax
error, no undefined command, no control character in the TeX, no raw TeX left), gives
every image meaningful alt text, and every slider on it changes what the page shows.
Screenshots land in _build/screenshots/ for people to look at.
"""

from __future__ import annotations

import re

import pytest
from conftest import CHAPTER_PAGES, REPO_ROOT, PageVisit, toc_pages

pytestmark = pytest.mark.slow

SCREENSHOTS = REPO_ROOT / "_build" / "screenshots"
# TeX left as source in the prose: a display delimiter $$, \( \) \[ \], or a backslash
# and letters (a TeX command such as \frac, \text, \begin)
RAW_TEX = re.compile(r"\$\$|\\[()\[\]]|\\[A-Za-z]+")

# What MathJax made of a page's maths, read once it has typeset. MathJax 3 shows a TeX
# error as an merror node, <mjx-merror data-mjx-error="the message"> in the page; an
# undefined command (its noundefined package) as the command's name in red text, an
# <mtext> holding a backslash in the MathML. Neither raises an error. A control
# character in the TeX raises nothing either: a TAB that was the \t of \text turns
# n_\text{layers} into n_ followed by "ext{layers}", typeset as "n_e xtlayers" (review
# D8). The list of typeset maths, MathJax.startup.document.math, holds each TeX source
# (item.math) and its MathML (MathJax.startup.toMML(item.root)). The prose is the
# page's text outside code and outside MathJax's output (whose assistive MathML holds
# the maths as text).
MATHS = r"""() => {
    const items = window.MathJax && MathJax.startup && MathJax.startup.document
        ? [...MathJax.startup.document.math] : [];
    const texOf = new Map(items.map(item => [item.typesetRoot, item.math]));
    const command = /<mtext[^>]*>([^<]*\\[A-Za-z][^<]*)<\/mtext>/g;
    const control = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/g;
    const shownCommands = [], controls = [];
    for (const item of items) {
        const mml = MathJax.startup.toMML(item.root);
        for (const m of mml.matchAll(command))
            shownCommands.push({shown: m[1], tex: item.math});
        for (const m of item.math.matchAll(control))
            controls.push({code: m[0].charCodeAt(0), tex: item.math});
    }
    const walker = document.createTreeWalker(
        document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
    let prose = '';
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.parentElement.closest('pre,code,script,style,textarea,mjx-container'))
            prose += node.textContent + ' ';
    }
    return {
        untypeset: [...document.querySelectorAll('.math')]
            .filter(el => !el.querySelector('mjx-container'))
            .map(el => el.textContent),
        errors: [...document.querySelectorAll('mjx-merror')].map(el => ({
            message: el.getAttribute('data-mjx-error'),
            tex: texOf.get(el.closest('mjx-container')) || ''})),
        shownCommands: shownCommands, controls: controls, prose: prose};
}"""


def shown(tex: str) -> str:
    r"""TeX as a reader of the message should see it: in quotes, at most 100
    characters, control characters as tags (<U+0009> for a TAB, which repr would show
    as \t, just like a backslash and a t) and line breaks as spaces."""
    tex = re.sub(
        r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", lambda m: f"<U+{ord(m[0]):04X}>", tex
    )
    tex = re.sub(r"\s*\n\s*", " ", tex.strip())
    return f"“{tex[:100]}”"


def maths_problems(page) -> list[str]:
    """Every problem with the typeset maths of ``page`` (after MathJax is done), one
    line each, naming the TeX it is in."""
    found = page.evaluate(MATHS)
    problems = [f"not typeset: {shown(tex)}" for tex in found["untypeset"]]
    problems += [
        f"MathJax error “{e['message']}” in the TeX {shown(e['tex'])}"
        for e in found["errors"]
    ]
    problems += [
        f"undefined TeX command shown as text “{c['shown']}” in {shown(c['tex'])}"
        for c in found["shownCommands"]
    ]
    problems += [
        f"control character U+{c['code']:04X} in the TeX {shown(c['tex'])}"
        for c in found["controls"]
    ]
    prose = found["prose"]
    problems += [
        "raw TeX left in the text: "
        + shown(prose[max(0, m.start() - 30) : m.end() + 30])
        for m in RAW_TEX.finditer(prose)
    ]
    return problems


@pytest.fixture
def visit(browser, site_url):
    """A fresh visit of a page, for a test that changes what the page shows."""
    opened = []

    def open_page(path, body=None):
        opened.append(PageVisit(browser, site_url, path, body))
        return opened[-1]

    yield open_page
    for visit_ in opened:
        visit_.close()


@pytest.mark.parametrize("path", toc_pages())
def test_page_loads_offline_with_maths_and_alt_text(loaded, path):
    v = loaded(path)
    page = v.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"{path.replace('/', '_').removesuffix('.html')}.png")
    )

    assert not v.external, f"{path} tried to reach other sites: {v.external}"
    assert not v.errors, f"{path} logged console errors: {v.errors}"

    # Maths: every math element typeset, without error, undefined command or control
    # character, and no TeX source left in the prose.
    problems = maths_problems(page)
    assert not problems, f"{path}: {len(problems)} problems with the maths:\n" + (
        "\n".join(problems[:20])
    )

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


def test_the_maths_check_catches_what_is_planted_in_a_copy_of_a_page(visit, built_site):
    r"""A copy of the notation page with the mistakes the check is for: the TAB of
    review D8 (the \t of n_\text{layers} read as an escape), a TeX error, an undefined
    command and TeX outside the maths. Each is reported."""
    path = "book/notation.html"
    html = (built_site / path).read_text(encoding="utf-8")
    assert r"n_\text{layers}" in html, f"{path} no longer shows n_\\text{{layers}}"
    html = html.replace(r"n_\text{layers}", "n_\text{layers}", 1)  # \t: a TAB
    error, unknown = (
        f'<span class="math notranslate nohighlight">\\({tex}\\)</span>'
        for tex in (r"\frac{1}", r"\unknowncommand + 1")
    )
    # MathJax typesets \(...\) and $$...$$ wherever they are; TeX outside them stays
    # raw, as after a $...$ that MyST did not read as maths
    planted = f"<p>{error}, {unknown} and $\\frac{{1}}{{2}}$ in the text.</p>"
    heading = html.index("</h1>", html.index("<main")) + len("</h1>")
    html = html[:heading] + planted + html[heading:]
    problems = maths_problems(visit(path, body=html).page)
    for expected in [
        "control character U+0009 in the TeX “n_<U+0009>ext{layers}”",
        r"MathJax error “Missing argument for \frac” in the TeX “\frac{1}”",
        r"undefined TeX command shown as text “\unknowncommand” in "
        r"“\unknowncommand + 1”",
        "raw TeX left in the text: “",
    ]:
        assert [p for p in problems if p.startswith(expected)], (expected, problems)
    assert any(r"$\frac{1}{2}$ in the text" in p for p in problems), problems


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
def test_chapter_has_one_well_formed_colab_link(loaded, path):
    v = loaded(path)
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
def test_code_outputs_and_figures_fit_the_column(loaded, path):
    """At 1280 px, code cells, printed outputs, displayed equations and figures fit the
    column.

    No code cell or printed output needs horizontal scrolling, no displayed equation is
    wider than the text (it would run under the table of contents), and no figure is
    shrunk so far that its text becomes hard to read.
    """
    page = loaded(path).page
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
