"""Tests for dlbook.timing.best_of, on a fake clock: the minimum time and the result of
the fastest call, untimed warm-up calls, and bad arguments."""

from __future__ import annotations

import pytest

from dlbook import timing


class FakeClock:
    """A perf_counter whose time moves only when the timed function says so."""

    def __init__(self) -> None:
        self.now = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def scripted(clock: FakeClock, durations: list[float]):
    """A function whose k-th call takes durations[k] seconds on the fake clock and
    returns k."""
    calls = []

    def fn():
        k = len(calls)
        calls.append(k)
        clock.now += durations[k]
        return k

    return fn, calls


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(timing.time, "perf_counter", fake)
    return fake


def test_returns_the_minimum_and_the_result_of_the_fastest_call(clock):
    # call 0 is the warm-up (very slow, not timed); calls 1-4 are timed: 0.5, 0.25,
    # 0.75, 0.375 seconds, so the best is call 2 with 0.25 s.
    fn, calls = scripted(clock, [9.0, 0.5, 0.25, 0.75, 0.375])
    seconds, result = timing.best_of(fn, repeats=4, warmup=1)
    assert seconds == 0.25
    assert result == 2
    assert calls == [0, 1, 2, 3, 4]


def test_warm_up_calls_are_made_but_not_timed(clock):
    # three warm-ups of 100 s each, then two timed calls of 2 s and 1 s
    fn, calls = scripted(clock, [100.0, 100.0, 100.0, 2.0, 1.0])
    seconds, result = timing.best_of(fn, repeats=2, warmup=3)
    assert len(calls) == 5
    assert (seconds, result) == (1.0, 4)
    assert clock.reads == 2 * 2  # one start and one stop reading per timed call


def test_no_warm_up(clock):
    fn, calls = scripted(clock, [0.125])
    assert timing.best_of(fn, repeats=1, warmup=0) == (0.125, 0)
    assert calls == [0]


def test_first_of_equal_times_wins(clock):
    fn, _ = scripted(clock, [1.0, 0.5, 0.5, 0.5])
    assert timing.best_of(fn, repeats=3, warmup=1) == (0.5, 1)


def test_defaults_are_five_timed_calls_after_one_warm_up(clock):
    fn, calls = scripted(clock, [1.0] * 6)
    timing.best_of(fn)
    assert len(calls) == 6 and clock.reads == 10


def test_real_clock_measures_something():
    seconds, result = timing.best_of(lambda: sum(range(1000)), repeats=3)
    assert result == 499500
    assert 0.0 <= seconds < 1.0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"fn": 3}, TypeError, "fn must be a function, got 3"),
        ({"repeats": 0}, ValueError, "repeats must be an int >= 1, got 0"),
        ({"repeats": 2.0}, TypeError, r"repeats must be an int >= 1, got 2\.0"),
        ({"repeats": True}, TypeError, "repeats must be an int >= 1, got True"),
        ({"warmup": -1}, ValueError, "warmup must be an int >= 0, got -1"),
        ({"warmup": "1"}, TypeError, "warmup must be an int >= 0, got '1'"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    calls = []
    arguments = {"fn": lambda: calls.append(1), **kwargs}
    with pytest.raises(error, match=message):
        timing.best_of(**arguments)
    assert calls == []  # checked before anything runs
