"""Check your understanding: questions answered in the page, with an explanation for
every answer (all chapters).

``Quiz(questions, chapter=..., computed=...)`` shows a block of questions in Jupyter, in
Colab and in the HTML book alike: it is HTML with a few lines of JavaScript, so it needs
no kernel once drawn and no network. A question has one right answer (radio buttons),
several (checkboxes) or a number within a tolerance. Checking an answer shows the mark
and the explanation of each option chosen. What the reader has answered, and whether
the first try was right, is kept in the browser (localStorage) across reloads, with a
count for the chapter and a button that forgets it.

In a chapter, ``show(notebook, block, computed=...)`` shows the questions of
``dlbook/quizzes/<notebook>.yml`` (shipped with the package, so that Colab has them)
that follow a section. A number the chapter computes is passed in ``computed`` and
rounded to the decimals of the value the data file says the chapter prints; a value
that disagrees with that printed one by more than the question's tolerance raises.

Questions are self-checks, not grades: their answers are in the page.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from dlbook import checks

__all__ = ["Quiz", "show"]

_counter = itertools.count()
QUIZZES = Path(__file__).parent / "quizzes"


def _inline(text: str) -> str:
    """A line of the data's Markdown as HTML: `code`, **bold**, *emphasis*, and maths
    $...$ for MathJax as \\( ... \\) (the delimiters the book's MathJax reads)."""
    kept: list[str] = []  # maths and code, kept out of the emphasis rules

    def keep(piece: str) -> str:
        kept.append(piece)
        return f"\x00{len(kept) - 1}\x00"

    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", lambda m: keep(f"<code>{m[1]}</code>"), out)
    out = re.sub(r"\$([^$]+)\$", lambda m: keep(f"\\({m[1]}\\)"), out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", out)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m[1])], out)


def show(
    notebook: str, block: int, computed: Mapping[str, float] | None = None
) -> Quiz:
    """The questions that follow section ``block`` (1, 2, ...) of the chapter
    notebook ``notebook`` (its name without .ipynb), with the numbers the chapter
    ``computed``."""
    notebook = checks.text(notebook, "notebook")
    blocks = _blocks(notebook)
    block = checks.integer(block, "block", minimum=1)
    if block > len(blocks):
        raise ValueError(
            f"block must be 1 to {len(blocks)} for {notebook}, got {block}"
        )
    questions = blocks[block - 1]["questions"]
    computed = dict(computed or {})
    for q in questions:
        answer = q.get("answer")
        if isinstance(answer, Mapping) and answer["computed"] in computed:
            name = answer["computed"]
            computed[name] = _as_printed(computed[name], str(q["printed"]), q)
    chapter = re.match(r"\d+", notebook)[0]
    chapter_ids = [
        q["id"]
        for path in sorted(QUIZZES.glob("*.yml"))
        if re.match(r"\d+", path.stem)[0] == chapter
        for b in _blocks(path.stem)
        for q in b["questions"]
    ]
    return Quiz(questions, str(int(chapter)), chapter_ids, computed)


def _blocks(notebook: str) -> list[dict]:
    import yaml  # only here: the rest of dlbook does not need it

    path = QUIZZES / f"{notebook}.yml"
    if not path.exists():
        raise ValueError(f"notebook: no questions for {notebook!r} ({path} is missing)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["blocks"]


def _as_printed(value: float, printed: str, question: Mapping) -> float:
    """``value`` rounded as the chapter prints it (``printed``), checked against it: the
    page then shows the same number on every machine."""
    value = checks.number(value, f"computed[{question['answer']['computed']!r}]")
    printed = printed.replace(",", "")  # a thousands separator, as in 6,144
    mantissa = printed.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    if "e" in printed.lower():
        shown = float(f"{value:.{decimals}e}")
    else:
        shown = round(value, decimals)
    if abs(shown - float(printed)) > question["tolerance"]:
        raise ValueError(
            f"question {question['id']!r}: the chapter computes {shown}, but the quiz "
            f"data says it prints {printed} (tolerance {question['tolerance']})"
        )
    return shown


def _for_the_script(q: Mapping) -> dict:
    """What the page's script needs of a question (its text and options are in the
    HTML): the right answers and the explanations, as HTML."""
    shown = {"kind": q["kind"]}
    if q["kind"] == "number":
        shown |= {"answer": q["answer"], "tolerance": q["tolerance"]}
        shown |= {"right": _inline(q["right"]), "wrong": _inline(q["wrong"])}
    else:
        shown["options"] = [
            {"correct": o["correct"], "why": _inline(o["why"])} for o in q["options"]
        ]
    return shown


def _spoken(text: str) -> str:
    """For a label that is maths alone: the maths as plain text, hidden on the screen,
    so that a screen reader (and the accessibility check) has a name for the control.
    Empty for a label with words."""
    if re.sub(r"\$[^$]+\$", "", text).strip():
        return ""
    plain = re.sub(r"\$([^$]+)\$", r"\1", text)
    plain = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", plain)
    plain = re.sub(r"\\(left|right|[,;!])", " ", plain)
    plain = re.sub(r"\\([A-Za-z]+)", r"\1", plain)
    plain = " ".join(plain.replace("{", "").replace("}", "").split())
    return f'<span class="dlbook-spoken">{html.escape(plain, quote=False)}</span>'


def _answer(question: Mapping, computed: Mapping[str, float]) -> float:
    answer = question["answer"]
    if isinstance(answer, Mapping):
        name = answer["computed"]
        if name not in computed:
            raise ValueError(
                f"computed has no value for {name!r}, which question "
                f"{question['id']!r} needs; got {sorted(computed)}"
            )
        return checks.number(computed[name], f"computed[{name!r}]")
    return checks.number(answer, f"answer of {question['id']!r}")


class Quiz:
    """A block of questions for the page (questions: dicts as in the quiz data files).

    chapter: the chapter the progress count is for ("5"); chapter_ids: the ids of all
    its questions (default: these); computed: the numbers the chapter computed, by name.
    """

    def __init__(
        self,
        questions: Sequence[Mapping],
        chapter: str,
        chapter_ids: Sequence[str] | None = None,
        computed: Mapping[str, float] | None = None,
    ):
        questions = checks.instance(questions, "questions", Sequence)
        if not questions:
            raise ValueError("questions must hold at least one question, got none")
        self.chapter = checks.text(chapter, "chapter")
        computed = dict(computed or {})
        self.questions = []
        for q in questions:
            q = dict(checks.instance(q, "each question", Mapping))
            checks.one_of(q.get("kind"), f"kind of {q.get('id')!r}", KINDS)
            if q["kind"] == "number":
                q["answer"] = _answer(q, computed)
            self.questions.append(q)
        ids = [q["id"] for q in self.questions]
        self.chapter_ids = list(chapter_ids) if chapter_ids is not None else ids
        missing = sorted(set(ids) - set(self.chapter_ids))
        if missing:
            raise ValueError(
                f"chapter_ids leaves out questions of this block: {missing}"
            )

    def _question_html(self, q: Mapping, uid: str) -> str:
        qid, kind = html.escape(q["id"]), q["kind"]
        parts = [
            f'<fieldset class="dlbook-question" data-id="{qid}" data-kind="{kind}">'
            f"<legend>{_inline(q['text'])}</legend>"
        ]
        if kind == "number":
            field = f"{uid}-{qid}"
            parts.append(
                f'<label for="{field}">Your answer</label> '
                f'<input id="{field}" type="text" inputmode="decimal" size="10">'
            )
        else:
            kind = "radio" if kind == "one" else "checkbox"
            hint = "one answer" if kind == "radio" else "every answer that holds"
            parts.append(f'<p class="dlbook-hint">Choose {hint}.</p>')
            for i, option in enumerate(q["options"]):
                field = f"{uid}-{qid}-{i}"
                parts.append(
                    f'<div class="dlbook-option"><input type="{kind}" id="{field}" '
                    f'name="{uid}-{qid}" '
                    f'value="{i}"> <label for="{field}">'
                    f"{_inline(option['text'])}{_spoken(option['text'])}</label></div>"
                )
        parts.append(
            '<button type="button" class="dlbook-check">Check</button>'
            '<div class="dlbook-feedback" role="status" aria-live="polite"></div>'
            "</fieldset>"
        )
        return "".join(parts)

    def _repr_html_(self) -> str:
        uid = f"dlbook-quiz-{next(_counter)}"
        data = {
            "chapter": self.chapter,
            "chapterIds": self.chapter_ids,
            "questions": {q["id"]: _for_the_script(q) for q in self.questions},
        }
        payload = json.dumps(data).replace("</", "<\\/")
        body = "".join(self._question_html(q, uid) for q in self.questions)
        return (
            f'<section class="dlbook-quiz mathjax_process" id="{uid}" '
            f'aria-label="Check your understanding"><style>{_STYLE}</style>'
            '<p class="dlbook-quiz-title"><strong>Check your understanding</strong> '
            "(a self-check: nothing is graded or sent anywhere)</p>"
            f"{body}"
            '<p class="dlbook-progress" role="status" aria-live="polite"></p>'
            '<button type="button" class="dlbook-reset">Forget my answers to this '
            "chapter</button>"
            f'<script type="application/json">{payload}</script>'
            f"<script>{_SCRIPT}(document.getElementById({json.dumps(uid)}));</script>"
            "</section>"
        )

    def __repr__(self) -> str:
        return f"Quiz: {len(self.questions)} questions (chapter {self.chapter})"


KINDS = ("one", "several", "number")

_HERE = Path(__file__).parent
_STYLE = (_HERE / "quiz.css").read_text(encoding="utf-8")
_SCRIPT = (_HERE / "quiz.js").read_text(encoding="utf-8")
