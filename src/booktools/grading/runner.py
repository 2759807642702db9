"""Run one submission's cells, then its graded tests under guard, and report plain data.

This file is the only grading code that runs inside the sandbox
(``booktools.grading.sandbox``), in the same process as the submission's code. It
imports nothing from ``booktools`` (the sandbox holds no ``booktools``) and is started
as a script (``booktools.grading.grader`` copies it into the sandbox):

    python runner.py JOB.json REPORT_FD

JOB.json (written by ``booktools.grading.grader``): the notebook's code cells in
order, each with its role ("solution": the student's code; "given": a cell of the book;
"test": a graded cell, restored from the assignment with its hidden tests), and for
test cells the names whose results are captured and the library functions that are
tripwires. REPORT_FD: the pipe the report goes to, a line of JSON after each cell
(what the cell printed, and for a graded cell whether its tests passed, the error and
the plain-data results of every call to the captured functions; the tampering seen),
then ``{"done": true}``: a notebook stopped halfway has reported what it finished.
What cells print is also passed on to the standard output, whose size the grader
bounds.

Nothing this process reports is trusted on its own: it runs student code, which can
reach everything here. The grader (in another process, which runs no student code)
compares the captured results with the values the master produced when the assignment
was generated; those never enter this process. What this file does in-process is make
the honest path the only easy one:

- before each graded cell, every attribute of numpy, torch, math, builtins and dlbook
  (functions' code included) is put back as it was before any student cell ran, the
  trace and profile hooks and IPython's input transformers are cleared, and anything
  that had changed is reported as tampering;
- while a graded cell runs, a call from student code into one of its tripwires (the
  library function the exercise asks the student to write) fails that cell;
- each cell has a time limit (SIGALRM), so an endless loop costs one cell.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import io
import json
import math
import os
import pkgutil
import signal
import sys
import traceback
import types

__all__ = ["main"]

STUDENT_FILE = "<student-cell-{}>"
CELL_FILE = "<cell-{}>"
MAX_CAPTURES = 2000
HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"
MAX_TEXT = 20000


class CellTimeout(BaseException):
    """Raised by the alarm; a BaseException so `except Exception` cannot swallow it."""


class TripwireError(Exception):
    pass


def guarded_modules() -> list[types.ModuleType]:
    import numpy
    import torch
    import torch.func
    import torch.nn.functional

    import dlbook

    names = [
        "numpy",
        "numpy.linalg",
        "numpy.random",
        "numpy.testing",
        "numpy._core.numeric",
        "numpy._core.fromnumeric",
        "torch",
        "torch.nn.functional",
        "torch.linalg",
        "torch.autograd",
        "torch.func",
        "torch.optim",
    ]
    for info in pkgutil.iter_modules(dlbook.__path__, "dlbook."):
        names.append(info.name)
    modules = [builtins, math, sys.modules["dlbook"]]
    for name in names:
        with contextlib.suppress(Exception):
            modules.append(importlib.import_module(name))
    del numpy, torch
    return modules


class Guard:
    """A snapshot of the libraries taken before any student code runs."""

    def __init__(self, modules):
        self.modules = modules
        self.names = {m.__name__: m for m in modules}
        self.refresh()

    def refresh(self) -> None:
        """Take the snapshot again (after the book's own cells, which may change it)."""
        modules = self.modules
        self.attrs = {m.__name__: dict(vars(m)) for m in modules}
        self.code = {}
        self.classes = {}
        self.wrappers = {}
        for module in modules:
            for value in vars(module).values():
                if isinstance(value, types.FunctionType):
                    self.code[id(value)] = (value, value.__code__, value.__defaults__)
                elif _decorated_in_dlbook(value):  # an object that holds the function
                    inner = value.__wrapped__
                    self.wrappers[id(value)] = (value, dict(vars(value)))
                    self.code[id(inner)] = (inner, inner.__code__, inner.__defaults__)
                elif isinstance(value, type) and (
                    getattr(value, "__module__", "") or ""
                ).startswith(("dlbook", "torch")):
                    with contextlib.suppress(Exception):
                        self.classes[id(value)] = (value, dict(vars(value)))
        import torch

        self.classes[id(torch.Tensor)] = (torch.Tensor, dict(vars(torch.Tensor)))

    def restore(self) -> list[str]:
        """Put everything back; return what had changed."""
        changed = []
        for name, module in self.names.items():
            changed += self._restore_module(name, module)
        for wrapper, saved in self.wrappers.values():
            label = getattr(wrapper, "__qualname__", "a decorated function")
            changed += _put_back(wrapper, saved, dict(vars(wrapper)), label)
            changed += _remove_added(wrapper, saved, dict(vars(wrapper)), label)
        changed += self._restore_code()
        for cls, saved in self.classes.values():
            current = dict(vars(cls))
            changed += _put_back(cls, saved, current, cls.__qualname__)
            changed += _remove_added(cls, saved, current, cls.__qualname__)
        changed += _clear_trace_and_profile()
        return changed

    def _restore_module(self, name: str, module: types.ModuleType) -> list[str]:
        """The module back in ``sys.modules``, and its attributes as in the snapshot."""
        changed = []
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}] was replaced")
            sys.modules[name] = module
        saved, current = self.attrs[name], vars(module)
        changed += _put_back(module, saved, current, name)
        expected = functools.partial(_added_by_python, module)
        changed += _remove_added(module, saved, current, name, expected)
        return changed

    def _restore_code(self) -> list[str]:
        """Functions whose code or defaults were swapped in place get theirs back."""
        changed = []
        for function, code, defaults in self.code.values():
            if function.__code__ is not code or function.__defaults__ is not defaults:
                changed.append(f"the code of {function.__qualname__} was replaced")
                function.__code__, function.__defaults__ = code, defaults
        return changed


