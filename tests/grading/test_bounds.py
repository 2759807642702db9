"""Bounds that hold for a whole submission: each one broken by a hostile submission.

Every test runs a small job in the sandbox (``grader.run_job``) under bounds a little
below what the hostile code asks for, so that no test comes near filling the machine:
the submission is stopped, the error names the bound, what it finished before still
counts, and nothing it started outlives it. The defaults themselves are what
INSTRUCTORS.md states.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from booktools.grading import cgroups, grader
from booktools.grading.bounds import DEFAULT, Bounds, MiB

PASSING = {
    "role": "test",
    "grade_id": "t1",
    "source": "assert sum([1, 2]) == 3\n",
    "capture": [],
    "tripwires": [],
}


def run(source: str, bounds: Bounds, cell_timeout: int = 120) -> grader.Ran:
    """A graded cell that passes, then ``source`` as the student's cell."""
    job = {
        "cell_timeout": cell_timeout,
        "cells": [PASSING, {"role": "solution", "label": "cell 2", "source": source}],
    }
    return grader.run_job(job, "x.ipynb", b"{}", bounds)


def stopped_by(ran: grader.Ran, bound: str, bounds: Bounds) -> None:
    """The run was stopped for ``bound``, and kept the cell it finished."""
    assert ran.error == f"stopped: it {bounds.went_over(bound)}", ran
    assert ran.results["cells"]["t1"]["passed"] is True, ran.results
    assert not ran.results["done"]


def test_the_defaults_are_the_documented_ones():
    assert DEFAULT == Bounds(
        memory=4 * 2**30, disk=2**30, processes=256, output=16 * MiB, seconds=600
    )
    text = (REPO_ROOT / "INSTRUCTORS.md").read_text()
    for words in (
        "used more than 4 GiB of memory",
        "wrote more than 1 GiB of files",
        "ran more than 256 processes and threads at once",
        "printed more than 16 MiB of output",
        "ran over the 600 s bound",
    ):
        assert words in text, words
    names = ("memory", "disk", "processes", "output", "seconds")
    said = " ".join(DEFAULT.went_over(name) for name in names)
    for words in ("4 GiB of memory", "1 GiB of files", "256 processes", "16 MiB"):
        assert words in said, said


def test_memory_counts_every_process_together():
    """Three processes of 200 MiB each, every one under the 512 MiB bound."""
    bounds = Bounds(memory=512 * MiB)
    hog = (
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        block = b'x' * (200 << 20)\n"
        "        time.sleep(120)\n"
        "        os._exit(0)\n"
        "time.sleep(120)\n"
    )
    start = time.monotonic()
    stopped_by(run(hog, bounds), "memory", bounds)
    assert time.monotonic() - start < 60


def test_disk_counts_the_folder_and_tmp_together():
    bounds = Bounds(disk=64 * MiB)
    fill = (
        "import os, time\n"
        "chunk = b'x' * (1 << 20)\n"
        "for path in ['/tmp/a', 'b']:\n"  # /tmp, then the working folder
        "    try:\n"
        "        with open(path, 'wb') as handle:\n"
        "            for _ in range(40):\n"
        "                handle.write(chunk)\n"
        "    except OSError as error:\n"
        "        print(error)\n"
        "time.sleep(120)\n"
    )
    ran = run(fill, bounds)
    stopped_by(ran, "disk", bounds)
    assert ran.usage["disk"] > 60 * MiB


def test_processes_count_every_fork():
    bounds = Bounds(processes=32)
    fork_bomb = (
        "import os, time\n"
        "try:\n"
        "    for _ in range(64):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(120)\n"
        "            os._exit(0)\n"
        "except OSError as error:\n"
        "    print(error)\n"
        "time.sleep(120)\n"
    )
    stopped_by(run(fork_bomb, bounds), "processes", bounds)


@pytest.mark.parametrize(
    "source",
    [
        "import os\nfor _ in range(40):\n    os.write(1, b'x' * 65536)\n",
        "print('y' * (2 << 20))\n",
        "import subprocess\nsubprocess.run(['head', '-c', '3000000', '/dev/zero'])\n",
        "import os, sys\n"
        "for _ in range(40):\n    os.write(int(sys.argv[-1]), b'x' * 65536)\n",
    ],
    ids=["to-the-file-descriptor", "print", "a-child-process", "the-report"],
)
def test_output_counts_whatever_prints_it(source):
    bounds = Bounds(output=1 * MiB)
    ran = run(source + "import time\ntime.sleep(120)\n", bounds)
    stopped_by(ran, "output", bounds)


