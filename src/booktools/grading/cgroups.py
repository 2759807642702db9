"""Linux control groups: one per submission, bounding its memory and processes.

    check() -> None, or CgroupsUnavailable saying how to make them available
    with Group.new(memory=..., processes=...) as group:
        group.command(argv)    the argv that runs ``argv`` inside the group
        group.went_over()      "memory", "processes" or None
        group.peaks()          {"memory": bytes, "processes": count}, as the kernel kept
    (leaving the block kills every process still in the group and removes it)

An rlimit bounds one process, or (RLIMIT_NPROC) every process of a user: all
submissions run as nobody, so one submission's processes would count against all the
others graded beside it. A control group bounds what is inside it, whatever the user:
its memory (its processes' memory, and the files they write in the sandbox's tmpfs,
whose pages are charged to the group) and how many processes and threads it holds. When
the group is over its memory, the kernel's OOM killer kills inside it; a fork or new
thread over its count fails. Both are counted, and the grader reads the counts.

Either kind of kernel interface works:

- cgroup v2 (``/sys/fs/cgroup/cgroup.controllers`` lists memory and pids): groups under
  ``/sys/fs/cgroup/dlbook-grading/``;
- cgroup v1 (``/sys/fs/cgroup/memory`` and ``/sys/fs/cgroup/pids``): groups under
  ``dlbook-grading/`` in each of the two.

Each group is named ``<grader's pid>-<number>``; a group left by a grader that was
killed is emptied and removed the next time grading starts.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import threading
import time
from pathlib import Path

__all__ = ["CgroupsUnavailable", "Group", "check"]

ROOT = Path("/sys/fs/cgroup")
PARENT = "dlbook-grading"
CONTROLLERS = ("memory", "pids")
FIX_HINT = (
    "grading bounds each submission as a whole (memory, processes) with Linux "
    "control groups and needs to create them: run it as root on a machine whose "
    "/sys/fs/cgroup offers the memory and pids controllers, either cgroup v2 "
    "(/sys/fs/cgroup/cgroup.controllers lists them) or cgroup v1 "
    "(/sys/fs/cgroup/memory and /sys/fs/cgroup/pids); in a container, give it a "
    "writable /sys/fs/cgroup "
    "(for example `docker run --privileged --cgroupns=private`)"
)
# The shell that starts the sandbox puts itself into the group, then becomes the
# sandbox: everything the submission starts is in the group from its first instruction.
ENTER = (
    'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
)
ENTER_FAILED = 125
_names = itertools.count()
_lock = threading.Lock()


class CgroupsUnavailable(RuntimeError):
    pass


class Layout:
    """Where the groups are made: cgroup v2 (one folder) or v1 (one per controller)."""

    def __init__(self, root: Path = ROOT):
        controllers = root / "cgroup.controllers"
        if controllers.is_file():
            missing = set(CONTROLLERS) - set(controllers.read_text().split())
            if missing:
                raise CgroupsUnavailable(
                    f"cgroup v2 offers no {' or '.join(sorted(missing))} "
                    f"controller here; {FIX_HINT}"
                )
            self.version, self.root = 2, root
            self.parents = {name: root / PARENT for name in CONTROLLERS}
        elif all((root / name / "cgroup.procs").is_file() for name in CONTROLLERS):
            self.version, self.root = 1, root
            self.parents = {name: root / name / PARENT for name in CONTROLLERS}
        else:
            raise CgroupsUnavailable(
                f"no memory and pids control groups under {root}; {FIX_HINT}"
            )

    def prepare(self) -> None:
        """Make the parent group(s); on v2, hand the controllers down to them."""
        try:
            if self.version == 2:
                _enable_controllers(self.root)
            for parent in set(self.parents.values()):
                parent.mkdir(exist_ok=True)
            if self.version == 2:
                _enable_controllers(self.parents["memory"])
        except OSError as error:
            raise CgroupsUnavailable(
                f"cannot create control groups ({error}); {FIX_HINT}"
            ) from None
        self.remove_stale()

    def remove_stale(self) -> None:
        """Empty and remove the groups of graders that are no longer running."""
        for parent in set(self.parents.values()):
            for folder in parent.iterdir():
                owner = folder.name.split("-")[0]
                if folder.is_dir() and owner.isdigit() and not _alive(int(owner)):
                    Group(self, folder.name).remove()


def _enable_controllers(group: Path) -> None:
    """cgroup v2: let the children of ``group`` bound memory and processes."""
    control = group / "cgroup.subtree_control"
    enabled = control.read_text().split()
    wanted = [name for name in CONTROLLERS if name not in enabled]
    if wanted:
        control.write_text(" ".join(f"+{name}" for name in wanted))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def layout(root: Path = ROOT) -> Layout:
    """The machine's layout, its parent groups made (once per process)."""
    found = Layout(root)
    found.prepare()
    return found