_MISSING = object()


def _decorated_in_dlbook(value) -> bool:
    """A dlbook function decorated by an object that calls it (``checks.elementwise``):
    the object and the function inside are guarded as a plain function is."""
    return (
        not isinstance(value, type)
        and isinstance(getattr(value, "__wrapped__", None), types.FunctionType)
        and hasattr(value, "__dict__")
        and (getattr(value, "__module__", "") or "").startswith("dlbook")
    )


def _put_back(owner, saved: dict, current: dict, label: str) -> list[str]:
    """Set every attribute of ``owner`` that no longer holds its saved value back.

    ``current`` is what ``owner`` holds now. A torch wrapper around the saved function
    (torch wraps some functions on first use) is no tampering: it becomes the saved
    value instead.
    """
    changed = []
    for key, value in saved.items():
        new = current.get(key, _MISSING)
        if new is value:
            continue
        if _wraps(new, value):
            saved[key] = new
            continue
        changed.append(f"{label}.{key} was reassigned")
        with contextlib.suppress(Exception):
            setattr(owner, key, value)
    return changed


def _remove_added(owner, saved: dict, current: dict, label: str, expected=None):
    """Delete the attributes of ``owner`` that the snapshot did not hold.

    ``expected(key, value)`` says which new ones are normal and stay.
    """
    changed = []
    for key in [k for k in current if k not in saved]:
        if expected is not None and expected(key, current[key]):
            continue
        changed.append(f"{label}.{key} was added")
        with contextlib.suppress(Exception):
            delattr(owner, key)
    return changed


def _added_by_python(module, key: str, value) -> bool:
    """New attributes that are no tampering: a submodule imported, ``builtins._``."""
    return isinstance(value, types.ModuleType) or (module is builtins and key == "_")


def _clear_trace_and_profile() -> list[str]:
    """Remove trace and profile hooks: they could watch or change the tests' frames."""
    changed = []
    if sys.gettrace() is not None:
        changed.append("a trace function (sys.settrace) was installed")
        sys.settrace(None)
    if sys.getprofile() is not None:
        changed.append("a profile function (sys.setprofile) was installed")
        sys.setprofile(None)
    return changed


