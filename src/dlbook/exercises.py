"""Friendly checks for the coding exercises.

A coding exercise asks the student to finish a function. In the student edition the body of
that function is replaced by a stub that raises ``NotImplementedError``. A visible check wraps
its assertions in ``check(...)``:

- exercise not started: it prints that the exercise is not done yet and does *not* raise, so
  "run all" carries on through the rest of the notebook;
- wrong answer: it raises an ``AssertionError`` that says what was expected;
- right answer: it prints a short confirmation.

Grading does not rely on these visible checks: each graded cell also holds hidden tests, which
raise for an unfinished or wrong exercise.
"""

from __future__ import annotations

from collections.abc import Callable

NOT_DONE_MESSAGE = "Exercise not done yet: replace this line with your solution."


def check(description: str, test: Callable[[], object]) -> bool:
    """Run ``test()`` and report on it; return True when it passed.

    description: what is being checked, e.g. ``"Exercise 1.3: perceptron update"``.
    test:        a function of no arguments that calls the student's code and asserts.
    """
    if not isinstance(description, str) or not description.strip():
        raise ValueError("description must be a non-empty string naming the exercise")
    if not callable(test):
        raise TypeError(
            f"test must be a function of no arguments, got {type(test).__name__}"
        )
    try:
        test()
    except NotImplementedError:
        print(
            f"[not done yet] {description}: finish the function above, then run this cell again."
        )
        return False
    except AssertionError as error:
        detail = str(error) or "an assertion failed"
        raise AssertionError(f"{description}: {detail}") from None
    print(f"[passed] {description}")
    return True
