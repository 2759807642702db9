"""Autograding that a student cannot fool, and that one bad submission cannot stop.

One class of chapter 1 submissions is graded once, two at a time (``graded_class``):
the master, an honest student, the untouched student notebook, and one submission for
each attack of issue 16 and a few more. Each attack scores 0 on what it attacked or is
flagged, the solutions stay unread, the honest ones score full with no flag, and the
broken ones cost only their own student; nbgrader's export gives every score. A small
class is graded one at a time and two at a time, with the same reports and gradebook.
Fast tests cover the sandbox, the tamper scan and the comparison of results on their
own. (The bounds for a whole submission: test_bounds.py; the network: test_network.py.)
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book.config import chapter_notebooks
from booktools.grading import assignment, grader, sandbox, tamper

CHAPTER = "01_perceptron"
MASTER = REPO_ROOT / "book" / f"{CHAPTER}.ipynb"
PERCEPTRON, SOFTMAX, PARITY = (
    "ch1-ex-perceptron-update",
    "ch1-ex-stable-softmax",
    "ch1-ex-parity",
)
STOLEN = "STOLEN-SOLUTION-TEXT"

# -- what the students write -----------------------------------------------------------

HONEST = {
    PERCEPTRON: (
        "def perceptron_step(x, d, w, b, lr=1.0):\n"
        "    if d * (w @ x + b) > 0:\n"
        "        return np.array(w, dtype=float), b\n"
        "    return w + lr * d * x, b + lr * d\n"
    ),
    SOFTMAX: (
        "def stable_softmax(z):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
        "    return e / np.sum(e, axis=-1, keepdims=True)\n"
    ),
    # another right answer than the master's: the grader must accept it
    PARITY: (
        "def parity_network():\n"
        "    W1 = 2 * np.ones((3, 3))\n"
        "    b1 = np.array([-1.0, -3.0, -5.0])\n"
        "    w2 = np.array([2.0, -2.0, 2.0])\n"
        "    return W1, b1, w2, -1.0\n"
    ),
}
WRONG = {
    PERCEPTRON: "def perceptron_step(x, d, w, b, lr=1.0):\n    return w, b\n",
    SOFTMAX: "def stable_softmax(z):\n    return np.ones_like(z) / np.shape(z)[-1]\n",
    PARITY: (
        "def parity_network():\n"
        "    return np.ones((3, 3)), np.zeros(3), np.ones(3), 0.0\n"
    ),
}
TRANSFORMER = (
    "\n\ndef _swallow(lines):\n"
    '    body = "".join("    " + line for line in lines) or "    pass\\n"\n'
    '    return ["try:\\n", body, "\\nexcept BaseException:\\n    pass\\n"]\n\n\n'
    "get_ipython().input_transformers_post.append(_swallow)\n"
)
MONKEYPATCH = (
    "\nimport dlbook.exercises\n\n"
    "np.allclose = np.isclose = np.array_equal = lambda *a, **k: True\n"
    "dlbook.exercises.check = lambda text, test: print('[passed]', text)\n"
)
LIBRARY = {
    PERCEPTRON: (
        "def perceptron_step(x, d, w, b, lr=1.0):\n"
        "    return pc.perceptron_update(x, d, w, b, lr)\n"
    ),
    SOFTMAX: (
        "def stable_softmax(z):\n"
        "    z = torch.as_tensor(z, dtype=torch.float64)\n"
        "    return torch.softmax(z, -1).numpy()\n"
    ),
    PARITY: HONEST[PARITY],
}
LOOP = "def perceptron_step(x, d, w, b, lr=1.0):\n    while True:\n        pass\n"
KILL = "import os\n\nos.kill(os.getpid(), 9)\n"
# a fork bomb that also patches numpy: stopped at the process bound, and flagged
# (it waits once its forks fail, so that it is stopped at the same cell every time)
BOMB = (
    "import os\nimport time\n\nnp.allclose = lambda *a, **k: True\n"
    "try:\n    while True:\n        os.fork() or time.sleep(300)\n"
    "except OSError:\n    time.sleep(300)\n"
)


def steal(paths: list[str], grade_id: str, writes: list[str]) -> str:
    """A solution cell that reads the master from disk and runs its solution."""
    return (
        "import json\n\n"
        f"for _path in {paths!r}:\n"
        "    try:\n"
        "        _nb = json.load(open(_path))\n"
        "    except Exception as _error:\n"
        "        print('could not read', _path, type(_error).__name__)\n"
        "        continue\n"
        "    for _cell in _nb['cells']:\n"
        f"        if _cell['metadata'].get('nbgrader', {{}}).get('grade_id') == "
        f"{grade_id + '-solution'!r}:\n"
        f"            print({STOLEN!r})\n"
        "            exec(''.join(_cell['source']))\n"
        f"for _path in {writes!r}:\n"
        "    try:\n"
        "        open(_path, 'w').write('owned')\n"
        "    except Exception as _error:\n"
        "        print('could not write', _path, type(_error).__name__)\n"
    )


FORGE = (
    "import atexit\nimport json\nimport sys\n\n\n"
    "def _forge():\n"
    "    ids = ['ch1-ex-perceptron-update-tests', 'ch1-ex-stable-softmax-tests',\n"
    "           'ch1-ex-parity-tests']\n"
    "    cell = {'passed': True, 'error': None, 'captured': {}, 'missing': [],\n"
    "            'tripwires': []}\n"
    "    report = {'cells': {i: cell for i in ids}, 'outputs': [], 'tampering': []}\n"
    "    json.dump(report, open(sys.argv[-1], 'w'))\n\n\n"
    "atexit.register(_forge)\n"
)
LIAR = (
    "class _Liar(np.ndarray):\n"
    "    def __array_ufunc__(self, *args, **kwargs):\n"
    "        return True\n\n"
    "    def __eq__(self, other):\n"
    "        return True\n\n\n"
    "def perceptron_step(x, d, w, b, lr=1.0):\n"
    "    return np.zeros(len(w)).view(_Liar), np.zeros(1).view(_Liar)\n"
)
CODE_SWAP = WRONG[SOFTMAX] + (
    "\n\nnp.allclose.__code__ = (lambda *a, **k: True).__code__\n"
    "np = type('FakeNumpy', (), {'allclose': staticmethod(lambda *a, **k: True),\n"
    "                            '__getattr__': lambda self, name: None})()\n"
)


def with_cells(nb, solutions: dict[str, str] | None = None, tests=None):
    """A copy of ``nb`` with solution cells (by exercise) and test cells replaced."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        exercise = grade_id.rsplit("-", 1)[0]
        if grade_id.endswith("-solution") and exercise in (solutions or {}):
            cell.source = solutions[exercise]
        if grade_id.endswith("-tests") and exercise in (tests or {}):
            cell.source = tests[exercise]
    return nb


