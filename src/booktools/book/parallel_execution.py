"""Run the chapters that the build would run, side by side, before the build.

myst-nb executes the notebooks of a build one after another, on one core. Each chapter
sets torch to one thread (dlbook.setup), so on a machine with more cores the build waits
for no reason. Here the notebooks that are not yet in the execution cache run in a pool
of processes, one kernel each, and their results go into the cache exactly as myst-nb
would put them there; the build then finds every chapter cached.

A notebook that fails here is left out of the cache: the build runs it again itself and
reports the error as it always does.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from jupyter_client import KernelManager


def _execute(path: str, timeout: int) -> tuple[str, str | None, float, str | None]:
    """Run one notebook in its folder: (path, executed notebook or None, seconds,
    error).

    Its kernel talks over Unix sockets in a folder of its own: kernels started at the
    same moment over TCP each pick free ports, and two could pick the same ones (the
    client of one notebook then waits on another's kernel)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dlbook-kernel-") as sockets:
        kernel = KernelManager(
            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
            transport="ipc",
            ip=str(Path(sockets) / "kernel"),
        )
        try:
            result = single_nb_execution(
                nb,
                cwd=str(Path(path).parent),
                timeout=timeout,
                allow_errors=False,
                km=kernel,
            )
        finally:  # a kernel handed to nbclient is not shut down by it
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)
    if result.err is not None:
        return path, None, result.time, f"{type(result.err).__name__}"
    return path, nbformat.writes(result.nb), result.time, None


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process may use
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def uncached(notebooks: list[Path], cache_path: Path) -> list[Path]:
    """The notebooks whose code has no executed copy in the cache."""
    cache = get_cache(str(cache_path))
    missing = []
    for path in notebooks:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            missing.append(path)
    return missing


def fill_cache(
    notebooks: list[Path], cache_path: Path, timeout: int, jobs: int | None = None
) -> dict[Path, float | str]:
    """Execute the uncached ``notebooks`` in ``jobs`` processes (default: one per core)
    and cache each that succeeds. Returns each run's seconds, or its error's name."""
    todo = uncached(notebooks, cache_path)
    if not todo:
        return {}
    jobs = jobs or _cores()
    # the largest first, so that a long chapter does not start last
    todo.sort(key=lambda path: path.stat().st_size, reverse=True)
    cache = get_cache(str(cache_path))  # written by this process only
    outcome: dict[Path, float | str] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
        runs = [pool.submit(_execute, str(path), timeout) for path in todo]
        for run in as_completed(runs):
            path, text, seconds, error = run.result()
            if error is not None:
                outcome[Path(path)] = error
                print(f"{Path(path).name} failed ({error}): the build runs it again")
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    nbformat.reads(text, as_version=4),
                    path,
                    data={"execution_seconds": seconds},
                ),
                check_validity=False,
                overwrite=True,
            )
            outcome[Path(path)] = seconds
            print(f"executed {Path(path).name} in {seconds:.1f} s", flush=True)
    return outcome
