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
   and a bound for the whole submission.
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
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from booktools.grading import sandbox, tamper

__all__ = ["CELL_TIMEOUT", "SUBMISSION_TIMEOUT", "Result", "expected_values", "grade"]

CELL_TIMEOUT = 30  # seconds per cell, nbgrader's default
SUBMISSION_TIMEOUT = 600  # seconds for a whole submission
MEMORY_LIMIT = 8 * 2**30  # address space of a submission's process
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

    def as_json(self) -> dict:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "flags": self.flags,
            "error": self.error,
            "cells": self.cells,
            "seconds": round(self.seconds, 1),
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


def _limits() -> None:  # runs in the child, before the sandbox starts
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**29, 2**29))
    resource.setrlimit(resource.RLIMIT_NPROC, (512, 512))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_job(job: dict, notebook_name: str, notebook_bytes: bytes, timeout: float):
    """Run ``job`` in the sandbox; return (results or None, error or None, seconds)."""
    with tempfile.TemporaryDirectory(prefix="dlbook-grade-") as tmp:
        root = Path(tmp)
        work, grader, out = _scratch(root, job, notebook_name, notebook_bytes)
        runner = [
            sys.executable,
            "-I",
            str(grader / "runner.py"),
            str(grader / "job.json"),
            str(out / "results.json"),
        ]
        argv = sandbox.command(runner, work, readable=(grader,), writable=(out,))
        log = root / "log.txt"
        start = time.monotonic()
        returncode = _run_bounded(argv, log, timeout)
        if returncode is None:
            return None, f"ran over the {timeout:.0f} s bound for a submission", timeout
        seconds = time.monotonic() - start
        results, error = _read_results(out / "results.json", log, returncode)
        return results, error, seconds


def _scratch(root: Path, job: dict, notebook_name: str, notebook_bytes: bytes):
    """The folders the sandbox sees under ``root``: (work, grader, out).

    work/ holds the notebook (the runner's working folder) and out/ the results, both
    writable by the sandbox's user; grader/ holds the runner and its job, read-only.
    """
    work, grader, out = root / "work", root / "grader", root / "out"
    for folder in (work, grader, out):
        folder.mkdir()
    (work / notebook_name).write_bytes(notebook_bytes)
    (grader / "job.json").write_text(json.dumps(job))
    shutil.copy(RUNNER, grader / "runner.py")
    for path in (grader, grader / "job.json", grader / "runner.py"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    sandbox.give_to_sandbox(work)
    sandbox.give_to_sandbox(out)
    return work, grader, out


def _run_bounded(argv: list[str], log: Path, timeout: float) -> int | None:
    """Run ``argv`` (output into ``log``); its exit status, or None if it ran over.

    It runs in a session of its own under ``_limits``, so that when it runs over the
    whole process group is killed, whatever the submission started.
    """
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_limits,
        )
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None


def _read_results(path: Path, log: Path, returncode: int):
    """(the runner's results, None), or (None, why there are none usable).

    The results come from the sandbox and are read as data only: too big, not JSON or
    not shaped like a report is the submission's failure.
    """
    tail = log.read_text(errors="replace")[-800:].strip()
    if not path.is_file() or path.stat().st_size > 2**26:
        why = f"exit status {returncode}"
        if returncode and returncode < 0:
            why = f"killed by signal {-returncode}"
        return None, f"the notebook's process died ({why}): {tail[-300:]}"
    try:
        results = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return None, "the notebook's process left unreadable results"
    if not isinstance(results, dict) or not isinstance(results.get("cells"), dict):
        return None, "the notebook's process left malformed results"
    return results, None


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
    timeout: float = SUBMISSION_TIMEOUT,
) -> Result:
    """Grade the submission at ``path``; never raises for a bad submission."""
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
    results, error, result.seconds = run_job(job, path.name, data, timeout)
    if results is None:
        result.error = error
        for cell in result.cells.values():
            cell["reason"] = error
        return result
    _note_run(result, results)
    for grade_id, rule in rules.items():
        got = results["cells"].get(grade_id)
        _score_cell(result, grade_id, rule["points"], got, expected)
    result.score = sum(c["score"] for c in result.cells.values())
    return result


def _read_submission(path: Path, source_nb, release_nb):
    """(the file's bytes, the job, flags, the student's own cells) for ``path``.

    Raises GradingError (or OSError) for a file that cannot be graded at all.
    """
    if path.is_symlink():
        raise GradingError(f"{path.name} is a symbolic link, not a notebook")
    data = path.read_bytes()
    submission = _read_notebook(data)
    job, flags, own = make_job(submission, source_nb, release_nb)
    return data, job, flags, own


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


def expected_values(source_nb, release_nb, timeout: float = SUBMISSION_TIMEOUT) -> dict:
    """Run the master in the sandbox; return its captured results per graded cell.

    Raises SystemExit (an instructor's problem) if a graded cell of the master fails.
    """
    data = nbformat.writes(source_nb).encode("utf-8")
    job, _, _ = make_job(source_nb, source_nb, release_nb)
    # the master's solution cells are student code here too: tripwires apply
    results, error, _ = run_job(job, "master.ipynb", data, timeout)
    if results is None:
        raise SystemExit(f"error: running the master for expected values: {error}")
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
