"""Shared fixtures: the built public book and a local web server for it."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE = REPO_ROOT / "_build" / "html"
sys.path.insert(0, str(REPO_ROOT / "src"))

from booktools.book.config import chapter_notebooks, toc_files  # noqa: E402


def toc_pages() -> list[str]:
    """Every page of the book as a path relative to the site root.

    For example book/preface.html.
    """
    return [f"{f}.html" for f in toc_files(REPO_ROOT)]


CHAPTER_PAGES = [f"book/{p.stem}.html" for p in chapter_notebooks(REPO_ROOT)]


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the public book exactly as the README's first command does (strict).

    The book is built once per run.
    """
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
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
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