def stub(nb, exercise: str) -> str:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{exercise}-solution":
            return cell.source
    raise KeyError(exercise)


# -- the class, graded once ------------------------------------------------------------


def autograde(course: Path, jobs: int) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "booktools.grading.assignment", "autograde"]
    return subprocess.run(
        [*command, CHAPTER, "--course", str(course), "--jobs", str(jobs)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )


def submit(course: Path, submissions: dict) -> None:
    """Put each notebook (or text, for a broken file) where nbgrader collects it."""
    for name, nb in submissions.items():
        folder = course / "submitted" / name / CHAPTER
        folder.mkdir(parents=True)
        if isinstance(nb, str):
            (folder / MASTER.name).write_text(nb)
        else:
            nbformat.write(nb, folder / MASTER.name)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    student = nbformat.read(assignment.create(CHAPTER, course), as_version=4)
    pristine = tmp_path_factory.mktemp("pristine") / "course"
    shutil.copytree(course, pristine)  # the assignment made, nothing graded yet
    source = course / "source" / CHAPTER / MASTER.name
    secrets = [str(source), str(MASTER), str(course / "gradebook.db")]
    writes = [str(course / "owned.txt"), str(REPO_ROOT / "owned.txt")]
    submit(
        course,
        {
            "master": nbformat.read(MASTER, as_version=4),
            "honest": with_cells(student, HONEST),
            "untouched": student,
            "transformer": with_cells(
                student, {PERCEPTRON: stub(student, PERCEPTRON) + TRANSFORMER}
            ),
            "monkeypatch": with_cells(
                student, {**WRONG, PERCEPTRON: WRONG[PERCEPTRON] + MONKEYPATCH}
            ),
            "reads-master": with_cells(
                student,
                {
                    ex: steal(secrets, ex, writes)
                    for ex in (PERCEPTRON, SOFTMAX, PARITY)
                },
            ),
            "library": with_cells(student, LIBRARY),
            "loop": with_cells(student, {**HONEST, PERCEPTRON: LOOP}),
            "kills-kernel": with_cells(student, {PERCEPTRON: KILL}),
            "forges-report": with_cells(
                student, {PERCEPTRON: stub(student, PERCEPTRON) + "\n\n" + FORGE}
            ),
            "tricks": with_cells(
                student,
                {PERCEPTRON: LIAR, SOFTMAX: CODE_SWAP},
                tests={PARITY: "pass\n"},
            ),
            "invalid-json": '{"cells": [ this is not JSON',
        },
    )
    # a link to the master in place of a notebook: the grader must not follow it
    (course / "submitted" / "symlink" / CHAPTER).mkdir(parents=True)
    (course / "submitted" / "symlink" / CHAPTER / MASTER.name).symlink_to(source)
    start = time.monotonic()
    run = autograde(course, jobs=2)
    seconds = time.monotonic() - start
    report = json.loads((course / "autograde.json").read_text())["students"]
    return {
        "course": course,
        "pristine": pristine,
        "run": run,
        "report": report,
        "seconds": seconds,
    }


def cell_score(report, student, exercise) -> float:
    return report[student]["cells"][f"{exercise}-tests"]["score"]


@pytest.mark.slow
def test_the_class_is_graded_and_the_command_exits_0(graded_class):
    run, report = graded_class["run"], graded_class["report"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(report) == 13, sorted(report)
    for line in ("graded 13 submissions", "could not be run"):
        assert line in run.stdout, run.stdout
    # progress, as each submission ends
    progress = [line for line in run.stderr.splitlines() if line.startswith("graded")]
    assert [line.split(" (")[0] for line in progress] == [
        f"graded {n} of 13" for n in range(1, 14)
    ], run.stderr
    for record in report.values():
        assert set(record) >= {"score", "max_score", "flags", "error"}
        assert record["max_score"] == 7


@pytest.mark.slow
def test_honest_submissions_score_full_with_no_flag(graded_class):
    report = graded_class["report"]
    for student in ("master", "honest"):
        record = report[student]
        assert (record["score"], record["flags"], record["error"]) == (7, [], None), (
            student,
            record,
        )
    untouched = report["untouched"]
    assert (untouched["score"], untouched["flags"], untouched["error"]) == (0, [], None)


@pytest.mark.slow
def test_the_graded_notebook_shows_not_done_yet(graded_class):
    graded = graded_class["course"] / "autograded" / "untouched" / CHAPTER
    text = (graded / MASTER.name).read_text()
    assert text.count("[not done yet]") >= 3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("transformer", "input transformer"),
        ("monkeypatch", "numpy.allclose"),
        ("reads-master", "outside the scratch folder"),
        ("forges-report", "atexit"),
        ("tricks", "locked cell ch1-ex-parity-tests was edited"),
    ],
)
def test_attacks_score_0_and_are_flagged(graded_class, student, reason):
    record = graded_class["report"][student]
    assert record["score"] == 0, record
    assert any(reason in flag for flag in record["flags"]), record["flags"]


