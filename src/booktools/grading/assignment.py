"""Assignments for instructors: student notebooks and autograding with nbgrader.

    python -m booktools.grading.assignment create 01_perceptron --course ~/dl-course
        Sets up an nbgrader course folder (if new) with the chapter as assignment
        "01_perceptron": source/ holds the master notebook, release/ the student
        notebook (solution code replaced by a "not done yet" stub, visible checks
        kept, hidden tests and worked solutions removed). Hand out
        release/01_perceptron/01_perceptron.ipynb. It also runs the master in the
        sandbox and stores what its exercises return in grading/01_perceptron/.

    python -m booktools.grading.assignment autograde 01_perceptron --course ~/dl-course
        Grades every submission placed at
        submitted/<student>/01_perceptron/01_perceptron.ipynb (nbgrader's layout;
        `nbgrader collect` puts them there too), each in the sandbox
        (``booktools.grading.grader``), --jobs at a time (default: the machine's
        cores), each under the bounds for a whole submission
        (``booktools.grading.bounds``; --memory, --disk, --processes, --output,
        --timeout), printing its progress; then prints a score table and writes
        autograde.json: {"students": {student: {"score", "max_score", "flags",
        "error", "cells", "seconds", "usage"}}}. A bad submission scores 0 with its
        reason; the command exits 0 unless the instructor's side is wrong (unknown
        chapter, no assignment, no sandbox or no bounds).

The course folder is a plain nbgrader course: the scores go into its gradebook and the
graded notebooks into autograded/, so formgrader and export work in it as well
(`nbgrader export` in the course folder writes grades.csv, a score per student). The
grader's parent process alone writes the reports, once every submission is graded, in
the students' order: grading in parallel gives the same files as one at a time. Do not
run `nbgrader autograde` there: it would run the submissions unsandboxed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat

from booktools.book.config import chapter_notebooks
from booktools.book.editions import CODE_STUB, SOLUTION_TAG
from booktools.grading import cgroups, grader, sandbox
from booktools.grading.bounds import DEFAULT, Bounds

COURSE_ID = "dlbook"

NBGRADER_CONFIG = """\
# nbgrader configuration written by `python -m booktools.grading.assignment`
# (safe to edit).
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
# Grading runs through `python -m booktools.grading.assignment autograde`, which
# executes each submission in a sandbox; `nbgrader autograde` itself would run it as
# you, with your files. Should it be run anyway: nbgrader's per-cell default.
c.Execute.timeout = 30
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
    """The master notebook of ``chapter`` (``01_perceptron``, or a path to it)."""
    name = Path(chapter).name.removesuffix(".ipynb")
    chapters = {path.stem: path for path in chapter_notebooks()}
    if name not in chapters:
        known = sorted(chapters)
        raise SystemExit(f"error: chapter {chapter!r} not found; choose one of {known}")
    return chapters[name]


def init_course(course: Path) -> None:
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(
            NBGRADER_CONFIG.format(
                course_id=COURSE_ID, code_stub=CODE_STUB, solution_tag=SOLUTION_TAG
            )
        )


def create(chapter: str, course: Path, bounds: Bounds = DEFAULT) -> Path:
    """Make the assignment for ``chapter``; return the student notebook's path.

    The master runs in the sandbox under ``bounds`` to record its results.
    """
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
    _require_sandbox()
    save_expected(chapter, course, bounds)
    return student


def _require_sandbox() -> None:
    """Stop with the sandbox's own message when grading could not be sandboxed, or
    not bounded as a whole (control groups)."""
    try:
        sandbox.check()
        cgroups.check()
    except (sandbox.SandboxUnavailable, cgroups.CgroupsUnavailable) as error:
        raise SystemExit(f"error: {error}") from None


def _paths(chapter: str, course: Path) -> tuple[str, Path, Path, Path]:
    """(assignment, master in source/, student notebook in release/, expected)."""
    master = _chapter_path(chapter)
    assignment = master.stem
    return (
        assignment,
        course / "source" / assignment / master.name,
        course / "release" / assignment / master.name,
        course / "grading" / assignment / "expected.json",
    )