def _wraps(new, old) -> bool:
    """True for torch's own wrappers (functools.wraps) around the function it had."""
    wrapped = getattr(new, "__wrapped__", None) if callable(new) else None
    module = getattr(new, "__module__", "") or ""
    return wrapped is old and module.startswith("torch")


class ShellStub:
    """What `get_ipython()` returns here: hooks are recorded and have no effect.

    The few magics a chapter may use do what they say: ``%%time``, ``%%timeit`` and
    ``%%capture`` run their cell, ``%time``/``%timeit`` their line, ``%%writefile``
    writes its file and ``!command`` runs in the sandbox's shell; any other magic
    (``%pip``, ``%matplotlib``) does nothing.
    """

    RUN_BODY = ("time", "timeit", "capture")

    def __init__(self, namespace: dict, transform):
        self.input_transformers_cleanup = []
        self.input_transformers_post = []
        self.ast_transformers = []
        self.events = types.SimpleNamespace(register=self._hook, unregister=self._hook)
        self.hooks_seen = []
        self.user_ns = namespace
        self.transform = transform
        self.filename = "<cell>"  # the running cell's, so tripwires see whose code

    def _hook(self, *args, **kwargs):
        self.hooks_seen.append("an IPython event callback was registered")

    def _run(self, source: str) -> None:
        exec(compile(self.transform(source), self.filename, "exec"), self.user_ns)

    def run_line_magic(self, name, line, *args, **kwargs):
        if name in self.RUN_BODY[:2] and line.strip():
            self._run(line)

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        if name in self.RUN_BODY:
            self._run(cell)
        elif name == "writefile" and line.split():
            mode = "a" if line.split()[0] in ("-a", "--append") else "w"
            with open(line.split()[-1], mode, encoding="utf-8") as handle:
                handle.write(cell)

    def system(self, command, *args, **kwargs):
        import subprocess

        subprocess.run(command, shell=True, check=False)

    def getoutput(self, command, *args, **kwargs):
        import subprocess

        done = subprocess.run(command, shell=True, capture_output=True, text=True)
        return done.stdout.splitlines()

    def reset_hooks(self) -> list[str]:
        seen = list(self.hooks_seen)
        for name in ("input_transformers_cleanup", "input_transformers_post"):
            if getattr(self, name):
                seen.append(f"an IPython input transformer ({name}) was registered")
            setattr(self, name, [])
        if self.ast_transformers:
            seen.append("an IPython AST transformer was registered")
        self.ast_transformers = []
        self.hooks_seen = []
        return seen


