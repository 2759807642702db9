"""dlbook.quiz: the HTML of a block of questions, and its errors on bad input (the
browser's side is tests/book/test_quiz_widget.py)."""

from __future__ import annotations

import json
import re

import pytest

from dlbook.quiz import Quiz

QUESTIONS = [
    {
        "id": "ch1-pick",
        "kind": "one",
        "text": "Which is `relu(-1)`?",
        "options": [
            {"text": "0", "correct": True, "why": "max(0, -1) is 0."},
            {"text": "-1", "correct": False, "why": "That is the identity."},
        ],
    },
    {
        "id": "ch1-many",
        "kind": "several",
        "text": "Which are *activations*?",
        "options": [
            {"text": "tanh", "correct": True, "why": "Yes."},
            {"text": "ReLU", "correct": True, "why": "Yes."},
            {"text": "<script>alert(1)</script>", "correct": False, "why": "No."},
        ],
    },
    {
        "id": "ch1-loss",
        "kind": "number",
        "text": "The loss?",
        "answer": {"computed": "ch1-loss"},
        "tolerance": 0.01,
        "right": "Right.",
        "wrong": "Recompute it.",
    },
]


def payload(page: str) -> dict:
    text = re.search(r'<script type="application/json">(.*?)</script>', page, re.S)[1]
    return json.loads(text.replace("<\\/", "</"))


def test_every_control_has_a_label_and_the_answers_are_in_the_data():
    page = Quiz(QUESTIONS, chapter="1", computed={"ch1-loss": 0.503})._repr_html_()
    ids = re.findall(r'<input[^>]* id="([^"]+)"', page)
    assert len(ids) == 2 + 3 + 1
    for field in ids:
        assert f'<label for="{field}">' in page, field
    assert page.count("<fieldset") == 3 and page.count("<legend>") == 3
    assert 'type="radio"' in page and 'type="checkbox"' in page
    data = payload(page)
    assert data["questions"]["ch1-loss"]["answer"] == 0.503
    assert data["chapterIds"] == ["ch1-pick", "ch1-many", "ch1-loss"]
    assert [o["correct"] for o in data["questions"]["ch1-many"]["options"]] == [
        True,
        True,
        False,
    ]
    # the data's Markdown as HTML, and nothing of it run as markup
    assert "<code>relu(-1)</code>" in page and "<em>activations</em>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_blocks_on_one_page_have_different_ids():
    first = Quiz(QUESTIONS[:1], chapter="1")._repr_html_()
    second = Quiz(QUESTIONS[:1], chapter="1")._repr_html_()
    section = re.compile(r'<section class="dlbook-quiz[^"]*" id="([^"]+)"')
    assert section.search(first)[1] != section.search(second)[1]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"questions": []}, ValueError, "at least one question"),
        ({"questions": QUESTIONS}, ValueError, "no value for 'ch1-loss'"),
        (
            {"questions": QUESTIONS, "computed": {"ch1-loss": "high"}},
            TypeError,
            "computed['ch1-loss']",
        ),
        ({"questions": [dict(QUESTIONS[0], kind="many")]}, ValueError, "kind"),
        (
            {"questions": QUESTIONS[:1], "chapter_ids": ["ch1-other"]},
            ValueError,
            "leaves out",
        ),
        ({"questions": QUESTIONS[:1], "chapter": " "}, ValueError, "chapter"),
    ],
)
def test_bad_input_is_refused_with_a_reason(kwargs, error, words):
    kwargs = {"chapter": "1"} | kwargs
    with pytest.raises(error, match=re.escape(words)):
        Quiz(**kwargs)


DATA = """
blocks:
  - after: "First"
    questions:
      - id: ch7-one
        kind: one
        text: "Which?"
        options:
          - {text: "a", correct: true, why: "yes"}
          - {text: "b", correct: false, why: "no"}
  - after: "Second"
    questions:
      - id: ch7-loss
        kind: number
        text: "The loss?"
        answer: {computed: ch7-loss}
        computed_by: "loss"
        printed: "1.176"
        tolerance: 0.001
        right: "yes"
        wrong: "no"
"""


@pytest.fixture
def quiz_files(tmp_path, monkeypatch):
    from dlbook import quiz

    (tmp_path / "07_x.yml").write_text(DATA)
    (tmp_path / "07b_y.yml").write_text(DATA.replace("ch7-", "ch7b-"))
    (tmp_path / "08_z.yml").write_text(DATA.replace("ch7-", "ch8-"))
    monkeypatch.setattr(quiz, "QUIZZES", tmp_path)
    return quiz


def test_show_counts_the_whole_chapter_and_rounds_as_printed(quiz_files):
    block = quiz_files.show("07_x", 2, computed={"ch7-loss": 1.17612345})
    assert block.chapter == "7"
    assert block.chapter_ids == ["ch7-one", "ch7-loss", "ch7b-one", "ch7b-loss"]
    data = payload(block._repr_html_())
    assert data["questions"]["ch7-loss"]["answer"] == 1.176  # as the chapter prints it


@pytest.mark.parametrize(
    "args, words",
    [
        (("07_x", 2, {"ch7-loss": 1.19}), "the chapter computes 1.19, but"),
        (("07_x", 2, {}), "no value for 'ch7-loss'"),
        (("07_x", 3, {}), "block must be 1 to 2"),
        (("09_none", 1, {}), "no questions for '09_none'"),
    ],
)
def test_show_refuses_a_number_that_disagrees_and_bad_arguments(
    quiz_files, args, words
):
    notebook, block, computed = args
    with pytest.raises(ValueError, match=re.escape(words)):
        quiz_files.show(notebook, block, computed=computed)


def test_a_label_that_is_maths_alone_also_has_words_for_a_screen_reader():
    options = [
        {"text": r"$\frac{a}{b}$", "correct": True, "why": "yes"},
        {"text": "the value $x$", "correct": False, "why": "no"},
    ]
    page = Quiz([dict(QUESTIONS[0], options=options)], chapter="1")._repr_html_()
    assert '<span class="dlbook-spoken">(a)/(b)</span>' in page
    assert page.count("dlbook-spoken") == 1 + 1  # the one label, and the style