@pytest.mark.slow
def test_solutions_stay_unread_and_the_course_unwritten(graded_class):
    course = graded_class["course"]
    graded = course / "autograded" / "reads-master" / CHAPTER / MASTER.name
    text = "".join(
        str(output.get("text", "")) + str(output.get("evalue", ""))
        for cell in nbformat.read(graded, as_version=4).cells
        for output in cell.get("outputs", [])
    )
    assert "could not read" in text, "the attack did not run"
    assert "could not write" in text, "the attack did not run"
    assert STOLEN not in text
    # a link to the master is not followed, not even for the feedback notebook
    assert not (course / "autograded" / "symlink").exists()
    assert not (course / "owned.txt").exists()
    assert not (REPO_ROOT / "owned.txt").exists()


@pytest.mark.slow
def test_a_call_to_the_library_function_earns_nothing(graded_class):
    record = graded_class["report"]["library"]
    for exercise in (PERCEPTRON, SOFTMAX):
        assert cell_score(graded_class["report"], "library", exercise) == 0
        assert "Tripwire" in record["cells"][f"{exercise}-tests"]["reason"]
    assert cell_score(graded_class["report"], "library", PARITY) == 3


@pytest.mark.slow
def test_an_endless_loop_costs_one_exercise_and_about_30_seconds(graded_class):
    record = graded_class["report"]["loop"]
    assert record["error"] is None
    assert record["score"] == 5, record
    assert "CellTimeoutError" in record["cells"][f"{PERCEPTRON}-tests"]["reason"]
    honest = graded_class["report"]["honest"]["seconds"]
    assert record["seconds"] < honest + 2 * grader.CELL_TIMEOUT + 15


