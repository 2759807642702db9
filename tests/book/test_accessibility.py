"""Every page of the built book checked with axe-core against WCAG 2.1 A and AA.

axe-core is the accessibility engine browsers' developer tools use. Its copy here
(tests/book/axe-core/: axe.min.js from npm's axe-core, MPL-2.0, its LICENSE beside it)
is put into each page by the test, so the published book does not ship a test tool.
For every page, in Debian's chromium with every request outside 127.0.0.1 blocked (as
in test_browser.py): once the page has loaded and MathJax has typeset it, and once the
book's own script (book/_static/dlbook-a11y.js) has mended what the theme leaves
unnamed, axe-core checks it; the test fails on any violation of impact serious or
critical, naming the rule, the impact, where it is (a CSS selector) and what to do.
The pages are checked in the light colour mode, the one a reader gets by default.

To refresh axe-core: `npm pack axe-core@4`, then copy package/axe.min.js and
package/LICENSE here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PageVisit, toc_pages

pytestmark = pytest.mark.slow

AXE = Path(__file__).with_name("axe-core") / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA (axe-core's tags for them)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

RUN_AXE = """async tags => {
    const result = await axe.run(document, {
        runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.map(node => node.target.join(' '))}));
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A and AA violations on ``page`` as it is now: for each rule
    broken, its id, impact, help text and the selectors of the elements that break
    it."""
    assert AXE.is_file(), f"axe-core is missing: {AXE}"
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, WCAG_21_AA)


def serious(violations: list[dict]) -> list[str]:
    """The violations of impact serious or critical, one line each."""
    lines = []
    for v in violations:
        if v["impact"] not in FAILING_IMPACTS:
            continue
        where = ", ".join(v["targets"][:5])
        more = len(v["targets"]) - 5
        where += f" and {more} more" if more > 0 else ""
        lines.append(f"{v['id']} ({v['impact']}, {len(v['targets'])}×): {v['help']}")
        lines.append(f"    at {where}")
    return lines


@pytest.fixture
def open_page(browser, site_url):  # noqa: F811 (browser: the fixture imported above)
    opened = []

    def open_(path, body=None):
        opened.append(PageVisit(browser, site_url, path, body))
        return opened[-1].page

    yield open_
    for visit in opened:
        visit.close()


@pytest.mark.parametrize("path", toc_pages())
def test_page_has_no_serious_accessibility_violation(loaded, path):
    problems = serious(axe_violations(loaded(path).page))
    assert not problems, (
        f"{path}: axe-core finds WCAG 2.1 A/AA violations of impact serious or "
        "critical:\n" + "\n".join(problems)
    )


def test_the_check_catches_what_is_planted_in_a_copy_of_a_page(open_page, built_site):
    """A copy of the preface with three faults axe-core rates serious or critical: a
    button whose name leaves out the text it shows, a link too faint to read, an image
    without alt text. Each is reported."""
    path = "book/preface.html"
    html = (built_site / path).read_text(encoding="utf-8")
    planted = (
        '<p><button type="button" aria-label="Close">Open the chapter</button> '
        '<a href="#" style="color: #bbbbbb">a faint link</a> '
        '<img src="../_static/file.png"></p>'
    )
    # after the article's heading (an earlier <h1> is in a part shown only in print)
    heading = html.index("</h1>", html.index("<article")) + len("</h1>")
    html = html[:heading] + planted + html[heading:]
    found = "\n".join(serious(axe_violations(open_page(path, body=html))))
    for rule in ["label-content-name-mismatch", "color-contrast", "image-alt"]:
        assert f"\n{rule} (" in f"\n{found}", (rule, found)
