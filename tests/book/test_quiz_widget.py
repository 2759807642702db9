"""dlbook.quiz in a real browser (Debian's chromium), offline, on a page of its own:
answering wrong then right shows the mark and the chosen option's explanation; the
chapter's count survives a reload and is forgotten on request; all of it works from the
keyboard alone; nothing is requested from anywhere but 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
from conftest import CHAPTER_PAGES

from dlbook.quiz import Quiz

pytestmark = pytest.mark.slow

QUESTIONS = [
    {
        "id": "ch1-widget-one",
        "kind": "one",
        "text": "Which is relu(-1)?",
        "options": [
            {"text": "minus one", "correct": False, "why": "That is the identity."},
            {"text": "zero", "correct": True, "why": "max(0, -1) is 0."},
        ],
    },
    {
        "id": "ch1-widget-several",
        "kind": "several",
        "text": "Which are activation functions?",
        "options": [
            {"text": "tanh", "correct": True, "why": "tanh squashes into (-1, 1)."},
            {"text": "ReLU", "correct": True, "why": "ReLU is max(0, z)."},
            {"text": "Adam", "correct": False, "why": "Adam is an optimiser."},
        ],
    },
    {
        "id": "ch1-widget-number",
        "kind": "number",
        "text": "What loss did the chapter print?",
        "answer": {"computed": "loss"},
        "tolerance": 0.001,
        "right": "It printed 0.503.",
        "wrong": "Look at the printed loss again.",
    },
]
OTHER = [dict(QUESTIONS[0], id="ch1-widget-elsewhere")]  # in another block


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def quiz_page(tmp_path, browser):
    """A page with two blocks of chapter 1's questions, served on 127.0.0.1."""
    ids = [q["id"] for q in QUESTIONS + OTHER]
    blocks = [
        Quiz(QUESTIONS, chapter="1", chapter_ids=ids, computed={"loss": 0.503}),
        Quiz(OTHER, chapter="1", chapter_ids=ids),
    ]
    body = "".join(b._repr_html_() for b in blocks)
    (tmp_path / "quiz.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Quiz'
        f"</title></head><body><main>{body}</main></body></html>"
    )
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    context = browser.new_context()
    outside, errors = [], []

    def route(request_route):
        if request_route.request.url.startswith(base):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "quiz.html")
    yield page
    context.close()
    server.shutdown()
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not errors, f"errors in the page: {errors}"


def question(page, qid):
    return page.locator(f'fieldset[data-id="{qid}"]')


def progress(page) -> str:
    return page.locator(".dlbook-progress").first.inner_text()


def test_wrong_then_right_shows_the_mark_and_the_explanation(quiz_page):
    page = quiz_page
    assert progress(page) == (
        "Chapter 1: 0 of 4 questions answered, 0 right on the first try."
    )
    one = question(page, "ch1-widget-one")
    one.get_by_label("minus one").check()
    one.get_by_role("button", name="Check").click()
    shown = one.locator(".dlbook-feedback").inner_text()
    assert "Not quite" in shown and "That is the identity." in shown
    one.get_by_label("zero").check()
    one.get_by_role("button", name="Check").click()
    shown = one.locator(".dlbook-feedback").inner_text()
    assert "Right" in shown and "max(0, -1) is 0." in shown
    assert "identity" not in shown

    several = question(page, "ch1-widget-several")
    several.get_by_label("tanh").check()
    several.get_by_role("button", name="Check").click()
    assert "Not quite" in several.locator(".dlbook-feedback").inner_text()
    several.get_by_label("ReLU").check()
    several.get_by_role("button", name="Check").click()
    assert "Right" in several.locator(".dlbook-feedback").inner_text()

    number = question(page, "ch1-widget-number")
    number.get_by_label("Your answer").fill("0.6")
    number.get_by_role("button", name="Check").click()
    assert "Look at the printed loss" in number.locator(".dlbook-feedback").inner_text()
    number.get_by_label("Your answer").fill("0,5034")  # a decimal comma, in tolerance
    number.get_by_role("button", name="Check").click()
    assert "It printed 0.503." in number.locator(".dlbook-feedback").inner_text()

    counted = "Chapter 1: 3 of 4 questions answered, 0 right on the first try."
    assert progress(page) == counted
    # the other block on the page counts the same chapter
    assert page.locator(".dlbook-progress").nth(1).inner_text() == counted

    page.reload()
    assert progress(page) == counted, "the progress was not kept across a reload"
    assert "Answered before" in question(page, "ch1-widget-one").inner_text()
    page.get_by_role("button", name="Forget my answers to this chapter").first.click()
    assert progress(page).startswith("Chapter 1: 0 of 4 questions answered")
    assert "Answered before" not in question(page, "ch1-widget-one").inner_text()