@pytest.mark.slow
def test_broken_submissions_score_0_with_the_reason(graded_class):
    report = graded_class["report"]
    assert report["invalid-json"]["score"] == 0
    assert "not a valid notebook" in report["invalid-json"]["error"]
    assert report["kills-kernel"]["score"] == 0
    assert "died" in report["kills-kernel"]["error"]
    assert report["symlink"]["score"] == 0
    assert "symbolic link" in report["symlink"]["error"]


@pytest.mark.slow
def test_the_gradebook_holds_the_same_scores(graded_class):
    from nbgrader.api import Gradebook

    db = f"sqlite:///{graded_class['course'] / 'gradebook.db'}"
    with Gradebook(db, course_id=assignment.COURSE_ID) as gradebook:
        for student, record in graded_class["report"].items():
            submission = gradebook.find_submission(CHAPTER, student)
            assert submission.score == record["score"], student
            flagged = bool(record["flags"] or record["error"])
            assert [nb.flagged for nb in submission.notebooks] == [flagged], student


@pytest.mark.slow
def test_nbgrader_export_gives_every_students_score(graded_class):
    """What instructors copy into their learning-management system."""
    course = graded_class["course"]
    run = assignment.nbgrader("export", course=course)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(course / "grades.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == CHAPTER]
    report = graded_class["report"]
    assert {row["student_id"]: float(row["score"]) for row in rows} == {
        student: record["score"] for student, record in report.items()
    }
    assert {float(row["max_score"]) for row in rows} == {7.0}
    assert report["master"]["score"] == 7 and report["untouched"]["score"] == 0


def gradebook_contents(course: Path) -> list:
    """Everything the gradebook says of each student, in its own order."""
    from nbgrader.api import Gradebook

    contents = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in gradebook.students:
            submission = gradebook.find_submission(CHAPTER, student.id)
            grades = [
                (nb.name, nb.flagged, g.name, g.auto_score, g.manual_score, g.max_score)
                for nb in submission.notebooks
                for g in nb.grades
            ]
            contents.append((student.id, submission.score, grades))
    return contents


def comparable(course: Path) -> str:
    """autograde.json without what is measured (seconds, usage)."""
    report = json.loads((course / "autograde.json").read_text())
    for record in report["students"].values():
        del record["seconds"], record["usage"]
    return json.dumps(report, indent=1)


@pytest.mark.slow
def test_side_by_side_grading_gives_what_one_at_a_time_gives(graded_class, tmp_path):
    """A small class, one at a time and two at a time: the same scores, flags,
    errors and gradebook; the fork bomb beside the master leaves it full marks."""
    master = nbformat.read(MASTER, as_version=4)
    student = nbformat.read(
        graded_class["pristine"] / "release" / CHAPTER / MASTER.name, as_version=4
    )
    runs, courses = {}, {}
    for jobs in (1, 2):
        course = courses[jobs] = tmp_path / f"jobs-{jobs}"
        shutil.copytree(graded_class["pristine"], course)
        submit(
            course,
            {
                "a-master": master,
                "b-bomb": with_cells(student, {PERCEPTRON: BOMB}),
                "c-invalid-json": "not JSON",
                "d-kills-kernel": with_cells(student, {PERCEPTRON: KILL}),
            },
        )
        runs[jobs] = autograde(course, jobs)
        assert runs[jobs].returncode == 0, runs[jobs].stdout + runs[jobs].stderr
    assert comparable(courses[1]) == comparable(courses[2])
    assert gradebook_contents(courses[1]) == gradebook_contents(courses[2])
    report = json.loads((courses[2] / "autograde.json").read_text())["students"]
    assert list(report) == ["a-master", "b-bomb", "c-invalid-json", "d-kills-kernel"]
    assert report["a-master"]["score"] == 7 and not report["a-master"]["flags"]
    assert "died" in report["d-kills-kernel"]["error"]
    bomb = report["b-bomb"]
    assert bomb["score"] == 0 and bomb["flags"], bomb
    assert "ran more than 256 processes and threads at once" in bomb["error"], bomb
    for jobs in (1, 2):
        assert "graded 4 of 4 (2 flagged)" in runs[jobs].stderr, runs[jobs].stderr


# -- the pieces on their own (fast) ----------------------------------------------------


def test_the_sandbox_hides_the_repository_and_writes_only_its_tmpfs(tmp_path):
    """No course, no master; as nobody; the one writable place is its own tmpfs,
    gone when it ends. (The network: tests/grading/test_network.py.)"""
    sandbox.check()
    secret = tmp_path / "course" / "source.txt"
    secret.parent.mkdir()
    secret.write_text("master")
    probe = (
        "import os\n"
        "for p in [%r, %r]:\n"
        "    try:\n        open(p).read(); print('READ', p)\n"
        "    except OSError:\n        pass\n"
        "print('uid', os.getuid(), 'in', os.getcwd())\n"
        "open('mine.txt', 'w').write('ok')\n"
        "for p in ['/usr/owned', %r]:\n"
        "    try:\n        open(p, 'w').write('x'); print('WROTE', p)\n"
        "    except OSError:\n        pass\n"
    ) % (str(secret), str(MASTER), str(tmp_path / "owned"))
    argv = sandbox.command([sys.executable, "-c", probe])
    assert "--bind" not in argv, "a host folder is writable in the sandbox"
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "READ" not in result.stdout and "WROTE" not in result.stdout
    assert f"in {sandbox.WORKDIR}" in result.stdout
    assert not (tmp_path / "owned").exists()
    import os

    if os.geteuid() == 0:
        assert f"uid {sandbox.SANDBOX_UID}" in result.stdout


def test_a_missing_sandbox_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.command(["true"])


def test_an_unknown_chapter_is_an_instructor_error(tmp_path):
    with pytest.raises(SystemExit, match="not found"):
        assignment.autograde("99_nothing", tmp_path)


def own_cells(nb) -> list[tuple[str, str]]:
    return [
        (c.metadata["nbgrader"]["grade_id"], c.source)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    ]


@pytest.mark.parametrize(
    "master",
    chapter_notebooks(REPO_ROOT)[:4],
    ids=lambda p: p.stem,
)
def test_the_scan_passes_the_masters_solutions(master):
    nb = nbformat.read(master, as_version=4)
    aliases = tamper.aliases_of([c.source for c in nb.cells if c.cell_type == "code"])
    assert tamper.scan(own_cells(nb), aliases) == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (TRANSFORMER, "input transformer"),
        (MONKEYPATCH, "np.allclose"),
        ("np.allclose.__code__ = f.__code__", "__code__"),
        ("setattr(torch, 'allclose', f)", "setattr on torch"),
        ("np = object()", "rebinds np"),
        ("import builtins\nbuiltins.abs = f", "builtins"),
        ("import sys\nsys.settrace(f)", "trace function"),
        ("open('/etc/passwd')", "outside the scratch folder"),
        ("open('../../source/a.ipynb')", "outside the scratch folder"),
        ("exec('x = 1')", "exec"),
        ("import gc\ngc.get_objects()", "garbage collector"),
        (FORGE, "atexit"),
    ],
)
def test_the_scan_flags_tampering(code, reason):
    aliases = tamper.aliases_of(["import numpy as np\nimport torch"])
    reasons = tamper.scan([("cell 9", code)], aliases)
    assert any(reason in r for r in reasons), reasons


