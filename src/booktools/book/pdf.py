"""The public book as one PDF, printed by Debian's chromium from the built HTML.

    python -m booktools.book.pdf
        _build/html (built first by booktools.book.build) -> _build/pdf/<name>.pdf,
        also copied into _build/html so that the book's download link finds it

Every page of the table of contents, in its order, goes into one HTML document: a
title page, a table of contents, then each page's article as the HTML book shows it
(so chapters, exercises and equations keep the HTML's numbers, and MathJax typesets
the maths). Print styles (``pdf.css``) wrap code and outputs at the margin, start
each chapter on a new page and show an interactive figure as its first picture with a
line saying that the web page has a slider. chromium prints it with PDF bookmarks
from the headings and page numbers in the footer. It prints twice: the first print
says on which page each entry of the contents starts, the second prints those pages
in the contents.

Nothing is fetched from anywhere but the local server that serves the built book.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import html
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from bs4 import BeautifulSoup

from booktools.book.config import REPO_ROOT, load_config, toc_files

SITE = REPO_ROOT / "_build" / "html"
OUTPUT = REPO_ROOT / "_build" / "pdf"
NAME = "deep-learning-computed.pdf"
STAMP = OUTPUT / ".html-sources.sha256"  # the HTML build the PDF was printed from
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
STYLE = Path(__file__).with_name("pdf.css")
# the combined document, written beside the chapters (so that their relative links to
# ../_static and ../_images hold) for the time of printing only
DOCUMENT = "book/__pdf_edition__.html"

# An interactive figure (dlbook.interactive) as its first picture and a sentence.
SLIDER_NOTE = (
    "In the web edition a slider redraws this figure for other values of {names}; "
    "this is the figure for the first values."
)


# -- one document from the built pages -------------------------------------------


def page_id(path: str) -> str:
    """An id for a page of the site, such as ``book/04_convolutions``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", path.removesuffix(".html"))


def _local_target(href: str, page: str) -> str | None:
    """The id in the one document that a link of ``page`` goes to, or None when the
    link leaves the book (another site, a download, the search page)."""
    if re.match(r"^[a-z]+:", href):
        return None
    target, _, fragment = href.partition("#")
    if target:
        resolved = (Path(page).parent / target).as_posix()
        resolved = re.sub(r"[^/]+/\.\./", "", resolved)
        if not resolved.endswith(".html"):
            return None
        page = resolved
    return f"{page_id(page)}--{fragment}" if fragment else page_id(page)


def article_of(page: str, site: Path, known: set[str]) -> str:
    """The article of one built page, made fit to sit among the others in one
    document: ids made unique, links between pages turned into links inside the
    document, the web page's controls taken out."""
    soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article")
    if article is None:
        raise ValueError(f"{page}: no <article> in the built page")
    # the controls of a web page do nothing on paper
    for element in article.select(
        "a.headerlink, button, .copybtn, .toggle-details__summary, script"
    ):
        element.decompose()
    for figure in article.select(".dlbook-interactive"):
        names = [c.get_text() for c in figure.select(".dlbook-controls code")]
        for controls in figure.select(".dlbook-controls"):
            controls.decompose()
        note = soup.new_tag("p", attrs={"class": "pdf-slider-note"})
        note.string = SLIDER_NOTE.format(names=", ".join(names))
        figure.append(note)
    # code a page shows only on request (hide-input) stays hidden: its output shows
    for hidden in article.select("details.hide.above-input"):
        hidden.decompose()
    for element in article.find_all(id=True):
        element["id"] = f"{page_id(page)}--{element['id']}"
    for link in article.find_all("a", href=True):
        target = _local_target(link["href"], page)
        if target is not None and (target in known or "--" not in target):
            link["href"] = f"#{target}"
    return (
        f'<section class="pdf-page" id="{page_id(page)}">'
        f"{article.decode_contents()}</section>"
    )


