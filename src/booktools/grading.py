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
3. ``booktools.grading_runner`` runs the job in ``booktools.sandbox``: a scratch
   folder holding only that notebook, as nobody, no network, 30 s per cell, and a
   bound for the whole submission.
4. Outside the sandbox, in this process, which runs no student code: a graded cell
   earns its points only if its tests passed in the sandbox, no tripwire fired, and
   every result of the exercise's functions equals (within a tolerance) what the
   master returned for the same calls when the assignment was generated. Those
   expected values never enter the sandbox, so a submission cannot read them, and a
   report forged from inside it still needs the right numbers.
5. ``booktools.tamper`` scans the student's code, and the runner reports what the
   guard had to undo: both become flags for manual review.

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

from booktools import sandbox, tamper

__all__ = ["CELL_TIMEOUT", "SUBMISSION_TIMEOUT", "Result", "expected_values", "grade"]

CELL_TIMEOUT = 30  # seconds per cell, nbgrader's default
SUBMISSION_TIMEOUT = 600  # seconds for a whole submission
MEMORY_LIMIT = 8 * 2**30  # address space of a submission's process
RUNNER = Path(__file__).with_name("grading_runner.py")
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


def graded_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and _meta(c).get("grade")]


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
    by_id = {
        _meta(c)["grade_id"]: c for c in source_nb.cells if _meta(c).get("grade_id")
    }
    released = {
        _meta(c)["grade_id"]: c for c in release_nb.cells if _meta(c).get("grade_id")
    }
    # the book's own code: the student notebook's cells and the master's (whose worked
    # solutions that compute are not handed out)
    book_sources = {
        c.source.strip()
        for nb in (release_nb, source_nb)
        for c in nb.cells
        if c.cell_type == "code" and not _meta(c).get("solution")
    }
    cells, flags, own, seen = [], [], [], set()
    for number, cell in enumerate(submission.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise GradingError(f"cell {number} has a source that is not text")
        grade_id = _meta(cell).get("grade_id")
        master = by_id.get(grade_id)
        if master is not None and grade_id in seen:
            master = None  # a copy of a cell already seen: the student's own code
        if master is not None and not _meta(master).get("solution"):
            seen.add(grade_id)
            given = released.get(grade_id)
            book = {master.source.strip()} | (
                {given.source.strip()} if given is not None else set()
            )
            if source.strip() not in book:
                flags.append(f"locked cell {grade_id} was edited (restored)")
            entry = {"source": master.source, "grade_id": grade_id}
            if grade_id in rules:
                entry.update(role="test", **rules[grade_id])
            else:
                entry["role"] = "given"
            cells.append(entry)
        elif master is None and source.strip() in book_sources:
            cells.append({"source": source, "role": "given"})
        else:
            if master is not None:
                seen.add(grade_id)
            label = f"cell {number}" + (f" ({grade_id})" if grade_id else "")
            own.append((label, source))
            cells.append({"source": source, "role": "solution", "label": label})
    for grade_id in rules:
        if grade_id not in seen:
            flags.append(f"graded cell {grade_id} is missing (scores 0)")
    job = {"cells": cells, "cell_timeout": CELL_TIMEOUT}
    return job, flags, own


def _limits() -> None:  # runs in the child, before the sandbox starts
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**29, 2**29))
    resource.setrlimit(resource.RLIMIT_NPROC, (512, 512))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_job(job: dict, notebook_name: str, notebook_bytes: bytes, timeout: float):
    """Run ``job`` in the sandbox; return (results or None, error or None, seconds)."""
    with tempfile.TemporaryDirectory(prefix="dlbook-grade-") as tmp:
        root = Path(tmp)
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
        argv = sandbox.command(
            [
                sys.executable,
                "-I",
                str(grader / "runner.py"),
                str(grader / "job.json"),
                str(out / "results.json"),
            ],
            work,
            readable=(grader,),
            writable=(out,),
        )
        log = root / "log.txt"
        start = time.monotonic()
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
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return (
                    None,
                    f"ran over the {timeout:.0f} s bound for a submission",
                    timeout,
                )
        seconds = time.monotonic() - start
        tail = log.read_text(errors="replace")[-800:].strip()
        results_path = out / "results.json"
        if not results_path.is_file() or results_path.stat().st_size > 2**26:
            why = f"exit status {process.returncode}"
            if process.returncode and process.returncode < 0:
                why = f"killed by signal {-process.returncode}"
            return None, f"the notebook's process died ({why}): {tail[-300:]}", seconds
        try:
            results = json.loads(results_path.read_text())
        except (ValueError, UnicodeDecodeError):
            return None, "the notebook's process left unreadable results", seconds
        if not isinstance(results, dict) or not isinstance(results.get("cells"), dict):
            return None, "the notebook's process left malformed results", seconds
        return results, None, seconds


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def same(want, got) -> bool:
    """Plain data equal, floats within a tolerance (runs here, on data only)."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(got) is type(want) and got == want
    if isinstance(want, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        return _close(float(want), float(got))
    if not isinstance(want, dict) or not isinstance(got, dict):
        return False
    if set(want) != set(got):
        return False
    if "array" in want:
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
    if "seq" in want:
        w, g = want["seq"], got["seq"]
        return isinstance(g, list) and len(w) == len(g) and all(map(same, w, g))
    return all(same(want[k], got[k]) for k in want)


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
        if path.is_symlink():
            raise GradingError(f"{path.name} is a symbolic link, not a notebook")
        data = path.read_bytes()
        submission = _read_notebook(data)
        job, flags, own = make_job(submission, source_nb, release_nb)
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
    outputs = results.get("outputs")
    result.outputs = outputs if isinstance(outputs, list) else []
    for item in (
        results.get("tampering", [])
        if isinstance(results.get("tampering"), list)
        else []
    ):
        reason = f"at run time: {str(item)[:200]}"
        if reason not in result.flags:
            result.flags.append(reason)
    for grade_id, rule in rules.items():
        cell = result.cells[grade_id]
        got = results["cells"].get(grade_id)
        if not isinstance(got, dict):
            cell["reason"] = "graded cell not run (deleted?)"
            continue
        wires = got.get("tripwires")
        if isinstance(wires, list) and wires:
            result.flags.append(
                f"{grade_id}: calls {', '.join(map(str, wires))}, the library function "
                "the exercise asks for"
            )
        if got.get("passed") is not True:
            cell["reason"] = str(got.get("error"))[:500]
            continue
        if expected is not None:
            want = expected.get(grade_id, {})
            captured = (
                got.get("captured") if isinstance(got.get("captured"), dict) else {}
            )
            if set(want) != set(captured) or not all(
                same({"seq": want[f]}, {"seq": captured[f]})
                if isinstance(captured[f], list)
                else False
                for f in want
            ):
                cell["reason"] = (
                    "results differ from the master's on the hidden tests' calls"
                )
                continue
        cell["score"], cell["reason"] = rule["points"], None
    result.score = sum(c["score"] for c in result.cells.values())
    return result


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
