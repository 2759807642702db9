"""dlbook.exercises.check: not done, wrong and right answers, reported by printing."""

import pytest

from dlbook.exercises import NOT_DONE_MESSAGE, check


def unfinished():
    raise NotImplementedError(NOT_DONE_MESSAGE)


def test_unfinished_exercise_reports_and_does_not_raise(capsys):
    def test():
        assert unfinished() == 4

    result = check("Exercise 1.1", test)
    out = capsys.readouterr().out
    assert out == (
        "[not done yet] Exercise 1.1\n"
        "    finish the function above, then run this cell again.\n"
    )
    assert max(len(line) for line in out.splitlines()) <= 88
    assert result is None  # nothing for a notebook to display under the cell


def test_wrong_answer_raises_with_the_exercise_name(capsys):
    def test():
        # raised by hand: pytest rewrites the message of a plain assert in a test file
        raise AssertionError("expected 5, got 4")

    with pytest.raises(AssertionError, match=r"^Exercise 1.2: expected 5, got 4$"):
        check("Exercise 1.2", test)
    assert capsys.readouterr().out == ""  # a wrong answer is not also reported "passed"


def test_bare_assertion_gets_a_message():
    def test():
        raise AssertionError  # an assertion without a message

    with pytest.raises(AssertionError, match="Exercise 1.5: an assertion failed"):
        check("Exercise 1.5", test)


def test_right_answer_passes(capsys):
    result = check("Exercise 1.3", lambda: None)
    assert capsys.readouterr().out == "[passed] Exercise 1.3\n"
    assert result is None  # no stray True under the check in the book


def test_other_errors_are_not_swallowed(capsys):
    def test():
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        check("Exercise 1.4", test)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "description,test,error,match",
    [
        ("", lambda: None, ValueError, "description must be a non-empty string"),
        ("   ", lambda: None, ValueError, "description must be a non-empty string"),
        (None, lambda: None, TypeError, "description must be a non-empty string"),
        ("Exercise", 42, TypeError, "test must be a function, got 42"),
    ],
)
def test_bad_arguments(description, test, error, match):
    with pytest.raises(error, match=match):
        check(description, test)