def _title(page: str, site: Path) -> str:
    soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
    heading = soup.find("article").find("h1")
    return heading.get_text(" ", strip=True).removesuffix("#").strip()


def contents(pages: list[str], titles: dict[str, str]) -> str:
    """The table of contents: a line per page, its page number left blank (the
    printing fills it in)."""
    lines = []
    for page in pages[1:]:  # the first page, the preface, follows the contents
        lines.append(
            f'<li><a href="#{page_id(page)}"><span>{html.escape(titles[page])}</span>'
            '<span class="pdf-toc-page"></span></a></li>'
        )
    return (
        '<nav class="pdf-contents"><h2 class="pdf-contents-title">Contents</h2>'
        f"<ol>{''.join(lines)}</ol></nav>"
    )


def document(site: Path) -> str:
    """The whole book as one HTML document, to be saved at ``DOCUMENT`` in ``site``."""
    pages = [f"{f}.html" for f in toc_files()]
    missing = [p for p in pages if not (site / p).exists()]
    if missing:
        raise FileNotFoundError(
            f"site: the built book lacks {', '.join(missing)}; build it first "
            "(python -m booktools.book.build)"
        )
    first = BeautifulSoup((site / pages[1]).read_text(encoding="utf-8"), "html.parser")
    styles = "".join(str(link) for link in first.find_all("link", rel="stylesheet"))
    mathjax = [
        script
        for script in first.find_all("script")
        if "MathJax" in (script.string or "") or "mathjax" in script.get("src", "")
    ]
    known = {page_id(p) for p in pages}
    articles = [article_of(page, site, known) for page in pages]
    titles = {page: _title(page, site) for page in pages}
    config = load_config()
    built = datetime.date.today().isoformat()
    title_page = (
        '<section class="pdf-title-page">'
        f"<h1>{html.escape(config['title'])}</h1>"
        '<p class="pdf-subtitle">An interactive deep-learning textbook in which every '
        "number is computed by the code beside it</p>"
        f'<p class="pdf-author">{html.escape(config["author"])}</p>'
        f'<p class="pdf-edition">The public edition, printed {built} from the HTML '
        f"book built from commit {_commit()}. The web edition has what paper cannot: "
        "sliders, and every chapter as a notebook to run.</p></section>"
    )
    return (
        '<!DOCTYPE html><html lang="en" data-theme="light"><head><meta charset="utf-8">'
        f"<title>{html.escape(config['title'])}</title>{styles}"
        f"<style>{STYLE.read_text(encoding='utf-8')}</style>"
        f"{''.join(str(s) for s in mathjax)}</head>"
        f'<body><main class="pdf-book">{title_page}'
        f"{contents(pages, titles)}{''.join(articles)}</main></body></html>"
    )


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or "unknown"


# -- printing --------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _serve(site: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


MARGIN = {"top": "18mm", "bottom": "20mm", "left": "18mm", "right": "18mm"}
COLUMN_PX = round((210 - 18 - 18) / 25.4 * 96)
# the contents' page numbers, {id of a page of the book: the sheet it starts on}
NUMBER_CONTENTS = r"""numbers => {
    for (const link of document.querySelectorAll('.pdf-contents a')) {
        const number = numbers[link.getAttribute('href').slice(1)];
        link.querySelector('.pdf-toc-page').textContent = number || '';
    }
}"""
FOOTER = (
    '<div style="font-size:8pt;width:100%;text-align:center;color:#555">'
    '<span class="pageNumber"></span></div>'
)
# after MathJax has typeset, shrink what is still wider than the column (a long
# equation, a wide table) to fit it, and say what was shrunk
FIT_TO_COLUMN = r"""() => {
    const column = document.querySelector('main').clientWidth;
    const shrunk = [];
    for (const el of document.querySelectorAll(
            'mjx-container[display="true"], table, .cell_output img, pre')) {
        const width = el.scrollWidth;
        if (width > column + 1) {
            el.style.fontSize = `${Math.floor(100 * column / width)}%`;
            shrunk.push(el.tagName.toLowerCase());
        }
    }
    return shrunk;
}"""