def save_expected(chapter: str, course: Path, bounds: Bounds = DEFAULT) -> Path:
    """Run the master in the sandbox and store what its exercises return."""
    _, source, release, expected = _paths(chapter, course)
    values = grader.expected_values(
        nbformat.read(source, as_version=4),
        nbformat.read(release, as_version=4),
        bounds,
    )
    expected.parent.mkdir(parents=True, exist_ok=True)
    expected.write_text(json.dumps(values))
    return expected


def _write_gradebook(assignment: str, course: Path, results: dict) -> None:
    """Record the scores in nbgrader's gradebook, so formgrader and export show them."""
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with warnings.catch_warnings(), Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader
        for student, result in results.items():
            gradebook.update_or_create_student(student)
            submission = gradebook.update_or_create_submission(assignment, student)
            for notebook in submission.notebooks:
                # nbgrader keeps the flag on the notebook (formgrader shows it there)
                notebook.flagged = bool(result.flags or result.error)
                for cell in notebook.grades:
                    mine = result.cells.get(cell.name)
                    if mine is not None:
                        cell.auto_score = mine["score"]
        gradebook.db.commit()


def _write_graded_notebook(path: Path, submission: Path, result) -> None:
    """The submission with what each cell printed, for feedback (best effort; none for
    a symbolic link, which could name the master)."""
    try:
        nb = nbformat.reads(grader.read_no_link(submission).decode(), as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable submission has no feedback
        return
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        cell.outputs = []
    for item in result.outputs:
        if not isinstance(item, dict) or not isinstance(item.get("index"), int):
            continue
        if 0 <= item["index"] < len(code):
            cell = code[item["index"]]
            text = item.get("text")
            if isinstance(text, str) and text:
                cell.outputs.append(nbformat.v4.new_output("stream", text=text))
            error = item.get("error")
            if isinstance(error, dict):
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename=str(error.get("ename")),
                        evalue=str(error.get("evalue")),
                        traceback=[f"{error.get('ename')}: {error.get('evalue')}"],
                    )
                )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def autograde(
    chapter: str,
    course: Path,
    bounds: Bounds = DEFAULT,
    jobs: int = 1,
    progress=None,
) -> dict[str, grader.Result]:
    """Grade every submission of ``chapter``; one bad submission never stops the rest.

    ``jobs`` submissions are graded at a time, each in its own sandbox under
    ``bounds``; ``progress(done, total, flagged, seconds)`` is called as each ends.
    Returns {student: Result} in the students' order and writes
    ``<course>/autograde.json`` and the gradebook, the same for any ``jobs``.
    """
    assignment, source, release, expected_path = _paths(chapter, course)
    if not source.exists() or not release.exists():
        raise SystemExit(
            f"error: no assignment {assignment} in {course}; run "
            "`python -m booktools.grading.assignment create "
            f"{assignment} --course {course}`"
        )
    _require_sandbox()
    if not expected_path.exists():
        save_expected(chapter, course, bounds)
    assignment_files = (
        nbformat.read(source, as_version=4),
        nbformat.read(release, as_version=4),
        json.loads(expected_path.read_text()),
    )
    submissions = list(_submissions(course, assignment, source.name))
    results = _grade_all(submissions, assignment_files, bounds, jobs, progress)
    for student, path in submissions:
        graded = course / "autograded" / student / assignment / source.name
        _write_graded_notebook(graded, path, results[student])
    _write_reports(assignment, course, results)
    return results