def plain(value, depth=0):
    """JSON-safe plain data for a result: numbers, nested lists, type names."""
    import numpy as np

    if depth > 6:
        return {"object": "too deep"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    with contextlib.suppress(Exception):
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return {"object": f"ndarray of {value.dtype}"}
        data = np.asarray(value, dtype=np.float64)
        return {
            "array": [None if not math.isfinite(v) else v for v in data.ravel()],
            "shape": list(data.shape),
            "nonfinite": [repr(v) for v in data.ravel() if not math.isfinite(v)],
        }
    if isinstance(value, (list, tuple)):
        return {"seq": [plain(v, depth + 1) for v in value[:10000]]}
    data = getattr(value, "data", _MISSING)
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return {"node": plain(float(data), depth + 1)}
    return {"object": type(value).__name__}


def resolve(dotted: str):
    """The object named: the longest importable module, then its attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


class Tripwires:
    """A profile hook: a call into a tripwire from a student frame is recorded."""

    def __init__(self, dotted: list[str]):
        self.codes, self.builtins, self.methods = {}, {}, []
        for name in dotted:
            try:
                target = resolve(name)
            except Exception:
                continue
            if isinstance(target, type):
                target = getattr(target, "__init__", target)
            # numpy's dispatchers and functools.wraps wrappers: the Python inside
            for _ in range(5):
                inner = getattr(target, "_implementation", None) or getattr(
                    target, "__wrapped__", None
                )
                if inner is None or hasattr(target, "__code__"):
                    break
                target = inner
            code = getattr(target, "__code__", None)
            if code is not None:
                self.codes[code] = name
            elif hasattr(target, "__objclass__"):  # a C method, e.g. Tensor.softmax
                self.methods.append((target.__name__, target.__objclass__, name))
            else:
                self.builtins[id(target)] = (target, name)
        self.tripped: list[str] = []

    def _from_student(self, frame) -> bool:
        depth = 0
        while frame is not None and depth < 80:
            if frame.f_code.co_filename.startswith("<student-cell-"):
                return True
            frame, depth = frame.f_back, depth + 1
        return False

    def __call__(self, frame, event, arg):
        if event == "call":
            name = self.codes.get(frame.f_code)
            if name and self._from_student(frame.f_back):
                self.tripped.append(name)
        elif event == "c_call":
            hit = self.builtins.get(id(arg))
            if hit and hit[0] is arg and self._from_student(frame):
                self.tripped.append(hit[1])
            for method, owner, name in self.methods:
                if (
                    getattr(arg, "__name__", None) == method
                    and isinstance(getattr(arg, "__self__", None), owner)
                    and self._from_student(frame)
                ):
                    self.tripped.append(name)


class Recorder:
    """Wraps a student function: records the plain data of each top-level result."""

    def __init__(self, function):
        self.function, self.results, self.depth = function, [], 0

    def __call__(self, *args, **kwargs):
        self.depth += 1
        try:
            result = self.function(*args, **kwargs)
        finally:
            self.depth -= 1
        if self.depth == 0 and len(self.results) < MAX_CAPTURES:
            self.results.append(plain(result))
        return result


def _library_object(value) -> bool:
    if isinstance(value, types.ModuleType):
        return True
    module = getattr(value, "__module__", None)
    if not isinstance(module, str) or not callable(value):
        return False
    return module.split(".")[0] in ("numpy", "torch", "dlbook", "math", "builtins")


def capture(namespace: dict, names: list[str], recorders: dict) -> None:
    """Wrap each function ``names`` in ``namespace`` in a Recorder."""
    for name in names:
        if callable(namespace.get(name)):
            recorders[name] = Recorder(namespace[name])
            namespace[name] = recorders[name]


def _alarm(signum, frame):
    raise CellTimeout()


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Printed(io.TextIOBase):
    """Where a cell's prints go: the last MAX_TEXT characters are kept for the report,
    and everything is passed on to the standard output (whose size the grader bounds),
    in pieces of up to 64 KiB."""

    def __init__(self):
        self.kept, self.kept_size = [], 0
        self.pending, self.pending_size = [], 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        self.kept.append(text)
        self.kept_size += len(text)
        if self.kept_size > 2 * MAX_TEXT:
            self.kept = [self.getvalue()]
            self.kept_size = len(self.kept[0])
        self.pending.append(text)
        self.pending_size += len(text)
        if self.pending_size > 1 << 16:
            self.flush()
        return len(text)

    def flush(self) -> None:
        data = "".join(self.pending).encode("utf-8", "replace")
        self.pending, self.pending_size = [], 0
        with contextlib.suppress(OSError):
            write_all(1, data)

    def getvalue(self) -> str:
        return "".join(self.kept)[-MAX_TEXT:]


def run_cell(code, namespace, timeout: int):
    """Execute compiled ``code``; return (stdout text, error or None)."""
    out = Printed()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    error = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(code, namespace)
    except CellTimeout:
        error = {"ename": "CellTimeoutError", "evalue": f"ran over {timeout} s"}
    except BaseException as exc:  # noqa: BLE001 - a submission may raise anything
        tb = traceback.format_exception_only(type(exc), exc)
        error = {"ename": type(exc).__name__, "evalue": "".join(tb)[-2000:]}
    finally:
        signal.alarm(0)
        out.flush()
    return out.getvalue(), error


class JobRun:
    """One job's notebook: its namespace, the guard, and the report being written.

    Each cell runs according to its role: the book's own cells ("given") as they are,
    the student's ("solution") with whatever they change to the libraries undone after
    them, and graded cells ("test") from a clean state under their tripwires.
    """

    def __init__(self, job: dict):
        self.timeout = int(job.get("cell_timeout", 30))
        from IPython.core.inputtransformer2 import TransformerManager

        import dlbook  # noqa: F401 - imported before any student code, for the guard

        self.guard = Guard(guarded_modules())
        self.transform = TransformerManager().transform_cell
        self.namespace = {"__name__": "__main__"}
        shell = self.shell = ShellStub(self.namespace, self.transform)
        self.namespace["get_ipython"] = lambda: shell
        self.results = {"cells": {}, "outputs": [], "tampering": []}
        self.sent = {"cells": 0, "outputs": 0, "tampering": 0}
        # names the book's own cells bound to library objects (np, torch, F...)
        self.trusted = {}
        self.every_tripwire = sorted(
            {name for cell in job["cells"] for name in cell.get("tripwires", [])}
        )

    def run(self, index: int, cell: dict) -> None:
        """Run the job's cell number ``index`` and add what it did to the report."""
        name, code, compile_error = self._compile(index, cell)
        if cell["role"] == "test":
            self._run_graded(index, cell, name, code, compile_error)
        else:
            self._run_ungraded(index, cell, name, code, compile_error)

    def _compile(self, index: int, cell: dict):
        """(the cell's file name, its code or None, the compile error or None).

        Student code gets a file name of its own: that is how a tripwire tells a call
        from the student's code from one by the book or a library.
        """
        name = (STUDENT_FILE if cell["role"] == "solution" else CELL_FILE).format(index)
        try:
            source = self.transform(cell["source"])
            self.shell.filename = name
            return name, compile(source, name, "exec"), None
        except BaseException as exc:  # noqa: BLE001
            return name, None, {"ename": type(exc).__name__, "evalue": str(exc)}

    def _run_ungraded(self, index, cell, name, code, compile_error) -> None:
        """A cell of the book or of the student; neither earns points."""
        role = cell["role"]
        if code is None:
            text, error = "", compile_error
        elif role == "solution":
            text, error = self._run_watched(cell, name, code)
        else:
            text, error = run_cell(code, self.namespace, self.timeout)
        self.results["outputs"].append({"index": index, "text": text, "error": error})
        if role == "given":
            self._trust_book_cell()
        else:
            # what a student cell changed lives no longer than that cell
            self.note(self.undo())

    def _run_watched(self, cell, name, code):
        """Run a student cell with every tripwire watched; return (text, error).

        A student cell that calls a tripwire outside the graded cells (to work out
        answers ahead of the tests, say) is flagged for review.
        """
        watch = Tripwires(self.every_tripwire)
        sys.setprofile(watch)
        try:
            text, error = run_cell(code, self.namespace, self.timeout)
        finally:
            sys.setprofile(None)
        if watch.tripped:
            self.note(
                [
                    f"{cell.get('label', name)} calls "
                    f"{sorted(set(watch.tripped))}, a tripwire"
                ]
            )
        return text, error

    def _trust_book_cell(self) -> None:
        """After a cell of the book: take the snapshot again, and trust what it bound.

        The book's own cells may change the libraries (torch wraps some functions on
        first use), and bind names to library objects, which the guard then keeps.
        """
        self.guard.refresh()
        namespace, trusted = self.namespace, self.trusted
        trusted.update((k, v) for k, v in namespace.items() if _library_object(v))
        # a name the book itself rebinds to its own object (a loop variable that held a
        # torch module, then a lambda) is no longer watched
        for k in [k for k, v in trusted.items() if namespace.get(k) is not v]:
            del trusted[k]

    def _run_graded(self, index, cell, name, code, compile_error) -> None:
        """A graded cell: from a clean state, under its tripwires, capturing results."""
        self.note(self.undo())
        recorders = {}
        wires = Tripwires(cell.get("tripwires", []))
        if code is None:
            text, error = "", compile_error
        else:
            text, error = self._run_tests(cell, name, wires, recorders)
        for fname, recorder in recorders.items():
            if self.namespace.get(fname) is recorder:
                self.namespace[fname] = recorder.function
        error = self._verdict(error, wires)
        self.results["outputs"].append({"index": index, "text": text, "error": error})
        self.results["cells"][cell["grade_id"]] = _cell_report(
            cell, error, recorders, wires
        )

    def _run_tests(self, cell, name, wires, recorders):
        """Run the visible checks, then the hidden tests; return (text, error).

        The functions to capture are wrapped only at the hidden tests, so that a helper
        the visible part defines can be captured too. Removing the tripwires' profile
        hook is tampering.
        """
        visible, marker, hidden = cell["source"].partition(HIDDEN_MARKER)
        parts = [visible, marker + hidden] if marker else [visible]
        text, error = "", None
        sys.setprofile(wires)
        try:
            for number, part in enumerate(parts):
                if number == len(parts) - 1:
                    capture(self.namespace, cell.get("capture", []), recorders)
                part_code = compile(self.transform(part), name, "exec")
                more, error = run_cell(part_code, self.namespace, self.timeout)
                text += more
                if error is not None:
                    break
        finally:
            hook = sys.getprofile()
            sys.setprofile(None)
        if hook is not wires and error is None:
            error = {"ename": "Tampering", "evalue": "the profile hook was removed"}
        return text, error

    def _verdict(self, error, wires: Tripwires):
        """The graded cell's error: its own, else tampering undone, else a tripwire."""
        during = self.undo()
        self.note(during)
        if during and error is None:
            error = {"ename": "Tampering", "evalue": "; ".join(during)[:500]}
        if wires.tripped and error is None:
            error = {
                "ename": "Tripwire",
                "evalue": f"the solution calls {sorted(set(wires.tripped))}, "
                "the library function the exercise asks you to write",
            }
        return error

    def undo(self) -> list[str]:
        """Put the libraries, IPython's hooks and the book's names back; say what."""
        changed = self.guard.restore() + self.shell.reset_hooks()
        for key, value in self.trusted.items():
            if self.namespace.get(key) is not value:
                changed.append(f"the notebook's name {key!r} was rebound")
                self.namespace[key] = value
        return changed

    def news(self) -> dict:
        """What the report gained since the last call."""
        news = {}
        for key, sent in self.sent.items():
            gained = self.results[key]
            if key == "cells":
                news[key] = dict(list(gained.items())[sent:])
            else:
                news[key] = gained[sent:]
            self.sent[key] = len(gained)
        return news

    def note(self, items: list[str]) -> None:
        """Add tampering to the report, each item once."""
        for item in items:
            if item not in self.results["tampering"]:
                self.results["tampering"].append(item)


def _cell_report(cell: dict, error, recorders: dict, wires: Tripwires) -> dict:
    """What the grader gets for a graded cell (plain data; checked outside)."""
    return {
        "passed": error is None,
        "error": None if error is None else f"{error['ename']}: {error['evalue']}",
        "captured": {f: r.results for f, r in recorders.items()},
        "missing": [f for f in cell.get("capture", []) if f not in recorders],
        "tripwires": sorted(set(wires.tripped)),
    }


def main(job_path: str, report_fd: str) -> int:
    """Run the job in ``job_path``; send the report down ``report_fd`` as it grows."""
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    fd = int(report_fd)
    os.set_inheritable(fd, False)  # the processes a cell starts do not get it

    def send(message: dict) -> None:
        write_all(fd, (json.dumps(message) + "\n").encode("utf-8"))

    run = JobRun(job)
    for index, cell in enumerate(job["cells"]):
        run.run(index, cell)
        send(run.news())
    send({"done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
