"""Bounds for a whole submission, and running its sandbox under them.

    Bounds(memory=..., disk=..., processes=..., output=..., seconds=...)
    supervise(command, bounds) -> Supervised(returncode, over, report, output_tail, ...)

A submission is all the processes its notebook starts and all the files they write.
Each bound holds for all of it together:

- memory: its control group's (``booktools.grading.cgroups``): every process's memory,
  and the files written in its tmpfs, whose pages are memory too;
- disk: the size of the sandbox's one writable file system, a tmpfs holding its
  working folder and /tmp (``booktools.grading.sandbox``); a write past it fails with
  "No space left on device";
- processes: the tasks (processes and threads) its control group may hold at once;
- output: the bytes it sends the grader, through pipes: what it writes to its standard
  output and error (the runner passes on what the cells print, too) and its report;
- seconds: wall time.

A submission that goes over a bound is stopped at once: every process in its control
group is killed (its process namespace dies with them, and its tmpfs with that), and
``Supervised.over`` names the bound; what its notebook finished before still counts.
The grader checks the counts every ``POLL`` seconds while the submission runs (the
memory and process counts are the kernel's, kept for the group's whole life); the
tmpfs is checked for being full then and once more when it ends.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable

from booktools.grading import cgroups

__all__ = ["DEFAULT", "Bounds", "Supervised", "size_text", "supervise"]

MiB, GiB = 2**20, 2**30
POLL = 0.2  # seconds between checks
TAIL = 4000  # characters of output kept for the error message


def size_text(n: int) -> str:
    """``n`` bytes in words: "4 GiB", "768 MiB"."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (2**10, "KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n} bytes"


@dataclass(frozen=True)
class Bounds:
    """What one submission may use, all its processes and files together."""

    memory: int = 4 * GiB
    disk: int = 1 * GiB
    processes: int = 256
    output: int = 16 * MiB
    seconds: float = 600.0

    def __post_init__(self):
        for name in ("memory", "disk", "processes", "output"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"bound {name} must be a positive integer, got {value!r}"
                )
        if self.disk % 4096 or self.disk < MiB:
            raise ValueError(
                f"bound disk must be whole 4 KiB pages, at least 1 MiB: {self.disk}"
            )
        if not self.seconds > 0:
            raise ValueError(f"bound seconds must be positive, got {self.seconds!r}")

    def went_over(self, name: str) -> str:
        """What a submission over bound ``name`` did, in words."""
        return {
            "memory": f"used more than {size_text(self.memory)} of memory",
            "disk": f"wrote more than {size_text(self.disk)} of files "
            "(its folder and /tmp)",
            "processes": f"ran more than {self.processes} processes and threads "
            "at once",
            "output": f"printed more than {size_text(self.output)} of output",
            "seconds": f"ran over the {self.seconds:g} s bound for a submission",
        }[name]


DEFAULT = Bounds()


@dataclass
class Supervised:
    """How a bounded run ended."""

    returncode: int | None = None
    over: str | None = None  # the bound it went over, if it was stopped
    report: bytes = b""  # what came on the report channel
    output_tail: str = ""
    seconds: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)