def processes_with(marker: str) -> list[int]:
    """The processes on this machine whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def sleeper(marker: str) -> str:
    """A cell that leaves a sleeper behind: forked twice, in a session of its own."""
    return (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execv(sys.executable, [sys.executable, '-c',\n"
        f"                 'import time; time.sleep(300)', {marker!r}])\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "import time\n"
        "time.sleep(4)\n"  # long enough for the test to see the sleeper
    )


@pytest.mark.parametrize("ends", ["by-itself", "over-the-wall-time"])
def test_nothing_the_submission_started_outlives_it(ends):
    marker = f"outlive-{uuid.uuid4().hex}"
    source = sleeper(marker)
    bounds = DEFAULT
    if ends == "over-the-wall-time":
        bounds = Bounds(seconds=20)
        source += "time.sleep(300)\n"
    seen, finished = [], threading.Event()

    def watch():
        while not finished.is_set():
            seen.extend(processes_with(marker))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        ran = run(source, bounds, cell_timeout=300)
    finally:
        finished.set()
        watcher.join()
    assert seen, "the sleeper never started"
    if ends == "by-itself":
        assert ran.error is None and ran.results["done"], ran
    else:
        stopped_by(ran, "seconds", bounds)
    assert processes_with(marker) == []
    mine = f"{os.getpid()}-"
    for parent in cgroups.layout().parents.values():
        assert not [p for p in parent.iterdir() if p.name.startswith(mine)]


def test_one_submission_over_its_bounds_leaves_the_others_alone():
    """Graded side by side, a memory hog and a fork bomb are stopped; an honest job
    beside them passes; and two jobs of 40 processes each, under a bound of 64, both
    pass: the count is per submission, though every submission runs as nobody (an
    rlimit on nobody's processes would have stopped the second)."""
    hog = "block = b'x' * (700 << 20)\nimport time\ntime.sleep(120)\n"
    bomb = (
        "import os, time\n"
        "try:\n"
        "    while True:\n"
        "        os.fork() or time.sleep(120)\n"
        "except OSError:\n"
        "    time.sleep(120)\n"
    )
    forty = (
        "import os, time\n"
        "for _ in range(40):\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(8)\n"
        "        os._exit(0)\n"
        "time.sleep(4)\n"
        "print('ok')\n"
    )
    honest = "print(sum(range(10)))\n"
    jobs = [
        (hog, Bounds(memory=512 * MiB)),
        (bomb, Bounds(processes=32)),
        (honest, DEFAULT),
        (forty, Bounds(processes=64)),
        (forty, Bounds(processes=64)),
    ]
    with ThreadPoolExecutor(len(jobs)) as pool:
        hogged, bombed, fine, *forties = pool.map(lambda job: run(*job), jobs)
    stopped_by(hogged, "memory", jobs[0][1])
    stopped_by(bombed, "processes", jobs[1][1])
    assert fine.error is None and fine.results["done"], fine
    assert fine.results["outputs"][-1]["text"] == "45\n"
    for ran in forties:
        assert ran.error is None and ran.results["done"], ran
        assert ran.results["outputs"][-1]["text"].endswith("ok\n"), ran.results
        assert ran.usage["processes"] > 40


# -- the control groups on their own (fast) --------------------------------------------


def test_no_control_groups_is_a_clear_error(tmp_path):
    with pytest.raises(cgroups.CgroupsUnavailable, match="control groups.*as root"):
        cgroups.check(root=tmp_path)


def test_cgroup_v2_files(tmp_path, monkeypatch):
    """cgroup v2, on a copy of its files (this machine has v1): which files are
    written and read."""
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    parent = tmp_path / cgroups.PARENT
    parent.mkdir()
    (parent / "cgroup.subtree_control").write_text("")
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):  # the kernel gives a new group its files
        real_mkdir(self, *args, **kwargs)
        if self.parent == parent:
            for name in ("memory.max", "memory.oom.group", "pids.max"):
                (self / name).write_text("max")

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with cgroups.Group.new(memory=3 * 2**30, processes=99, root=tmp_path) as group:
        leaf = group.memory_dir
        assert leaf.parent == parent and group.pids_dir == leaf
        assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids"
        assert (leaf / "memory.max").read_text() == str(3 * 2**30)
        assert (leaf / "memory.oom.group").read_text() == "1"
        assert (leaf / "pids.max").read_text() == "99"
        assert group.command(["x"])[-3:] == [str(leaf / "cgroup.procs"), "--", "x"]
        assert group.went_over() is None
        (leaf / "pids.events").write_text("max 2\n")
        assert group.went_over() == "processes"
        (leaf / "memory.events").write_text("low 0\nmax 5\noom 1\noom_kill 1\n")
        assert group.went_over() == "memory"
        (leaf / "memory.peak").write_text("123\n")
        assert group.peaks() == {"memory": 123}
        for path in leaf.iterdir():
            path.unlink()
    assert not leaf.exists()


def test_bounds_refuse_nonsense():
    with pytest.raises(ValueError, match="disk"):
        Bounds(disk=1000)
    with pytest.raises(ValueError, match="memory"):
        Bounds(memory=0)
    with pytest.raises(ValueError, match="seconds"):
        Bounds(seconds=-1)


def test_the_command_reads_sizes_and_says_the_progress():
    from booktools.grading import assignment

    sizes = {"4G": 4 * 2**30, "512M": 512 * MiB, "64KiB": 64 * 2**10, "4096": 4096}
    for text, size in sizes.items():
        assert assignment._size(text) == size, text
    with pytest.raises(Exception, match="not a size"):
        assignment._size("4X")
    assert assignment.progress_line(7, 30, 2, 102.4) == (
        "graded 7 of 30 (2 flagged), 1 min 42 s"
    )
    assert assignment.progress_line(1, 3, 0, 9.6) == "graded 1 of 3 (0 flagged), 10 s"
