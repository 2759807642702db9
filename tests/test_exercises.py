"""dlbook.exercises.check: not done, wrong and right answers."""

import pytest

from dlbook.exercises import NOT_DONE_MESSAGE, check


def unfinished():
    raise NotImplementedError(NOT_DONE_MESSAGE)


def test_unfinished_exercise_reports_and_does_not_raise(capsys):
    def test():
        assert unfinished() == 4

    assert check("Exercise 1.1", test) is False
    assert "[not done yet] Exercise 1.1" in capsys.readouterr().out


def test_wrong_answer_raises_with_the_exercise_name():
    def test():
        assert 2 + 2 == 5, "expected 5, got 4"

    with pytest.raises(AssertionError, match=r"Exercise 1.2: expected 5, got 4"):
        check("Exercise 1.2", test)


def test_right_answer_passes(capsys):
    assert check("Exercise 1.3", lambda: None) is True
    assert "[passed] Exercise 1.3" in capsys.readouterr().out


def test_other_errors_are_not_swallowed():
    def test():
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        check("Exercise 1.4", test)


@pytest.mark.parametrize(
    "description,test,error",
    [
        ("", lambda: None, ValueError),
        ("Exercise", 42, TypeError),
    ],
)
def test_bad_arguments(description, test, error):
    with pytest.raises(error):
        check(description, test)
