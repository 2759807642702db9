"""Benchmark (not a test): a class of 30 chapter-1 submissions graded one at a time and
side by side.

    .venv/bin/python benchmarks/grade_class.py [--jobs 2] [--keep DIR]

Builds an nbgrader course for chapter 1 (``booktools.grading.assignment create``) and
a class of 30 submissions: 10 complete, 8 partly solved (the first exercise, or the
first two), 4 untouched, and 8 hostile ones (an endless loop, a monkeypatch of numpy,
one that reads the masters, one that calls the library function, one that kills its
process, a fork bomb, one that floods its output, and a file that is not JSON). Then
grades two copies of it, with 1 job and with ``--jobs``, prints the progress and the
wall time of each, and checks that both gave the same scores, flags, errors and
gradebook. The target: the class graded within 5 minutes with 2 jobs on the project's
2-core machine. The machine's load average is printed before and after each run: the
times mean little if other work shared the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from booktools.book.config import chapter_notebooks
from booktools.grading import assignment

CHAPTER = "01_perceptron"
EXERCISES = ("ch1-ex-perceptron-update", "ch1-ex-stable-softmax", "ch1-ex-parity")
FIRST = EXERCISES[0]
HOSTILE = {
    "loop": "def perceptron_step(x, d, w, b, lr=1.0):\n    while True:\n        pass\n",
    "monkeypatch": "np.allclose = np.isclose = lambda *a, **k: True\n",
    "reads-master": (
        "for _path in [MASTER, '../../../source/01_perceptron/01_perceptron.ipynb']:\n"
        "    try:\n"
        "        print(open(_path).read()[:100])\n"
        "    except OSError as _error:\n"
        "        print(_error)\n"
    ),
    "library": (
        "def perceptron_step(x, d, w, b, lr=1.0):\n"
        "    return pc.perceptron_update(x, d, w, b, lr)\n"
    ),
    "kills-kernel": "import os\n\nos.kill(os.getpid(), 9)\n",
    # it waits once its forks fail: stopped at the same cell, whatever the timing
    "fork-bomb": (
        "import os\nimport time\n\ntry:\n    while True:\n"
        "        os.fork() or time.sleep(300)\nexcept OSError:\n    time.sleep(300)\n"
    ),
    "floods-output": "import os\n\nwhile True:\n    os.write(1, b'x' * 65536)\n",
}


def solution_sources(nb) -> dict[str, str]:
    """{exercise: the source of its solution cell} in ``nb``."""
    return {
        cell.metadata["nbgrader"]["grade_id"].removesuffix("-solution"): cell.source
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def with_solutions(student, solutions: dict[str, str]):
    """A copy of the student notebook with the solution cells of ``solutions``."""
    nb = nbformat.from_dict(student)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        exercise = grade_id.removesuffix("-solution")
        if grade_id.endswith("-solution") and exercise in solutions:
            cell.source = solutions[exercise]
    return nb


def the_class(master_path: Path, student) -> dict:
    """30 submissions: {student id: notebook, or text for a broken file}."""
    solved = solution_sources(nbformat.read(master_path, as_version=4))
    submissions = {}
    for n in range(10):
        submissions[f"complete-{n:02d}"] = with_solutions(student, solved)
    for n in range(8):
        done = EXERCISES[: 1 + n % 2]
        submissions[f"partial-{n:02d}"] = with_solutions(
            student, {ex: solved[ex] for ex in done}
        )
    for n in range(4):
        submissions[f"untouched-{n:02d}"] = student
    for name, source in HOSTILE.items():
        source = source.replace("MASTER", repr(str(master_path)))
        submissions[f"hostile-{name}"] = with_solutions(
            student, {**solved, FIRST: source}
        )
    submissions["hostile-not-json"] = '{"cells": [ not JSON'
    assert len(submissions) == 30
    return submissions


def submit(course: Path, submissions: dict) -> None:
    master = chapter_notebooks()[0].name
    for name, nb in submissions.items():
        folder = course / "submitted" / name / CHAPTER
        folder.mkdir(parents=True)
        if isinstance(nb, str):
            (folder / master).write_text(nb)
        else:
            nbformat.write(nb, folder / master)


def comparable(course: Path) -> tuple:
    """The report without what is measured, and the gradebook's scores and flags."""
    from nbgrader.api import Gradebook

    report = json.loads((course / "autograde.json").read_text())
    for record in report["students"].values():
        del record["seconds"], record["usage"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        book = []
        for student in gradebook.students:
            submission = gradebook.find_submission(CHAPTER, student.id)
            book.append(
                (
                    student.id,
                    submission.score,
                    [(nb.name, nb.flagged) for nb in submission.notebooks],
                    [
                        (g.name, g.auto_score)
                        for nb in submission.notebooks
                        for g in nb.grades
                    ],
                )
            )
    return json.dumps(report), book


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def grade(course: Path, jobs: int) -> tuple[float, dict]:
    print(f"\n== {jobs} job(s); load average before: {load()}", flush=True)

    def show(*counts) -> None:
        print("  " + assignment.progress_line(*counts), flush=True)

    start = time.monotonic()
    results = assignment.autograde(CHAPTER, course, jobs=jobs, progress=show)
    seconds = time.monotonic() - start
    print(f"  {seconds:.0f} s; load average after: {load()}", flush=True)
    return seconds, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="the side-by-side run")
    parser.add_argument(
        "--keep", type=Path, help="make the courses here, and keep them"
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="dlbook-grade-class-"))
    master_path = chapter_notebooks()[0]
    pristine = root / "pristine"
    print(f"making the assignment in {pristine} ...", flush=True)
    student = nbformat.read(assignment.create(CHAPTER, pristine), as_version=4)
    submissions = the_class(master_path, student)
    times, compared, scores = {}, {}, {}
    for jobs in (1, args.jobs):
        course = root / f"jobs-{jobs}"
        shutil.copytree(pristine, course)
        submit(course, submissions)
        times[jobs], results = grade(course, jobs)
        compared[jobs] = comparable(course)
        scores[jobs] = {
            s: (r.score, bool(r.flags), r.error) for s, r in results.items()
        }
    same = compared[1] == compared[args.jobs]
    print(f"\n{len(submissions)} submissions of {CHAPTER} on {os.cpu_count()} cores:")
    for jobs, seconds in times.items():
        print(f"  {jobs} job(s): {seconds:6.0f} s ({seconds / 60:.1f} min)")
    print(f"  speed-up: {times[1] / times[args.jobs]:.2f}x")
    print(f"  same scores, flags, errors and gradebook: {same}")
    print(f"  within 5 minutes with {args.jobs} jobs: {times[args.jobs] <= 300}")
    if not args.keep:
        shutil.rmtree(root)
    if not same:
        for student in scores[1]:
            if scores[1][student] != scores[args.jobs][student]:
                print(
                    "  differs:",
                    student,
                    scores[1][student],
                    scores[args.jobs][student],
                )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
