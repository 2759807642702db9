"""A Sphinx extension that ends every chapter page with a record of how it was computed.

When the book is built, myst-nb executes each chapter (or takes it from its cache, which
holds the outputs of the last execution of the same code) and keeps when it ran and how
long it took. This extension adds, at the end of each executed page, a short section
with those facts and the ones that decide what a stored number can depend on: the
versions of Python, PyTorch and NumPy, the processor and whether there was a GPU, and
the seed the chapter's setup cell gives ``dlbook.setup``. The execution-statistics page
has the same times for all chapters at once; this puts them on the page a reader is
looking at.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
from functools import cache
from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

RECORD_CLASS = "page-record"
SETUP_CALL = re.compile(r"dlbook\.setup\(([^)]*)\)")


@cache
def processor() -> str:
    """The processor's model name and the number of cores the build could use."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:  # not Linux: keep platform's name
        pass
    # the cores this process may use (Linux); elsewhere, the machine's
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return f"{name}, {cores or os.cpu_count()} cores"


@cache
def gpu() -> str:
    """The GPU the build could use, or "no GPU"."""
    import torch  # only when a page is written: importing torch takes a second

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "no GPU"


def setup_seed(notebook: Path) -> int | None:
    """The seed that the notebook's setup cell passes to ``dlbook.setup`` (its default
    when the call gives none), or None if no cell calls it."""
    from dlbook.notebook import DEFAULT_SEED

    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        call = SETUP_CALL.search(source)
        if call is None:
            continue
        seed = re.search(r"(?:^|,)\s*(?:seed\s*=\s*)?(\d+)", call.group(1))
        return int(seed.group(1)) if seed else DEFAULT_SEED
    return None


def record_lines(exec_data: dict, seed: int | None) -> list[str]:
    """The record's lines, from myst-nb's execution data of one page."""
    when = datetime.datetime.fromtimestamp(exec_data["mtime"], datetime.timezone.utc)
    runtime = exec_data.get("runtime")
    took = f"in {runtime:.1f} s" if runtime is not None else "(time not recorded)"
    versions = ", ".join(
        f"{name} {version}"
        for name, version in [
            ("Python", platform.python_version()),
            ("PyTorch", metadata.version("torch")),
            ("NumPy", metadata.version("numpy")),
        ]
    )
    return [
        f"Executed on {when:%Y-%m-%d} at {when:%H:%M} UTC, {took}, "
        f"when the book was built.",
        f"Software: {versions}.",
        f"Machine: {processor()}; {gpu()}.",
        "Seed: "
        + (f"{seed} (dlbook.setup)." if seed is not None else "none set by the page."),
    ]


def _add_record(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_exec_data(app.env, docname)
    if not data or not data.get("succeeded"):
        return
    notebook = Path(app.env.doc2path(docname))
    seed = setup_seed(notebook) if notebook.suffix == ".ipynb" else None
    # a rubric, not a section: a heading outside the chapter's numbered sections
    record = nodes.container(ids=["how-this-page-was-computed"], classes=[RECORD_CLASS])
    record += nodes.rubric(text="How this page was computed")
    items = nodes.bullet_list()
    for line in record_lines(data, seed):
        items += nodes.list_item("", nodes.paragraph(text=line))
    record += items
    # inside the page's last top-level section, so that it is part of the chapter
    sections = [node for node in doctree.children if isinstance(node, nodes.section)]
    (sections[-1] if sections else doctree).append(record)


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _add_record)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
