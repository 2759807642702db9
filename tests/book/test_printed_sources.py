"""What a chapter prints of the package's own code is course material: no formatter or
linter directive, no read of an environment variable, no test hook, and printed whole.

Each chapter prints package sources with ``inspect.getsource``. These tests find every
such call in the stored notebooks, look the object up in the package as it is now, and
check its source; they also check what the stored notebook shows, which is what the
HTML book and Colab show.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from booktools.book.config import chapter_notebooks

# Nothing a student needs: formatter and linter directives, the environment, test seams.
NOISE = re.compile(
    r"fmt:\s*(skip|off|on)|noqa|type:\s*ignore|pragma|os\.environ|getenv|"
    r"DLBOOK_|FAIL_RANK|on purpose|monkeypatch"
)


def _code_cells(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def _tree(cell: dict) -> ast.Module | None:
    source = "".join(cell["source"])
    # IPython's magics and shell escapes are not Python: leave those lines out
    lines = [
        line for line in source.splitlines() if line.lstrip()[:1] not in ("%", "!")
    ]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _printed_sources(notebook: Path) -> list[tuple[int, ast.Call, ast.AST | None]]:
    """Every inspect.getsource(...) call: (cell index, the call, the node around it)."""
    found = []
    for index, cell in enumerate(_code_cells(notebook)):
        tree = _tree(cell)
        if tree is None:
            continue
        parents = {
            child: node
            for node in ast.walk(tree)
            for child in ast.iter_child_nodes(node)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "inspect.getsource"
            ):
                found.append((index, node, parents.get(node)))
    return found


def _imported_names(notebook: Path) -> dict:
    """The names a chapter imports, bound as the chapter binds them."""
    names: dict = {}
    for cell in _code_cells(notebook):
        tree = _tree(cell)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                exec(compile(ast.Module([node], []), "<imports>", "exec"), names)
    return names


CHAPTERS = chapter_notebooks(REPO_ROOT)
PRINTING = [p for p in CHAPTERS if _printed_sources(p)]


def test_the_chapters_print_package_sources():
    # seventeen and more sources are printed; if none were found, the search is broken
    assert sum(len(_printed_sources(p)) for p in CHAPTERS) >= 17


@pytest.mark.parametrize("notebook", PRINTING, ids=lambda p: p.stem)
def test_printed_package_sources_are_clean_and_whole(notebook):
    names = _imported_names(notebook)
    problems = []
    for index, call, around in _printed_sources(notebook):
        expression = ast.unparse(call.args[0])
        target = eval(expression, dict(names))  # a name the chapter imported
        module = getattr(target, "__module__", None) or getattr(target, "__name__", "")
        if not module.startswith("dlbook"):
            continue  # the standard library's or torch's code, not ours
        where = f"code cell {index}: inspect.getsource({expression})"
        if isinstance(around, ast.Attribute):
            problems.append(
                f"{where} is cut (.{around.attr}): print the function whole"
            )
        for line in inspect.getsource(target).splitlines():
            if NOISE.search(line):
                problems.append(f"{where} prints {line.strip()!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", PRINTING, ids=lambda p: p.stem)
def test_stored_outputs_of_printed_sources_are_clean(notebook):
    problems = []
    cells = _code_cells(notebook)
    for index in sorted({index for index, _, _ in _printed_sources(notebook)}):
        for output in cells[index].get("outputs", []):
            for line in "".join(output.get("text", "")).splitlines():
                if NOISE.search(line):
                    problems.append(f"code cell {index} shows {line.strip()!r}")
    assert not problems, "\n".join(problems)
