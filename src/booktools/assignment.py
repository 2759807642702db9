"""Assignments for instructors: student notebooks and autograding with nbgrader.

    python -m booktools.assignment create 01_perceptron --course ~/dl-course
        Sets up an nbgrader course folder (if new) with the chapter as assignment
        "01_perceptron": source/ holds the master notebook, release/ the student
        notebook (solution code replaced by a "not done yet" stub, visible checks
        kept, hidden tests and worked solutions removed). Hand out
        release/01_perceptron/01_perceptron.ipynb.

    python -m booktools.assignment autograde 01_perceptron --course ~/dl-course
        Grades every submission placed at
        submitted/<student>/01_perceptron/01_perceptron.ipynb (nbgrader's layout;
        `nbgrader collect` puts them there too) and prints a score table.

The course folder is a plain nbgrader course: every other nbgrader command (formgrader,
feedback, export) works in it as well.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from booktools.config import REPO_ROOT
from booktools.editions import CODE_STUB, SOLUTION_TAG

COURSE_ID = "dlbook"

NBGRADER_CONFIG = """\
# nbgrader configuration written by `python -m booktools.assignment` (safe to edit).
from nbconvert.preprocessors import TagRemovePreprocessor
from nbgrader.converters import GenerateAssignment

c = get_config()  # noqa: F821 - provided by nbgrader
c.CourseDirectory.course_id = {course_id!r}
# The stub left where solution code was: it tells the student what to do, and the book's
# visible checks report it as "not done yet" instead of failing.
c.ClearSolutions.code_stub = {code_stub!r}
# Worked solutions written in prose live in markdown cells tagged "solution":
# drop them too.
c.TagRemovePreprocessor.remove_cell_tags = {{{solution_tag!r}}}
c.TagRemovePreprocessor.enabled = True
_defaults = GenerateAssignment.class_traits()["preprocessors"].default()
c.GenerateAssignment.preprocessors = [TagRemovePreprocessor, *_defaults]
c.Execute.timeout = 600
"""


def nbgrader(*args: str, course: Path) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent
    # nbgrader runs other tools of its environment (alembic) by name: put them on PATH.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(bin_dir / "nbgrader"), *args],
        cwd=course,
        capture_output=True,
        text=True,
        env=env,
    )


def _chapter_path(chapter: str) -> Path:
    name = Path(chapter).name.removesuffix(".ipynb")
    path = REPO_ROOT / "book" / f"{name}.ipynb"
    if not path.exists():
        known = sorted(p.stem for p in (REPO_ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
        raise SystemExit(f"error: chapter {chapter!r} not found; choose one of {known}")
    return path


def init_course(course: Path) -> None:
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(
            NBGRADER_CONFIG.format(
                course_id=COURSE_ID, code_stub=CODE_STUB, solution_tag=SOLUTION_TAG
            )
        )


def create(chapter: str, course: Path) -> Path:
    """Make the assignment for ``chapter``; return the student notebook's path."""
    master = _chapter_path(chapter)
    init_course(course)
    assignment = master.stem
    source = course / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    shutil.copy(master, source / master.name)
    result = nbgrader("generate_assignment", assignment, "--force", course=course)
    if result.returncode != 0 or "Exception while loading config" in result.stderr:
        raise SystemExit(
            "error: nbgrader generate_assignment failed:\n"
            f"{result.stdout}{result.stderr}"
        )
    student = course / "release" / assignment / master.name
    leftovers = [
        marker
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "{solution}")
        if marker in student.read_text()
    ]
    if leftovers:
        raise SystemExit(
            f"error: the student notebook {student} still contains {leftovers}; "
            f"check {course / 'nbgrader_config.py'}"
        )
    return student


def scores(assignment: str, course: Path) -> dict[str, tuple[float, float]]:
    """{student: (score, max_score)} for every graded submission of ``assignment``."""
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        result = {}
        for submission in gradebook.assignment_submissions(assignment):
            result[submission.student.id] = (submission.score, submission.max_score)
        return result


def autograde(chapter: str, course: Path) -> dict[str, tuple[float, float]]:
    assignment = _chapter_path(chapter).stem
    result = nbgrader("autograde", assignment, "--force", "--create", course=course)
    if result.returncode != 0:
        raise SystemExit(
            f"error: nbgrader autograde failed:\n{result.stdout}{result.stderr}"
        )
    return scores(assignment, course)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [
        ("create", "make the student notebook for a chapter"),
        ("autograde", "grade the submissions for a chapter"),
    ]:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("chapter", help="e.g. 01_perceptron")
        command.add_argument(
            "--course", type=Path, required=True, help="the nbgrader course folder"
        )
    args = parser.parse_args(argv)
    course = args.course.expanduser().resolve()
    if args.command == "create":
        student = create(args.chapter, course)
        print(f"student notebook: {student}")
        print(
            f"collect submissions as {course}/submitted/<student>/"
            f"{student.parent.name}/{student.name}"
        )
    else:
        table = autograde(args.chapter, course)
        if not table:
            print("no submissions found")
        for student, (score, maximum) in sorted(table.items()):
            print(f"{student:20s} {score:6.1f} / {maximum:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
