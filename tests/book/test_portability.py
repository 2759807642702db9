"""The stored outputs replay on other CPUs of this kind, not only on the one that made
them.

Machines of the project's kind differ in CPU features (AVX2 or AVX-512, Intel or AMD),
so torch (its own kernels, MKL, oneDNN) and NumPy's OpenBLAS pick different kernels and
the last digits of results differ. The build executes every chapter with this machine's
defaults and tests/book/test_build_outputs.py compares what it computed with the stored
outputs; here nbval replays every chapter, every cell, with the libraries forced onto
other kernels, as other machines would run them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from booktools.book.config import chapter_notebooks

pytestmark = pytest.mark.slow

OTHER_MACHINES = {
    # torch's plainest kernels (no SIMD of its own), with MKL, oneDNN and OpenBLAS as
    # on an AVX2 machine: every x86 processor of this kind has AVX2, so their plain
    # paths are not what any of them runs (left to themselves, MKL and oneDNN see
    # this one's AVX-512 and AMX, and torch 2.13's bfloat16 attention then asks its
    # plain kernels for AMX's packing, which no real machine would do)
    "generic": {
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
    # an AVX2-only machine: torch, MKL and oneDNN all limited to AVX2
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
}

CAPABILITY_PROBE = (
    "import numpy, threadpoolctl, torch; "
    "print(torch.backends.cpu.get_cpu_capability()); "
    "print([i.get('architecture') for i in threadpoolctl.threadpool_info() "
    "if i['internal_api'] == 'openblas'])"
)


@pytest.mark.parametrize("machine", sorted(OTHER_MACHINES))
def test_the_forced_settings_take_effect(machine):
    env = os.environ | OTHER_MACHINES[machine]
    out = subprocess.run(
        [sys.executable, "-c", CAPABILITY_PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert out[0] == OTHER_MACHINES[machine]["ATEN_CPU_CAPABILITY"].upper()
    assert out[1] == "['Haswell']"


@pytest.mark.parametrize("machine", sorted(OTHER_MACHINES))
@pytest.mark.parametrize(
    "notebook", chapter_notebooks(REPO_ROOT), ids=lambda path: path.stem
)
def test_chapter_replays_on_another_machine(notebook, machine):
    env = os.environ | OTHER_MACHINES[machine]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(notebook.relative_to(REPO_ROOT)),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        settings = " ".join(f"{k}={v}" for k, v in OTHER_MACHINES[machine].items())
        tail = "\n".join(result.stdout.splitlines()[-80:])
        pytest.fail(
            f"{notebook.name} does not replay with {settings}: a stored output "
            "depends on the CPU (print agreement as a pass against a tolerance, make "
            f"trainings insensitive, round to a precision that survives):\n{tail}",
            pytrace=False,
        )
