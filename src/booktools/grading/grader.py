"""Grade one submission: sandboxed run, guarded tests, results checked outside it.

    expected_values(source, release) -> {grade_id: captured results of the master}
    grade(submission, source, release, expected) -> Result

``source`` is the assignment's master (hidden tests included), ``release`` the
student notebook handed out. Grading one submission:

1. The notebook is read as JSON and validated (a broken file: 0, with the reason).
2. A job is made from the submission: its own code where the student writes code
   (solution cells, and any cell that is not the book's), every locked cell restored
   from the master by its nbgrader id (hidden tests included), graded cells that the
   student deleted scoring 0. A locked cell that differs from the student notebook is
   flagged (never one that matches it: no false alarm for an honest submission).
3. ``booktools.grading.runner`` runs the job in ``booktools.grading.sandbox``: a
   scratch folder holding only that notebook, as nobody, no network, 30 s per cell,
   under bounds for the whole submission (``booktools.grading.bounds``: memory, disk,
   processes, output, wall time). It reports cell by cell through a pipe: a
   submission stopped halfway keeps what it finished, and the grader reads nothing
   the sandbox could have written to disk.
4. Outside the sandbox, in this process, which runs no student code: a graded cell
   earns its points only if its tests passed in the sandbox, no tripwire fired, and
   every result of the exercise's functions equals (within a tolerance) what the
   master returned for the same calls when the assignment was generated. Those
   expected values never enter the sandbox, so a submission cannot read them, and a
   report forged from inside it still needs the right numbers.
5. ``booktools.grading.tamper`` scans the student's code, and the runner reports what
   the guard had to undo: both become flags for manual review.

Which functions are captured and which library functions are tripwires is set in the
master, in the graded cell's metadata: ``"dlbook": {"capture": [...], "tripwires":
[...]}``. Without ``capture``, the functions defined by the solution cells since the
previous graded cell are captured.
"""

from __future__ import annotations

import ast
import errno
import json
import math
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import nbformat

from booktools.grading import cgroups, sandbox, tamper
from booktools.grading.bounds import DEFAULT, Bounds, Supervised, supervise

__all__ = [
    "CELL_TIMEOUT",
    "Ran",
    "Result",
    "expected_values",
    "grade",
    "read_no_link",
    "run_job",
]

CELL_TIMEOUT = 30  # seconds per cell, nbgrader's default
RUNNER = Path(__file__).with_name("runner.py")
RTOL, ATOL = 1e-6, 1e-9


@dataclass
class Result:
    score: float = 0.0
    max_score: float = 0.0
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    cells: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    outputs: list[dict] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "flags": self.flags,
            "error": self.error,
            "cells": self.cells,
            "seconds": round(self.seconds, 1),
            "usage": self.usage,
        }


class GradingError(Exception):
    """The submission could not be graded at all (its score is 0)."""


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) if "metadata" in cell else {}


