"""Friendly checks for the coding exercises.

A coding exercise asks the student to finish a function. In the student edition the
body of that function is replaced by a stub that raises ``NotImplementedError``. A
visible check wraps its assertions in ``check(...)``:

- exercise not started: it prints that the exercise is not done yet and does *not*
  raise, so "run all" carries on through the rest of the notebook;
- wrong answer: it raises an ``AssertionError`` that says what was expected;
- right answer: it prints a short confirmation.

``check`` reports only by printing and raising; it returns None, so a check that ends a
cell adds no stray ``True`` or ``False`` under it.

Grading does not rely on these visible checks: each graded cell also holds hidden tests,
which raise for an unfinished or wrong exercise.
"""

from __future__ import annotations

from collections.abc import Callable

from dlbook import checks

__all__ = ["check", "NOT_DONE_MESSAGE"]

# Short, so that the student edition's stub line stays within 88 columns.
NOT_DONE_MESSAGE = "Exercise not done yet: write your solution here."


def check(description: str, test: Callable[[], object]) -> None:
    """Run ``test()`` and report on it: print "[passed]" or "[not done yet]", or raise.

    description: what is being checked, e.g. ``"Exercise 1.3: perceptron update"``.
    test:        a function of no arguments that calls the student's code and asserts.

    A wrong answer (an AssertionError in ``test``) raises an AssertionError that starts
    with the description; any other error is raised as it is. Returns None.
    """
    description = checks.text(description, "description")
    test = checks.function(test, "test")
    try:
        test()
    except NotImplementedError:
        # two lines, each within the book's 88 columns
        print(f"[not done yet] {description}")
        print("    finish the function above, then run this cell again.")
        return
    except AssertionError as error:
        detail = str(error) or "an assertion failed"
        raise AssertionError(f"{description}: {detail}") from None
    print(f"[passed] {description}")