def test_answering_by_keyboard_alone(quiz_page):
    page = quiz_page
    page.keyboard.press("Tab")  # the first radio button of the first question
    focused = page.evaluate("document.activeElement.id")
    assert focused.endswith("ch1-widget-one-0"), focused
    page.keyboard.press("ArrowDown")  # moves to and selects the second option
    page.keyboard.press("Tab")  # the Check button
    assert page.evaluate("document.activeElement.textContent") == "Check"
    page.keyboard.press("Enter")
    shown = question(page, "ch1-widget-one").locator(".dlbook-feedback").inner_text()
    assert "Right" in shown and "max(0, -1) is 0." in shown
    assert progress(page).endswith(
        "1 of 4 questions answered, 1 right on the first try."
    )


# -- the questions in the built chapters -----------------------------------------


def one_answer_question(page):
    """The first question with one right answer on the page: (its fieldset, the index
    of a wrong option, the index of the right one, their explanations)."""
    data = page.evaluate(
        """() => {
        for (const block of document.querySelectorAll('.dlbook-quiz')) {
            const data = JSON.parse(block.querySelector(
                'script[type="application/json"]').textContent);
            for (const [id, q] of Object.entries(data.questions))
                if (q.kind === 'one') return {id: id, options: q.options};
        }
        return null;
    }"""
    )
    assert data, "no question with one right answer on the page"
    right = next(i for i, o in enumerate(data["options"]) if o["correct"])
    wrong = next(i for i, o in enumerate(data["options"]) if not o["correct"])
    return data["id"], wrong, right


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_a_chapter_quiz_answered_wrong_then_right_and_kept(loaded, path):
    # the visit the page's other tests read (tests/parallel.py): this one answers and
    # reloads, so it comes last (its file is collected after theirs); its storage is
    # the visit's own
    visit = loaded(path)
    page = visit.page
    blocks = page.locator(".dlbook-quiz")
    assert blocks.count() >= 1, f"{path} shows no questions"
    qid, wrong, right = one_answer_question(page)
    fieldset = page.locator(f'fieldset[data-id="{qid}"]')
    fieldset.scroll_into_view_if_needed()
    # by keyboard: focus the wrong option, then Space, Tab to Check, Enter
    fieldset.locator("input").nth(wrong).focus()
    page.keyboard.press("Space")
    fieldset.locator(".dlbook-check").focus()
    page.keyboard.press("Enter")
    feedback = fieldset.locator(".dlbook-feedback")
    assert "Not quite" in feedback.inner_text()
    # then the right one, by mouse
    fieldset.locator("input").nth(right).check()
    fieldset.locator(".dlbook-check").click()
    assert "Right" in feedback.inner_text()
    counted = page.locator(".dlbook-progress").first.inner_text()
    assert "1 of" in counted and "0 right on the first try" in counted
    page.reload()
    assert page.locator(".dlbook-progress").first.inner_text() == counted
    assert not visit.external, f"requests left 127.0.0.1: {visit.external}"