def _defined_functions(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def grading_rules(source_nb) -> dict[str, dict]:
    """{grade_id: {"points", "capture", "tripwires"}} for each graded cell."""
    rules, defined = {}, []
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        if meta.get("solution"):
            defined += _defined_functions(cell.source)
        if meta.get("grade"):
            extra = cell.metadata.get("dlbook", {})
            rules[meta["grade_id"]] = {
                "points": float(meta.get("points", 0)),
                "capture": list(extra.get("capture", defined)),
                "tripwires": list(extra.get("tripwires", [])),
            }
            defined = []
    return rules


def make_job(submission, source_nb, release_nb) -> tuple[dict, list[str], list]:
    """(the runner's job, flags, the student's own cells as (label, source))."""
    rules = grading_rules(source_nb)
    masters, released = _by_grade_id(source_nb), _by_grade_id(release_nb)
    book_sources = _book_sources(source_nb, release_nb)
    cells, flags, own, seen = [], [], [], set()
    for number, source, grade_id in _code_cells(submission):
        # a copy of a cell already seen is the student's own code
        master = None if grade_id in seen else masters.get(grade_id)
        if master is not None and not _meta(master).get("solution"):
            seen.add(grade_id)
            if not _is_book_source(source, master, released.get(grade_id)):
                flags.append(f"locked cell {grade_id} was edited (restored)")
            cells.append(_restored_cell(master, grade_id, rules))
        elif master is None and source.strip() in book_sources:
            cells.append({"source": source, "role": "given"})
        else:
            if master is not None:
                seen.add(grade_id)
            label = f"cell {number}" + (f" ({grade_id})" if grade_id else "")
            own.append((label, source))
            cells.append({"source": source, "role": "solution", "label": label})
    flags += [f"graded cell {g} is missing (scores 0)" for g in rules if g not in seen]
    job = {"cells": cells, "cell_timeout": CELL_TIMEOUT}
    return job, flags, own


def _by_grade_id(nb) -> dict:
    """The cells of ``nb`` that have an nbgrader id, by that id."""
    return {_meta(c)["grade_id"]: c for c in nb.cells if _meta(c).get("grade_id")}


def _book_sources(source_nb, release_nb) -> set[str]:
    """The book's own code: the code cells of the student notebook and the master.

    The master's are there too, because its worked solutions that compute (not handed
    out) are the book's code as well. Solution cells are not.
    """
    return {
        c.source.strip()
        for nb in (release_nb, source_nb)
        for c in nb.cells
        if c.cell_type == "code" and not _meta(c).get("solution")
    }


def _code_cells(submission):
    """(number, source, nbgrader id or None) of each code cell; numbered from 1."""
    for number, cell in enumerate(submission.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise GradingError(f"cell {number} has a source that is not text")
        yield number, source, _meta(cell).get("grade_id")


def _is_book_source(source: str, master, released) -> bool:
    """A locked cell as the master or the student notebook has it.

    An honest submission keeps one of the two: no false alarm for it.
    """
    book = {master.source.strip()}
    if released is not None:
        book.add(released.source.strip())
    return source.strip() in book


def _restored_cell(master, grade_id: str, rules: dict) -> dict:
    """A locked cell, restored from the master (hidden tests included)."""
    entry = {"source": master.source, "grade_id": grade_id}
    if grade_id in rules:
        entry.update(role="test", **rules[grade_id])
    else:
        entry["role"] = "given"
    return entry


class Ran(NamedTuple):
    """A job's run: the runner's report (as far as it got), why it fell short, how
    long it took and what it used."""

    results: dict
    error: str | None
    seconds: float
    usage: dict[str, int]


def run_job(job: dict, notebook_name: str, notebook_bytes: bytes, bounds=DEFAULT):
    """Run ``job`` in the sandbox under ``bounds``; return a Ran."""
    with tempfile.TemporaryDirectory(prefix="dlbook-grade-") as tmp:
        grader = _scratch(Path(tmp), job, notebook_bytes)

        def command(report_fd: int, info_fd: int) -> list[str]:
            runner = [sys.executable, "-I", str(grader / "runner.py")]
            return sandbox.command(
                [*runner, str(grader / "job.json"), str(report_fd)],
                readable=(grader,),
                files={f"{sandbox.WORKDIR}/{notebook_name}": grader / "notebook"},
                disk=bounds.disk,
                info_fd=info_fd,
            )

        run = supervise(command, bounds)
    results = _assemble(run.report)
    return Ran(results, _run_error(run, bounds, results), run.seconds, run.usage)


def _scratch(root: Path, job: dict, notebook_bytes: bytes) -> Path:
    """The folder the sandbox reads, under ``root``: the runner, its job and the
    notebook (read-only there; the sandbox writes only in its own tmpfs)."""
    grader = root / "grader"
    grader.mkdir()
    (grader / "notebook").write_bytes(notebook_bytes)
    (grader / "job.json").write_text(json.dumps(job))
    shutil.copy(RUNNER, grader / "runner.py")
    for path in (grader, *grader.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return grader


def _assemble(report: bytes) -> dict:
    """The runner's report from its lines (plain data only; a line that is not a
    JSON object of the right shape is skipped: the submission could have written it).
    """
    results = {"cells": {}, "outputs": [], "tampering": [], "done": False}
    for line in report.split(b"\n"):
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(message, dict):
            continue
        for key in ("outputs", "tampering"):
            if isinstance(message.get(key), list):
                results[key] += message[key]
        if isinstance(message.get("cells"), dict):
            results["cells"].update(message["cells"])
        if message.get("done") is True:
            results["done"] = True
    return results


def _run_error(run: Supervised, bounds: Bounds, results: dict) -> str | None:
    """Why the run fell short of the end of the notebook, or None."""
    tail = run.output_tail.strip()
    if run.over is not None:
        return f"stopped: it {bounds.went_over(run.over)}"
    if run.returncode == cgroups.ENTER_FAILED and not run.report and "enter-" in tail:
        raise cgroups.CgroupsUnavailable(tail[-300:])
    if results["done"]:
        return None
    code = run.returncode
    why = f"exit status {code}"
    if code is not None and (code < 0 or code > 128):
        why = f"killed by signal {-code if code < 0 else code - 128}"
    return f"the notebook's process died ({why}): {tail[-300:]}"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def same(want, got) -> bool:
    """Plain data equal, floats within a tolerance (runs here, on data only)."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(got) is type(want) and got == want
    if isinstance(want, (int, float)):
        return _same_number(want, got)
    if not isinstance(want, dict) or not isinstance(got, dict):
        return False
    if set(want) != set(got):
        return False
    if "array" in want:
        return _same_array(want, got)
    if "seq" in want:
        w, g = want["seq"], got["seq"]
        return isinstance(g, list) and len(w) == len(g) and all(map(same, w, g))
    return all(same(want[k], got[k]) for k in want)


def _same_number(want: float, got) -> bool:
    """A number close to ``want``; a bool is no number here."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return _close(float(want), float(got))


def _same_array(want: dict, got: dict) -> bool:
    """Same shape and non-finite values, the finite values close element by element.

    The runner writes None where a value is not finite: None matches only None.
    """
    w, g = want["array"], got["array"]
    if want.get("shape") != got.get("shape") or not isinstance(g, list):
        return False
    if want.get("nonfinite") != got.get("nonfinite") or len(w) != len(g):
        return False
    for x, y in zip(w, g):
        if x is None or y is None:
            if x is not y:
                return False
        elif not isinstance(y, (int, float)) or not _close(x, y):
            return False
    return True


def _read_notebook(data: bytes):
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - any broken file is the student's
        raise GradingError(
            f"not a valid notebook ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200] if str(error) else ''})"
        ) from None
    return nb


def grade(
    path: Path,
    source_nb,
    release_nb,
    expected: dict | None,
    bounds: Bounds = DEFAULT,
) -> Result:
    """Grade the submission at ``path``; never raises for a bad submission.

    A submission stopped halfway (over a bound, or its process died) scores what it
    finished; its error says why the rest scores 0.
    """
    rules = grading_rules(source_nb)
    result = Result(max_score=sum(r["points"] for r in rules.values()))
    result.cells = {
        gid: {"score": 0.0, "max_score": r["points"], "reason": "not run"}
        for gid, r in rules.items()
    }
    try:
        data, job, flags, own = _read_submission(path, source_nb, release_nb)
    except (OSError, GradingError) as error:
        result.error = str(error)
        return result
    result.flags += flags
    code_sources = [c["source"] for c in job["cells"]]
    result.flags += tamper.scan(own, tamper.aliases_of(code_sources))
    ran = run_job(job, path.name, data, bounds)
    result.seconds, result.usage, result.error = ran.seconds, ran.usage, ran.error
    _note_run(result, ran.results)
    for grade_id, rule in rules.items():
        got = ran.results["cells"].get(grade_id)
        if got is None and ran.error is not None:
            result.cells[grade_id]["reason"] = f"not finished: {ran.error}"
        else:
            _score_cell(result, grade_id, rule["points"], got, expected)
    result.score = sum(c["score"] for c in result.cells.values())
    return result


def _read_submission(path: Path, source_nb, release_nb):
    """(the file's bytes, the job, flags, the student's own cells) for ``path``.

    Raises GradingError (or OSError) for a file that cannot be graded at all.
    """
    data = read_no_link(path)
    submission = _read_notebook(data)
    job, flags, own = make_job(submission, source_nb, release_nb)
    return data, job, flags, own


def read_no_link(path: Path, limit: int = 2**28) -> bytes:
    """The bytes of the file at ``path``, never of a file a symbolic link there names
    (O_NOFOLLOW: checking first, then opening, would leave a moment to swap it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise GradingError(
                f"{path.name} is a symbolic link, not a notebook"
            ) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise GradingError(f"{path.name} is not a file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise GradingError(f"{path.name} is larger than {limit // 2**20} MiB")
    return data


def _note_run(result: Result, results: dict) -> None:
    """Keep what each cell printed, and flag what the guard had to undo."""
    outputs = results.get("outputs")
    result.outputs = outputs if isinstance(outputs, list) else []
    tampering = results.get("tampering")
    for item in tampering if isinstance(tampering, list) else []:
        reason = f"at run time: {str(item)[:200]}"
        if reason not in result.flags:
            result.flags.append(reason)


def _score_cell(result: Result, grade_id: str, points: float, got, expected) -> None:
    """Give a graded cell its points, or say why not.

    ``got`` is the runner's report on the cell, which the submission could have forged:
    the points also need the captured results to match the master's ``expected`` ones.
    """
    cell = result.cells[grade_id]
    if not isinstance(got, dict):
        cell["reason"] = "graded cell not run (deleted?)"
        return
    wires = got.get("tripwires")
    if isinstance(wires, list) and wires:
        result.flags.append(
            f"{grade_id}: calls {', '.join(map(str, wires))}, the library function "
            "the exercise asks for"
        )
    if got.get("passed") is not True:
        cell["reason"] = str(got.get("error"))[:500]
        return
    if expected is not None and not _matches(expected.get(grade_id, {}), got):
        cell["reason"] = "results differ from the master's on the hidden tests' calls"
        return
    cell["score"], cell["reason"] = points, None


def _matches(want: dict, got: dict) -> bool:
    """The same functions captured as the master's, each with the same results."""
    captured = got.get("captured") if isinstance(got.get("captured"), dict) else {}
    if set(want) != set(captured):
        return False
    return all(
        isinstance(captured[f], list) and same({"seq": want[f]}, {"seq": captured[f]})
        for f in want
    )


def expected_values(source_nb, release_nb, bounds: Bounds = DEFAULT) -> dict:
    """Run the master in the sandbox; return its captured results per graded cell.

    Raises SystemExit (an instructor's problem) if a graded cell of the master fails.
    """
    data = nbformat.writes(source_nb).encode("utf-8")
    job, _, _ = make_job(source_nb, source_nb, release_nb)
    # the master's solution cells are student code here too: tripwires apply
    results, error, _, _ = run_job(job, "master.ipynb", data, bounds)
    if error is not None:
        raise SystemExit(
            f"error: running the master for expected values: {error} (the bounds "
            "for a submission are options of the command: see --help)"
        )
    expected = {}
    for grade_id in grading_rules(source_nb):
        got = results["cells"].get(grade_id, {})
        if not got.get("passed"):
            raise SystemExit(
                f"error: the master fails its own graded cell {grade_id}: "
                f"{got.get('error')}"
            )
        if got.get("missing"):
            raise SystemExit(
                f"error: graded cell {grade_id} captures {got['missing']}, "
                "which the master does not define"
            )
        expected[grade_id] = got["captured"]
    return expected