class _Watch:
    """The running sandbox: its pipes read, its bounds checked, until it ends."""

    def __init__(self, process, group, bounds: Bounds, fds: dict[str, int]):
        self.process, self.group, self.bounds = process, group, bounds
        self.selector = selectors.DefaultSelector()
        for name, fd in fds.items():
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ, name)
        self.data = {"output": bytearray(), "report": bytearray(), "info": bytearray()}
        self.output_bytes = 0
        self.tmpfs = None  # a descriptor of the sandbox's tmpfs, once found
        self.disk_peak = 0
        self.start = time.monotonic()

    def run(self) -> Supervised:
        over = None
        while over is None and (self.selector.get_map() or self.process.poll() is None):
            for key, _ in self.selector.select(timeout=POLL):
                self._read(key.fd, key.data)
            over = self._over()
            if self.process.poll() is not None and not self.selector.get_map():
                break
        self.group.kill()  # whatever is left, stopped or not
        self.process.wait()
        self._drain()
        over = over or self._over(final=True)
        return self._outcome(over)

    def _read(self, fd: int, name: str) -> bool:
        """Read what is there on ``fd``; False once it would block or has ended."""
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not chunk:
            self.selector.unregister(fd)
            os.close(fd)
            return False
        if name == "output":
            self.data["output"] = self.data["output"][-TAIL:] + chunk
        else:
            self.data[name] += chunk
        if name != "info":
            self.output_bytes += len(chunk)
        return True

    def _drain(self) -> None:
        """Read what the ended sandbox left in its pipes, then close them."""
        for key in list(self.selector.get_map().values()):
            while self._read(key.fd, key.data):
                pass
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fd)
            os.close(key.fd)
        self.selector.close()

    def _over(self, final: bool = False) -> str | None:
        """The bound the submission is over, if any."""
        if not final and time.monotonic() - self.start > self.bounds.seconds:
            return "seconds"
        went = self.group.went_over()
        if went is not None:
            return went
        if self.output_bytes > self.bounds.output:
            return "output"
        if self._disk_used(final) >= self.bounds.disk - MiB:
            return "disk"
        return None

    def _disk_used(self, final: bool) -> int:
        """Bytes in the sandbox's tmpfs (found through its first process's root)."""
        if self.tmpfs is None and not final:
            self.tmpfs = self._find_tmpfs()
        if self.tmpfs is None:
            return 0
        try:
            stats = os.fstatvfs(self.tmpfs)
        except OSError:
            return 0
        used = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
        self.disk_peak = max(self.disk_peak, used)
        return used

    def _find_tmpfs(self) -> int | None:
        """Hold the sandbox's tmpfs open, so that it can be read when it has ended.

        It is the file system at /tmp in the sandbox whose size is the disk bound
        (before the sandbox has mounted it, the path leads elsewhere).
        """
        try:
            pid = int(json.loads(bytes(self.data["info"]))["child-pid"])
        except (ValueError, KeyError, TypeError):
            return None
        path = f"/proc/{pid}/root/tmp"
        try:
            fd = os.open(path, os.O_PATH | os.O_DIRECTORY)
        except OSError:
            return None
        stats = os.fstatvfs(fd)
        if stats.f_blocks * stats.f_frsize != self.bounds.disk:
            os.close(fd)
            return None
        return fd

    def _outcome(self, over: str | None) -> Supervised:
        if self.tmpfs is not None:
            os.close(self.tmpfs)
        usage = {
            **self.group.peaks(),
            "disk": self.disk_peak,
            "output": self.output_bytes,
        }
        return Supervised(
            returncode=self.process.returncode,
            over=over,
            report=bytes(self.data["report"]),
            output_tail=self.data["output"][-TAIL:].decode("utf-8", "replace"),
            seconds=time.monotonic() - self.start,
            usage=usage,
        )


def supervise(command: Callable[[int, int], list[str]], bounds: Bounds) -> Supervised:
    """Run ``command(report_fd, info_fd)`` (a sandbox's argv) under ``bounds``.

    ``report_fd`` is the write end of the runner's report channel, ``info_fd`` that of
    bubblewrap's ``--info-fd`` (which says the sandbox's first process).
    """
    with cgroups.Group.new(bounds.memory, bounds.processes) as group:
        pipes = {name: os.pipe() for name in ("output", "report", "info")}
        writers = [pipes["report"][1], pipes["info"][1]]
        try:
            argv = group.command(command(*writers))
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=pipes["output"][1],
                stderr=pipes["output"][1],
                pass_fds=writers,
                start_new_session=True,
            )
        except BaseException:
            for read, write in pipes.values():
                os.close(read)
                os.close(write)
            raise
        for _, write in pipes.values():
            os.close(write)
        readers = {name: read for name, (read, _) in pipes.items()}
        return _Watch(process, group, bounds, readers).run()
