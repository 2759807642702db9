"""A small Sphinx extension that keeps the book self-contained and its console clean.

Jupyter Book 1 always loads sphinx-thebe (live code via a CDN kernel, which this book does not
use): its inline configuration script is added twice, which is a JavaScript error on every
page, and it names a CDN. The pydata theme also starts with an empty colour mode, which it
reports as an error. This extension drops thebe's scripts and sets the mode to "auto".

It also points require.js at the vendored scripts (``_vendor/``), where the ipywidgets
manager then finds its fonts, instead of the folder of the page.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _is_thebe(script) -> bool:
    """A page script (a file name, or an inline body) that belongs to sphinx-thebe."""
    filename = str(getattr(script, "filename", script) or "")
    body = getattr(script, "attributes", {}).get("body", "")
    return "thebe" in filename.lower() or "THEBE" in body


def _tidy_page_context(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = [
            s for s in context["script_files"] if not _is_thebe(s)
        ]
    # the theme's layout reads `default_mode` when the reader has not chosen one yet
    context["default_mode"] = context.get("default_mode") or "auto"


REQUIRE_CONFIG = "var require = {baseUrl: (document.documentElement.dataset.content_root || '') + '_vendor/'};"


def setup(app: Sphinx) -> dict:
    app.add_js_file(
        None, body=REQUIRE_CONFIG, priority=100
    )  # before require.js reads it
    app.connect("html-page-context", _tidy_page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
