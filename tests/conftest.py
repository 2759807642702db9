"""Shared fixtures: the built public book, a local web server for it, a browser and
visits of its pages, and a lock for what parallel workers share (tests/parallel.py says
how the tests are shared out)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE = REPO_ROOT / "_build" / "html"
sys.path.insert(0, str(REPO_ROOT / "src"))

from booktools.book import build  # noqa: E402
from booktools.book.config import chapter_notebooks, toc_files  # noqa: E402


def toc_pages() -> list[str]:
    """Every page of the book as a path relative to the site root.

    For example book/preface.html.
    """
    return [f"{f}.html" for f in toc_files(REPO_ROOT)]


CHAPTER_PAGES = [f"book/{p.stem}.html" for p in chapter_notebooks(REPO_ROOT)]


@contextlib.contextmanager
def exclusive(lock: Path):
    """Hold ``lock`` (a file) against every other process that asks for it: parallel
    workers take turns at what they share."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The public book, built strictly as the README's first command builds it.

    ``bash .ci/test`` builds it once before the workers start. A worker builds it again
    only if the sources changed since (``build.is_current``), one worker at a time: the
    other waits and then uses that build.
    """
    with exclusive(REPO_ROOT / "_build" / "build.lock"):
        if build.is_current():
            return SITE
        result = subprocess.run(
            [sys.executable, "-m", "booktools.book.build"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
        pytest.fail(
            f"the strict book build failed (exit {result.returncode}):\n{tail}",
            pytrace=False,
        )
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path):
    """Serve the built site on 127.0.0.1 (a free port) for the browser tests."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


# One browser for every test of a worker (the pages, the slides, accessibility):
# playwright's sync API allows one running instance per thread.
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

    def __init__(self, browser, site_url: str, path: str, body: str | None = None):
        """``body``: HTML to serve instead of the built page (a copy with a planted
        mistake, for a test that the checks catch it)."""
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.errors: list[str] = []

        def route(request_route):
            url = request_route.request.url
            if body is not None and url == f"{site_url}/{path}":
                request_route.fulfill(
                    content_type="text/html; charset=utf-8", body=body
                )
            elif url.startswith(site_url) or url.startswith(
                ("data:", "blob:", "about:")
            ):
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


@pytest.fixture(scope="session")
def loaded(browser, site_url):
    """The visit of a page shared by the tests that read it (each load of a chapter
    and its MathJax takes seconds): the page last asked for stays open until another
    is. tests/parallel.py runs a page's tests one after another on one worker: those
    that read it, then the quiz test, which answers and reloads (its file is collected
    last). Console errors and outside requests are those of the whole visit."""
    last: dict[str, PageVisit] = {}

    def open_page(path):
        if path not in last:
            for visit_ in last.values():
                visit_.close()
            last.clear()
            last[path] = PageVisit(browser, site_url, path)
        return last[path]

    yield open_page
    for visit_ in last.values():
        visit_.close()
