"""What a student's `pip install` of the helper package gets: dlbook, and what it needs.

The wheel holds the `dlbook` package only (the build tooling in src/booktools is not
shipped), and every third-party module that dlbook or a chapter imports is a declared
dependency of it, so a chapter runs wherever dlbook installed.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser

import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book.config import chapter_notebooks

# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn", "IPython": "ipython", "yaml": "pyyaml"}
# provided by a declared dependency (ipywidgets requires IPython)
PROVIDED_BY_DEPENDENCIES = {"ipython"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # setuptools reuses build/lib, where an older layout may have left other packages
    shutil.rmtree(REPO_ROOT / "build", ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        + ["--no-build-isolation", "-w", str(out), str(REPO_ROOT)],
        check=True,
    )
    return zipfile.ZipFile(next(out.glob("dlbook-*.whl")))


@pytest.fixture(scope="module")
def declared(wheel) -> set[str]:
    metadata_name = next(
        n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")
    )
    metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    names = metadata.get_all("Requires-Dist") or []
    return {re.split(r"[ <>=!;\[]", name, maxsplit=1)[0].lower() for name in names}


def test_the_wheel_ships_dlbook_only(wheel):
    top_level = {name.split("/")[0] for name in wheel.namelist()}
    others = {name for name in top_level if not name.startswith("dlbook")}
    assert not others, f"the wheel ships more than dlbook: {sorted(others)}"
    assert "dlbook/__init__.py" in wheel.namelist()
    assert "dlbook/weights/base_gpt.pt" in wheel.namelist()  # chapter 10's base model
    # the questions in the page: their script, style and every chapter's data file
    assert {"dlbook/quiz.js", "dlbook/quiz.css"} <= set(wheel.namelist())
    assert "dlbook/quizzes/01_perceptron.yml" in wheel.namelist()
    assert not any(name.startswith("booktools") for name in wheel.namelist())


def _imported_top_level(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _third_party(names: set[str]) -> set[str]:
    local = {"dlbook", "google", "__future__"}  # google.colab: only inside Colab
    return {
        DISTRIBUTION.get(name, name).lower()
        for name in names
        if name not in sys.stdlib_module_names and name not in local
    }


def _chapter_code(path) -> str:
    cells = nbformat.read(path, as_version=4).cells
    code = [c.source for c in cells if c.cell_type == "code"]
    # IPython magics (%pip) are not Python
    return "\n".join(
        line
        for cell in code
        for line in cell.splitlines()
        if not line.lstrip().startswith(("%", "!"))
    )


def test_every_module_dlbook_imports_is_declared(declared):
    sources = [path.read_text() for path in (REPO_ROOT / "src" / "dlbook").glob("*.py")]
    needed = set().union(*(_third_party(_imported_top_level(s)) for s in sources))
    missing = needed - declared - PROVIDED_BY_DEPENDENCIES
    assert not missing, f"dlbook imports {sorted(missing)} but does not declare them"


@pytest.mark.parametrize("notebook", chapter_notebooks(REPO_ROOT), ids=lambda p: p.stem)
def test_every_module_a_chapter_imports_is_declared(declared, notebook):
    needed = _third_party(_imported_top_level(_chapter_code(notebook)))
    missing = needed - declared - PROVIDED_BY_DEPENDENCIES
    assert not missing, (
        f"{notebook.name} imports {sorted(missing)}, "
        "which installing dlbook does not bring"
    )