def check(root: Path = ROOT) -> None:
    """Raise CgroupsUnavailable, saying how to fix it, unless a bounded group works."""
    with Group.new(memory=2**30, processes=64, root=root) as group:
        if group.went_over() is not None:
            raise CgroupsUnavailable(f"a new control group is not empty; {FIX_HINT}")


class Group:
    """One submission's control group (a folder per controller on v1, one on v2)."""

    def __init__(self, where: Layout, name: str):
        self.layout, self.name = where, name
        self.memory_dir = where.parents["memory"] / name
        self.pids_dir = where.parents["pids"] / name

    @classmethod
    @contextlib.contextmanager
    def new(cls, memory: int, processes: int, root: Path = ROOT):
        """A fresh group bounded to ``memory`` bytes and ``processes`` tasks."""
        with _lock:
            where = layout(root)
            group = cls(where, f"{os.getpid()}-{next(_names)}")
        try:
            group._make(memory, processes)
            yield group
        finally:
            group.remove()

    @property
    def folders(self) -> list[Path]:
        return sorted({self.memory_dir, self.pids_dir})

    def _make(self, memory: int, processes: int) -> None:
        try:
            for folder in self.folders:
                folder.mkdir()
            if self.layout.version == 2:
                _write(self.memory_dir / "memory.max", memory)
                _write(self.memory_dir / "memory.swap.max", 0, optional=True)
                # over its memory, the whole submission goes, not one of its processes
                _write(self.memory_dir / "memory.oom.group", 1, optional=True)
            else:
                _write(self.memory_dir / "memory.limit_in_bytes", memory)
                _write(self.memory_dir / "memory.memsw.limit_in_bytes", memory, True)
            _write(self.pids_dir / "pids.max", processes)
        except OSError as error:
            raise CgroupsUnavailable(
                f"cannot bound a control group ({error}); {FIX_HINT}"
            ) from None

    def command(self, argv: list[str]) -> list[str]:
        """The argv that runs ``argv`` inside this group (exit status 125 if it cannot
        enter it)."""
        procs = [str(folder / "cgroup.procs") for folder in self.folders]
        return ["/bin/sh", "-c", ENTER, "enter-cgroup", *procs, "--", *argv]

    def went_over(self) -> str | None:
        """ "memory" if the OOM killer killed in the group, "processes" if a fork or a
        new thread was refused, else None."""
        events = "memory.events" if self.layout.version == 2 else "memory.oom_control"
        if _count(self.memory_dir / events, "oom_kill") > 0:
            return "memory"
        if _count(self.pids_dir / "pids.events", "max") > 0:
            return "processes"
        return None

    def peaks(self) -> dict[str, int]:
        """The most memory and processes the group held, where the kernel keeps it."""
        memory = (
            "memory.peak" if self.layout.version == 2 else "memory.max_usage_in_bytes"
        )
        found = {
            "memory": _number(self.memory_dir / memory),
            "processes": _number(self.pids_dir / "pids.peak"),
        }
        return {key: value for key, value in found.items() if value is not None}

    def kill(self) -> None:
        """Kill every process in the group, and wait until it is empty (up to 10 s)."""
        killer = self.memory_dir / "cgroup.kill"
        if self.layout.version == 2 and killer.exists():
            with contextlib.suppress(OSError):
                killer.write_text("1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def _pids(self) -> set[int]:
        pids = set()
        for folder in self.folders:
            with contextlib.suppress(OSError):
                pids.update(
                    int(p) for p in (folder / "cgroup.procs").read_text().split()
                )
        return pids

    def remove(self) -> None:
        """Kill what is left in the group and remove it (retried while it empties)."""
        self.kill()
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _write(path: Path, value: int, optional: bool = False) -> None:
    if optional and not path.exists():
        return
    path.write_text(str(value))


def _count(path: Path, key: str) -> int:
    """The number after ``key`` in a flat-keyed cgroup file (0 if none)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