def print_document(html_path: str, site: Path, pdf: Path, numbering) -> list[str]:
    """Print ``html_path`` (relative to ``site``) to ``pdf``; return what was shrunk.

    It prints twice: ``numbering()`` reads the first print and says on which page each
    page of the book starts ({page: number}); the contents show those numbers in the
    second. Every request outside the local server is refused."""
    from playwright.sync_api import sync_playwright

    server = _serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    refused: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base) or url.startswith("data:"):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"]
            )
            # laid out at the width of the printed column (A4 less the margins, at
            # 96 px per inch), in print media, so that what fits here fits on paper
            page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1000})
            page.emulate_media(media="print")
            page.route("**/*", route)
            page.goto(base + html_path, wait_until="load", timeout=300_000)
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=120_000,
            )
            page.evaluate("() => MathJax.startup.promise")
            shrunk = page.evaluate(FIT_TO_COLUMN)
            for _ in range(2):
                page.pdf(
                    path=str(pdf),
                    format="A4",
                    margin=MARGIN,
                    print_background=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                    outline=True,
                    tagged=True,
                )
                numbers = {page_id(p): n for p, n in numbering().items()}
                page.evaluate(NUMBER_CONTENTS, numbers)
            browser.close()
    finally:
        server.shutdown()
    if refused:
        raise RuntimeError(f"the PDF's document asked for {refused[:5]}: not local")
    return shrunk


def pages_of(pdf: Path, titles: dict[str, str]) -> dict[str, int]:
    """On which page of ``pdf`` each title starts: every page of the book begins a
    new sheet with its title, so the title is the top of the sheet. Needs poppler's
    pdftotext."""
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    tops = [
        " ".join(" ".join(sheet.split()).split(" ")[:40]) for sheet in text.split("\f")
    ]
    found = {}
    for page, title in titles.items():
        words = " ".join(title.split())
        for number, top in enumerate(tops, start=1):
            if top.startswith(words):
                found[page] = number
                break
    return found


def build(site: Path = SITE, output: Path = OUTPUT) -> Path:
    """Print the built book in ``site`` into ``output``/NAME; return the PDF's path."""
    output.mkdir(parents=True, exist_ok=True)
    pdf = output / NAME
    pages = [f"{f}.html" for f in toc_files()]
    titles = {page: _title(page, site) for page in pages[1:]}
    combined = site / DOCUMENT
    try:
        combined.write_text(document(site), encoding="utf-8")
        shrunk = print_document(DOCUMENT, site, pdf, lambda: pages_of(pdf, titles))
    finally:
        combined.unlink(missing_ok=True)
    missing = sorted(set(titles) - set(pages_of(pdf, titles)))
    if missing:
        raise RuntimeError(f"no sheet of the PDF starts with the title of {missing}")
    shutil.copy(pdf, site / NAME)  # the HTML book's download link
    stamp = site / ".sources.sha256"
    if stamp.exists():
        (output / STAMP.name).write_text(stamp.read_text())
    if shrunk:
        kinds = ", ".join(sorted(set(shrunk)))
        print(f"shrunk to fit the column: {len(shrunk)} ({kinds})")
    return pdf


def is_current(site: Path = SITE, output: Path = OUTPUT) -> bool:
    """True when the PDF was printed from the HTML build that is in ``site`` now."""
    stamp = site / ".sources.sha256"
    return (
        (output / NAME).exists()
        and (output / STAMP.name).exists()
        and stamp.exists()
        and (output / STAMP.name).read_text() == stamp.read_text()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--site", type=Path, default=SITE, help="the built HTML book (_build/html)"
    )
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="where the PDF goes (_build/pdf)"
    )
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        parser.error(f"--site: no built book in {args.site}; run booktools.book.build")
    pdf = build(args.site, args.output)
    print(f"wrote {pdf} ({pdf.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
