"""Keep the stored chapter notebooks small: interactive figures keep one picture.

    python -m booktools.book.slim book/*.ipynb          # slim them in place
    python -m booktools.book.slim --check book/*.ipynb  # exit 1 if one is not slim

An interactive figure (``dlbook.interactive``) shows live sliders in a notebook and, in
the HTML book, every slider position drawn in advance: megabytes of pictures. The stored
notebooks do not need them: the book's build executes every chapter again, nbval
ignores those cells' output, and the student edition clears all outputs. So in the
stored copy the HTML view keeps only the picture first shown, with a line that says
where the sliders work. Run this after executing a chapter, before committing it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

MARKER = 'class="dlbook-interactive"'
SLIM_MARKER = 'class="dlbook-interactive-stored"'
FIRST_IMAGE = re.compile(r"<img [^>]*>")
NOTE = (
    "<p><em>An interactive figure: its sliders work when the notebook runs, and in "
    "the HTML book.</em></p>"
)


def slim_html(page: str) -> str:
    """The stored view of an interactive figure: its first picture and a note."""
    image = FIRST_IMAGE.search(page)
    if image is None:
        raise ValueError("an interactive figure's HTML view holds no picture")
    return f"<div {SLIM_MARKER}>{image.group(0)}{NOTE}</div>"


def slim_notebook(nb: nbformat.NotebookNode) -> int:
    """Slim every interactive figure's output in place; return how many were slimmed."""
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            page = data.get("text/html")
            if page is None:
                continue
            page = "".join(page) if isinstance(page, list) else page
            if MARKER in page:
                data["text/html"] = slim_html(page)
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--check", action="store_true", help="only report notebooks that need slimming"
    )
    args = parser.parse_args(argv)
    unslimmed = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if not slim_notebook(nb):
            continue
        if args.check:
            unslimmed.append(str(path))
        else:
            nbformat.write(nb, path)
            print(f"slimmed {path}")
    if unslimmed:
        print(
            "these notebooks store every frame of their interactive figures; run "
            f"`python -m booktools.book.slim {' '.join(unslimmed)}`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
