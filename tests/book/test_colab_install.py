"""A chapter's setup cell installs dlbook in a Colab-like environment; the chapter runs.

The environment (.venv-colab, made by .ci/setup) holds only numpy, torch, matplotlib,
ipywidgets, scipy, scikit-learn and a kernel, as Colab does. A stand-in `google.colab`
module makes the setup cell take its Colab branch; DLBOOK_SOURCE points its install at
a wheel built from this checkout (instead of the repository URL), and PIP_NO_INDEX
forbids pip from fetching anything, so the test also proves the install does not try
to reinstall numpy, torch or matplotlib.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import REPO_ROOT
from nbclient import NotebookClient

from booktools.book.config import chapter_notebooks

pytestmark = pytest.mark.slow

COLAB_PYTHON = REPO_ROOT / ".venv-colab" / "bin" / "python"
CHAPTER = chapter_notebooks(REPO_ROOT)[0]


def pip_freeze() -> set[str]:
    out = subprocess.run(
        [str(COLAB_PYTHON), "-m", "pip", "freeze", "--all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {
        line.split("==")[0].split(" @ ")[0].lower() for line in out.splitlines() if line
    }


@pytest.fixture
def colab_env(tmp_path, monkeypatch):
    if not COLAB_PYTHON.exists():
        pytest.fail(
            "the Colab-like environment is missing: run `bash .ci/setup`", pytrace=False
        )
    subprocess.run(
        [str(COLAB_PYTHON), "-m", "pip", "uninstall", "--yes", "--quiet", "dlbook"],
        capture_output=True,
    )
    # dlbook as Colab would get it, but built from this checkout.
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(REPO_ROOT),
        ],
        check=True,
    )
    wheel = next(wheels.glob("dlbook-*.whl"))
    # A stand-in for Colab's own module, imported at interpreter start-up.
    fake = tmp_path / "fake_colab"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text(
        '"""Stand-in for Colab."""\n'
    )
    (fake / "sitecustomize.py").write_text("import google.colab  # noqa: F401\n")
    # A kernel that runs the Colab-like interpreter.
    kernel_dir = tmp_path / "jupyter" / "kernels" / "colab-like"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(COLAB_PYTHON),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "Colab-like",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(fake))
    monkeypatch.setenv("DLBOOK_SOURCE", str(wheel))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return tmp_path


def test_setup_cell_installs_dlbook_and_the_chapter_runs(colab_env):
    before = pip_freeze()
    assert (
        "dlbook" not in before
        and {"numpy", "torch", "matplotlib", "ipywidgets"} <= before
    )

    nb = nbformat.read(CHAPTER, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="colab-like",
        timeout=600,
        resources={"metadata": {"path": str(colab_env)}},
    )
    client.execute()

    setup_outputs = "".join(
        output.get("text", "")
        for output in nb.cells[1].get("outputs", [])
        if "text" in output
    )
    after = pip_freeze()
    assert after - before == {"dlbook"}, (
        f"the setup cell installed more than dlbook: {sorted(after - before)}\n"
        f"{setup_outputs}"
    )
    assert before - after == set(), (
        f"the setup cell removed packages: {sorted(before - after)}"
    )
    errors = [
        o
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    subprocess.run(
        [str(COLAB_PYTHON), "-m", "pip", "uninstall", "--yes", "--quiet", "dlbook"],
        capture_output=True,
    )
