"""The PDF edition (booktools.book.pdf), read back with poppler's tools.

The PDF is printed from the built public book; these tests read it as a reader's PDF
viewer would (pdfinfo, pdftotext, pdfimages) and compare it with the built HTML: every
chapter title and every exercise number in its text and its bookmarks, every figure in
it, no TeX left unset, no word past the right margin, page numbers on the pages.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import REPO_ROOT, exclusive, toc_pages

from booktools.book import pdf as pdf_edition

pytestmark = pytest.mark.slow

A4_WIDTH_PT = 595.92
MARGIN_PT = 18 / 25.4 * 72  # 18 mm, booktools.book.pdf.MARGIN


def poppler(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="session")
def built_pdf(built_site) -> Path:
    """The PDF printed from the public book as built now (printed again only when the
    book was rebuilt since), one worker at a time."""
    with exclusive(REPO_ROOT / "_build" / "pdf.lock"):
        if not pdf_edition.is_current():
            result = subprocess.run(
                [sys.executable, "-m", "booktools.book.pdf"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                pytest.fail(f"printing the PDF failed:\n{result.stderr[-3000:]}")
    return pdf_edition.OUTPUT / pdf_edition.NAME


@pytest.fixture(scope="session")
def text(built_pdf) -> str:
    return poppler("pdftotext", str(built_pdf), "-")


def article(page: str, built_site: Path) -> BeautifulSoup:
    soup = BeautifulSoup((built_site / page).read_text(encoding="utf-8"), "html.parser")
    return soup.find("article")


def flat(words: str) -> str:
    return " ".join(words.split())


def test_it_opens_with_a_title_and_a_page_per_sheet_of_a4(built_pdf):
    info = poppler("pdfinfo", str(built_pdf))
    assert re.search(r"^Title:\s+Deep Learning, Computed$", info, re.M), info
    assert re.search(r"^Page size:\s+595\.9\d? x 842\.8\d? pts \(A4\)", info, re.M)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])
    assert pages > 100, f"only {pages} pages"


def test_the_html_book_offers_it_for_download(built_pdf, built_site):
    shipped = built_site / pdf_edition.NAME
    assert shipped.read_bytes() == built_pdf.read_bytes()
    links = article("book/preface.html", built_site).select(
        f'a[href="../{pdf_edition.NAME}"]'
    )
    assert links, "the preface has no link to the PDF"


def test_every_page_title_is_in_the_text_the_contents_and_the_bookmarks(
    built_pdf, built_site, text
):
    raw = built_pdf.read_bytes().decode("latin-1")
    bookmarks = {flat(t) for t in re.findall(r"/Title \(((?:[^()\\]|\\.)*)\)", raw)}
    bookmarks |= {  # titles with other than ASCII: UTF-16 in hexadecimal
        flat(bytes.fromhex(t).decode("utf-16"))
        for t in re.findall(r"/Title <(FEFF[0-9A-Fa-f]*)>", raw)
    }
    doubled = [t for t in bookmarks if re.fullmatch(r"(.{3,})\1", t)]
    assert not doubled, f"bookmarks with their text twice: {doubled[:5]}"
    sheets = text.split("\f")
    contents = flat(sheets[1])
    for page in toc_pages()[1:]:
        heading = article(page, built_site).find("h1")
        title = flat(heading.get_text(" ", strip=True).removesuffix("#"))
        assert title in flat(text), f"{page}: “{title}” is not in the PDF's text"
        assert title in bookmarks, f"{page}: “{title}” is not a bookmark"
        # in the contents, with the page it starts on, which starts with it
        number = re.search(re.escape(title) + r" (\d+)", contents)
        assert number, f"{page}: “{title}” has no page number in the contents"
        top = flat(sheets[int(number[1]) - 1])
        assert top.startswith(title), (
            f"the contents say “{title}” starts on page {number[1]}, which starts "
            f"“{top[:60]}”"
        )


def test_every_exercise_is_there_with_its_number(built_site, text):
    count = 0
    for page in toc_pages():
        for heading in article(page, built_site).select(".exercise .admonition-title"):
            number = re.match(r"Exercise \d+\.\d+", heading.get_text(" ", strip=True))
            assert number, heading.get_text()
            assert number[0] + " " in flat(text), f"{number[0]} is not in the PDF"
            count += 1
    assert count > 90, f"only {count} exercises found in the built book"


def test_every_figure_is_there(built_pdf, built_site):
    shown = 0
    for page in toc_pages():
        body = article(page, built_site)
        for hidden_input in body.select("details.hide.above-input"):
            hidden_input.decompose()
        shown += len(body.find_all("img"))
    listed = poppler("pdfimages", "-list", str(built_pdf)).splitlines()[2:]
    in_colour = [row for row in listed if row.split()[5] in ("rgb", "icc", "index")]
    assert shown > 50
    assert len(in_colour) == shown, (
        f"the built pages show {shown} pictures, the PDF holds {len(in_colour)}"
    )


def test_an_interactive_figure_says_the_web_page_has_a_slider(built_site, text):
    sliders = sum(
        len(article(page, built_site).select(".dlbook-interactive"))
        for page in toc_pages()
    )
    notes = flat(text).count("In the web edition a slider redraws this figure")
    assert sliders > 0 and notes == sliders


def test_no_tex_is_left_unset(built_site, text):
    """A TeX command in the PDF's text is unset maths, unless the book's code or
    output prints it (a plot label such as r"$\\alpha$" in a code cell)."""
    code = ""
    for page in toc_pages():
        code += " ".join(pre.get_text() for pre in article(page, built_site)("pre"))
    printed = set(re.findall(r"\\[A-Za-z]+", code))
    unset = set(re.findall(r"\\[A-Za-z]+", text)) - printed
    assert not unset, f"TeX commands left unset in the PDF: {sorted(unset)[:10]}"
    assert "$$" not in text and "\\(" not in text and "\\[" not in text


def test_every_line_of_code_and_output_is_there_whole(built_pdf, built_site):
    """Code or output too wide for the page would be cut off at its edge, and what is
    cut off is not in the PDF's text: every line of every code cell and output the
    pages show must be there (compared without white space, since wrapping adds
    line breaks)."""

    # -layout keeps a line of code whole (its comment is not read as another column);
    # emoji are left out of the comparison: this machine's fonts lack some (🤖), whose
    # glyph is then printed as a box with no text behind it
    def bare(line: str) -> str:
        return re.sub(r"[\s\U00010000-\U0010FFFF\u200d]+", "", line)

    printed = bare(poppler("pdftotext", "-layout", str(built_pdf), "-"))
    missing, lines = [], 0
    for page in toc_pages():
        body = article(page, built_site)
        for hidden_input in body.select("details.hide.above-input"):
            hidden_input.decompose()
        for block in body("pre"):
            for line in block.get_text().splitlines():
                line = bare(line)
                lines += bool(line)
                if line and line not in printed:
                    missing.append((page, line[:60]))
    assert lines > 2000
    assert not missing, f"{len(missing)} lines cut off or missing: {missing[:5]}"


def test_nothing_runs_past_the_margins_and_every_page_is_numbered(built_pdf):
    boxes = poppler("pdftotext", "-bbox", str(built_pdf), "-")
    right = A4_WIDTH_PT - MARGIN_PT + 1
    sheets = boxes.split("<page ")[1:]
    past, all_words = [], []
    for number, sheet in enumerate(sheets, start=1):
        words = re.findall(
            r'<word xMin="(-?[\d.]+)" yMin="(-?[\d.]+)" xMax="(-?[\d.]+)" '
            r'yMax="(-?[\d.]+)">([^<]*)</word>',
            sheet,
        )
        # MathJax draws an overline or a long arrow with one stretched glyph, which
        # pdftotext reports as a word wider than the page: not text, and not past
        words = [w for w in words if float(w[2]) - float(w[0]) < A4_WIDTH_PT]
        all_words += words
        past += [
            (number, w[4]) for w in words if float(w[2]) > right or float(w[0]) < 40
        ]
        # the footer: the page's number, alone at the bottom
        bottom = max(words, key=lambda w: float(w[1]))
        assert bottom[4] == str(number), f"page {number} ends with {bottom[4]!r}"
    assert not past, f"{len(past)} words outside the margins, the first {past[:5]}"
    # chromium shrinks every page to fit content wider than the paper: nothing then
    # runs past a margin, but the text is small. The prose is 10.5 pt.
    heights = sorted(float(w[3]) - float(w[1]) for w in all_words)
    median = heights[len(heights) // 2]
    assert median > 10, f"the median word is {median:.1f} pt high: pages shrunk to fit?"