def test_results_are_compared_within_a_tolerance_only():
    array = {"array": [1.0, 2.0], "shape": [2], "nonfinite": []}
    close = {"array": [1.0 + 1e-12, 2.0], "shape": [2], "nonfinite": []}
    assert grader.same(array, close)
    assert not grader.same(array, {**close, "shape": [2, 1]})
    assert not grader.same(array, {"array": [1.0, 2.1], "shape": [2], "nonfinite": []})
    assert not grader.same(array, {"object": "_Liar"})
    assert not grader.same({"seq": [1.0, 2]}, {"seq": [1.0]})
    assert not grader.same(3, True)


def test_the_runner_guards_the_tests_and_captures_results():
    """A small job, in the sandbox: magics, restore, tripwire, capture, time limit."""
    job = {
        "cell_timeout": 2,
        "cells": [
            {"role": "given", "source": "import numpy as np\n%matplotlib inline"},
            {"role": "solution", "source": "%%time\ndef double(x):\n    return 2 * x"},
            {"role": "solution", "source": "np.sum = lambda *a, **k: 0"},
            {
                "role": "test",
                "grade_id": "t1",
                "source": "assert np.sum([1, 2]) == 3\n"
                "### BEGIN HIDDEN TESTS\nassert double(2) == 4\n",
                "capture": ["double"],
                "tripwires": [],
            },
            {
                "role": "solution",
                "source": "def norm(x):\n    return np.linalg.norm(x)",
            },
            {"role": "solution", "label": "cell 6", "source": "np.linalg.norm([1.0])"},
            {
                "role": "test",
                "grade_id": "t2",
                "source": "assert norm([3.0, 4.0]) == 5.0\n",
                "capture": ["norm"],
                "tripwires": ["numpy.linalg.norm"],
            },
            {"role": "solution", "source": "while True:\n    pass"},
        ],
    }
    results, error, _, _ = grader.run_job(job, "x.ipynb", b"{}")
    assert error is None, error
    cells = results["cells"]
    assert cells["t1"]["passed"], cells["t1"]
    assert cells["t1"]["captured"] == {"double": [4]}
    assert "numpy.sum was reassigned" in results["tampering"]
    assert not cells["t2"]["passed"] and cells["t2"]["tripwires"] == [
        "numpy.linalg.norm"
    ]
    assert results["outputs"][-1]["error"]["ename"] == "CellTimeoutError"
    # ahead of the graded cell, a tripwire call is flagged
    assert "cell 6 calls ['numpy.linalg.norm'], a tripwire" in results["tampering"]


def test_the_guard_puts_back_a_decorated_dlbook_function():
    """checks.elementwise wraps the activations in an object: a submission that swaps
    the function inside it, or that function's code, is undone and reported."""
    from booktools.grading import runner
    from dlbook import activations as act

    inner, code = act.sigmoid.__wrapped__, act.sigmoid.__wrapped__.__code__
    guard = runner.Guard([act])
    try:
        act.sigmoid.__wrapped__ = lambda z: z * 0
        assert "sigmoid.__wrapped__ was reassigned" in " ".join(guard.restore())
        assert act.sigmoid.__wrapped__ is inner
        inner.__code__ = (lambda z: z * 0).__code__
        assert "the code of sigmoid was replaced" in guard.restore()
        assert act.sigmoid(0.0) == 0.5
    finally:
        act.sigmoid.__wrapped__, inner.__code__ = inner, code
