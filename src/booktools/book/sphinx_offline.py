"""A small Sphinx extension that keeps the book self-contained and its console clean.

Jupyter Book 1 always loads sphinx-thebe (live code via a CDN kernel, which this book
does not use): its inline configuration script is added twice, which is a JavaScript
error on every page, and it names a CDN; it also appends to each page a Binder
configuration that points at a third-party repository. The pydata theme starts with an
empty colour mode, which it reports as an error. This extension drops thebe's scripts,
stylesheet and page configuration, and sets the mode to "auto".

It points require.js at the vendored scripts (``_vendor/``), where the ipywidgets
manager then finds its fonts, instead of the folder of the page.

The execution-statistics table marks each notebook with an emoji, which a browser
without an emoji font shows as an empty box; the status is written out in words instead.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx


def _is_thebe(item) -> bool:
    """A page script or stylesheet (a file name, or an inline body) of sphinx-thebe."""
    filename = str(getattr(item, "filename", item) or "")
    body = getattr(item, "attributes", {}).get("body", "")
    return "thebe" in filename.lower() or "THEBE" in body


def _tidy_page_context(app, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [item for item in context[key] if not _is_thebe(item)]
    # the theme's layout reads `default_mode` when the reader has not chosen one yet
    context["default_mode"] = context.get("default_mode") or "auto"


THEBE_PAGE_CONFIG = ("text/x-thebe-config", "<script>kernelName =")
STATUS_WORDS = {"✅": "ran without error", "❌": "failed"}


def _tidy_doctree(app, doctree, docname) -> None:
    # sphinx-thebe appends its per-page Binder configuration as raw HTML nodes
    for raw in list(doctree.findall(nodes.raw)):
        if any(marker in raw.astext() for marker in THEBE_PAGE_CONFIG):
            raw.parent.remove(raw)
    # myst-nb's execution-statistics table: the status cell holds just the emoji
    for table in doctree.findall(nodes.table):
        for text in list(table.findall(nodes.Text)):
            if text.astext() in STATUS_WORDS:
                text.parent.replace(text, nodes.Text(STATUS_WORDS[text.astext()]))


REQUIRE_CONFIG = (
    "var require = {baseUrl: "
    "(document.documentElement.dataset.content_root || '') + '_vendor/'};"
)


def setup(app: Sphinx) -> dict:
    # priority 100: before require.js reads it
    app.add_js_file(None, body=REQUIRE_CONFIG, priority=100)
    app.connect("html-page-context", _tidy_page_context, priority=900)
    app.connect("doctree-resolved", _tidy_doctree, priority=900)  # after sphinx-thebe's
    return {"parallel_read_safe": True, "parallel_write_safe": True}
