"""The book's one timer: the best of several runs.

    best_of(fn, repeats=5, warmup=1) -> (seconds, result)

It calls ``fn()`` ``warmup`` times untimed (first calls pay one-off costs: allocation,
kernel selection), then ``repeats`` times on the clock (``time.perf_counter``), and
returns the shortest wall-clock time with the result of that fastest call. The minimum
is the measurement least disturbed by the rest of the machine: every slower run was
slowed by something other than ``fn`` (``timeit`` recommends the minimum for the same
reason).

Timings depend on the machine, so a notebook cell that prints one is tagged
``nbval-ignore-output``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from dlbook import checks

__all__ = ["best_of"]

T = TypeVar("T")


def best_of(fn: Callable[[], T], repeats: int = 5, warmup: int = 1) -> tuple[float, T]:
    """Shortest time in seconds of ``repeats`` calls of ``fn()``, and that call's
    result."""
    fn = checks.function(fn, "fn")
    repeats = checks.integer(repeats, "repeats", minimum=1)
    warmup = checks.integer(warmup, "warmup", minimum=0)
    for _ in range(warmup):
        fn()
    best_seconds, best_result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        if seconds < best_seconds:
            best_seconds, best_result = seconds, result
    return best_seconds, best_result