def _grade_all(submissions, assignment_files, bounds, jobs: int, progress):
    """{student: Result}, in the order of ``submissions``, graded ``jobs`` at a time
    (each in a thread that waits on its sandbox)."""
    start, done = time.monotonic(), {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {
            pool.submit(_grade_one, path, *assignment_files, bounds): student
            for student, path in submissions
        }
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if progress is not None:
                flagged = sum(1 for r in done.values() if r.flags)
                elapsed = time.monotonic() - start
                progress(len(done), len(submissions), flagged, elapsed)
    finally:
        pool.shutdown(cancel_futures=True)  # on ^C: start no more
    return {student: done[student] for student, _ in submissions}


def progress_line(done: int, total: int, flagged: int, seconds: float) -> str:
    """ "graded 7 of 30 (2 flagged), 1 min 42 s"."""
    minutes, rest = divmod(round(seconds), 60)
    elapsed = f"{minutes} min {rest} s" if minutes else f"{rest} s"
    return f"graded {done} of {total} ({flagged} flagged), {elapsed}"


def _submissions(course: Path, assignment: str, name: str):
    """(student, path of the notebook) for each student who submitted ``assignment``.

    nbgrader's layout: submitted/<student>/<assignment>/<name>; the notebook itself may
    be missing.
    """
    for folder in sorted((course / "submitted").glob("*")):
        if (folder / assignment).is_dir():
            yield folder.name, folder / assignment / name


def _grade_one(path: Path, source_nb, release_nb, expected, bounds) -> grader.Result:
    """Grade one submission; a missing notebook or a grader error scores 0, with why."""
    if not path.is_file() and not path.is_symlink():
        rules = grader.grading_rules(source_nb)
        result = grader.Result(max_score=sum(r["points"] for r in rules.values()))
        result.error = f"no {path.name} in {path.parent}"
        return result
    try:
        return grader.grade(path, source_nb, release_nb, expected, bounds)
    except Exception as error:  # noqa: BLE001 - never stop the class
        return grader.Result(error=f"grader error: {error!r}")


def _write_reports(assignment: str, course: Path, results: dict) -> None:
    """autograde.json, then nbgrader's gradebook (a failure there only warns)."""
    report = {
        "assignment": assignment,
        "students": {student: r.as_json() for student, r in results.items()},
    }
    (course / "autograde.json").write_text(json.dumps(report, indent=2))
    try:
        _write_gradebook(assignment, course, results)
    except Exception as error:  # noqa: BLE001 - the JSON report is already written
        print(f"warning: the gradebook was not updated: {error}", file=sys.stderr)


def print_table(results: dict[str, grader.Result]) -> None:
    if not results:
        print("no submissions found")
        return
    for student, r in sorted(results.items()):
        note = f"  error: {r.error}" if r.error else ""
        note += f"  flagged ({len(r.flags)}): {r.flags[0]}" if r.flags else ""
        print(
            f"{student:20s} {r.score:6.1f} / {r.max_score:.1f} {r.seconds:5.0f} s{note}"
        )
    errors = sum(1 for r in results.values() if r.error)
    flagged = sum(1 for r in results.values() if r.flags)
    print(
        f"graded {len(results)} submissions: {errors} could not be run (score 0), "
        f"{flagged} flagged for review; details in autograde.json"
    )


def _size(text: str) -> int:
    """Bytes from "4G", "512M", "64K" or a plain number (units of 1024)."""
    match = re.fullmatch(r"(\d+)\s*([KMG]?)(?:i?B)?", text.strip(), re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 4G or 512M)")
    power = " KMG".index(match[2].upper() or " ")
    return int(match[1]) * 1024**power


def _add_bounds(command: argparse.ArgumentParser) -> None:
    """The bounds for a whole submission, all its processes together, as options
    (defaults: bounds.DEFAULT)."""
    group = command.add_argument_group(
        "bounds for a whole submission (all its processes and files together)"
    )
    d = DEFAULT
    group.add_argument(
        "--memory", type=_size, default=d.memory, help="its memory (default 4G)"
    )
    group.add_argument(
        "--disk", type=_size, default=d.disk, help="the files it writes (default 1G)"
    )
    group.add_argument(
        "--processes",
        type=int,
        default=d.processes,
        help="processes and threads at once (default %(default)s)",
    )
    group.add_argument(
        "--output", type=_size, default=d.output, help="its output (default 16M)"
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=d.seconds,
        help="seconds of wall time (default %(default)s)",
    )


def _parser() -> argparse.ArgumentParser:
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
        _add_bounds(command)
        if name == "autograde":
            command.add_argument(
                "--jobs",
                type=int,
                default=len(os.sched_getaffinity(0)),
                help="submissions graded at a time (default: the cores, "
                "%(default)s here)",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    course = args.course.expanduser().resolve()
    try:
        bounds = Bounds(
            args.memory, args.disk, args.processes, args.output, args.timeout
        )
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    if args.command == "create":
        student = create(args.chapter, course, bounds)
        print(f"student notebook: {student}")
        print(
            f"collect submissions as {course}/submitted/<student>/"
            f"{student.parent.name}/{student.name}"
        )
        return 0

    def show(*counts) -> None:
        print(progress_line(*counts), file=sys.stderr, flush=True)

    results = autograde(args.chapter, course, bounds, max(1, args.jobs), show)
    print_table(results)
    print(f"results: {course / 'autograde.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
