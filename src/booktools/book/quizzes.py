"""The chapters' "Check your understanding" questions: read and check their data files.

Each chapter notebook ``book/NN_topic.ipynb`` has its questions in
``src/dlbook/quizzes/NN_topic.yml`` (shipped with the package, so that the notebook
shows them in Colab too), in a form an instructor can edit: blocks of questions,
each placed after a section of the chapter, of three kinds (one right answer, several
right answers, a number within a tolerance), and every option with an explanation shown
when a reader picks it. A number the chapter computes is named, not typed
(``answer: {computed: id}``), with the expression in the chapter's namespace that gives
it (``computed_by``) and the value as the chapter prints it (``printed``).

``load(path)`` returns the blocks, or raises ValueError naming the file, the question
and what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from booktools.book.config import REPO_ROOT

QUIZ_DIR = REPO_ROOT / "src" / "dlbook" / "quizzes"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.M)
KINDS = ("one", "several", "number")
ID = re.compile(r"ch\d+[a-z]?-[a-z0-9]+(-[a-z0-9]+)*")


@dataclass
class Option:
    text: str
    correct: bool
    why: str


@dataclass
class Question:
    id: str
    kind: str
    text: str
    options: list[Option] = field(default_factory=list)
    answer: float | None = None  # a number typed in the data file
    computed: str | None = None  # or the name of a number the chapter computes
    computed_by: str | None = None
    printed: str | None = None
    tolerance: float | None = None
    right: str | None = None
    wrong: str | None = None


@dataclass
class Block:
    after: str  # the heading of the section the block ends
    questions: list[Question]


def quiz_file(notebook: Path) -> Path:
    """The data file of a chapter notebook's questions."""
    return QUIZ_DIR / f"{notebook.stem}.yml"


def load(path: Path) -> list[Block]:
    """The blocks of questions in ``path``, checked."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    where = Path(path).name
    _keys(data, {"blocks"}, {"blocks"}, where)
    blocks = _list(data["blocks"], f"{where}: blocks")
    return [_block(block, f"{where}: block {i + 1}") for i, block in enumerate(blocks)]


def _block(data, where: str) -> Block:
    _keys(data, {"after", "questions"}, {"after", "questions"}, where)
    after = _text(data["after"], f"{where}: after")
    questions = _list(data["questions"], f"{where}: questions")
    return Block(after, [_question(q, f"{where} ({after!r})") for q in questions])


def _question(data, where: str) -> Question:
    common = {"id", "kind", "text"}
    by_kind = {
        "one": {"options"},
        "several": {"options"},
        "number": {"answer", "tolerance", "right", "wrong", "computed_by", "printed"},
    }
    if not isinstance(data, dict):
        raise ValueError(f"{where}: a question must be a mapping, got {data!r}")
    qid = _text(data.get("id"), f"{where}: id")
    where = f"{where}: question {qid}"
    if not ID.fullmatch(qid):
        raise ValueError(f"{where}: id must look like ch5-some-words, got {qid!r}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
    required = common | (by_kind[kind] - {"computed_by", "printed"})
    _keys(data, common | by_kind[kind], required, where)
    question = Question(qid, kind, _text(data["text"], f"{where}: text"))
    if kind == "number":
        _number_answer(question, data, where)
    else:
        question.options = _options(data["options"], kind, where)
    return question


def _options(data, kind: str, where: str) -> list[Option]:
    items = _list(data, f"{where}: options")
    if not 2 <= len(items) <= 5:
        raise ValueError(f"{where}: options: 2 to 5 options, got {len(items)}")
    options = []
    for i, item in enumerate(items):
        at = f"{where}: option {i + 1}"
        _keys(item, {"text", "correct", "why"}, {"text", "correct", "why"}, at)
        if not isinstance(item["correct"], bool):
            raise ValueError(f"{at}: correct must be true or false")
        text = _text(item["text"], f"{at}: text")
        options.append(Option(text, item["correct"], _text(item["why"], f"{at}: why")))
    right = sum(o.correct for o in options)
    if kind == "one" and right != 1:
        raise ValueError(
            f"{where}: kind one needs exactly one right option, has {right}"
        )
    if kind == "several" and right < 2:
        raise ValueError(f"{where}: kind several needs 2 or more right, has {right}")
    return options


def _number_answer(question: Question, data: dict, where: str) -> None:
    answer = data["answer"]
    if isinstance(answer, dict):
        _keys(answer, {"computed"}, {"computed"}, f"{where}: answer")
        question.computed = _text(answer["computed"], f"{where}: answer: computed")
        for key in ("computed_by", "printed"):
            if key not in data:
                raise ValueError(f"{where}: a computed answer needs {key}")
        question.computed_by = _text(data["computed_by"], f"{where}: computed_by")
        question.printed = _text(str(data["printed"]), f"{where}: printed")
    elif isinstance(answer, (int, float)) and not isinstance(answer, bool):
        question.answer = float(answer)
        for key in ("computed_by", "printed"):
            if key in data:
                raise ValueError(f"{where}: {key} only goes with a computed answer")
    else:
        raise ValueError(
            f"{where}: answer must be a number or {{computed: name}}, got {answer!r}"
        )
    tolerance = data["tolerance"]
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise ValueError(f"{where}: tolerance must be a number, got {tolerance!r}")
    if tolerance < 0:
        raise ValueError(f"{where}: tolerance must be 0 or more, got {tolerance}")
    question.tolerance = float(tolerance)
    question.right = _text(data["right"], f"{where}: right")
    question.wrong = _text(data["wrong"], f"{where}: wrong")


def _keys(data, allowed: set[str], required: set[str], where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown field {unknown[0]!r} (allowed: {sorted(allowed)})"
        )
    missing = sorted(required - set(data))
    if missing:
        raise ValueError(f"{where}: missing field {missing[0]!r}")


def _list(data, where: str) -> list:
    if not isinstance(data, list) or not data:
        raise ValueError(f"{where}: expected a non-empty list, got {data!r}")
    return data


def _text(data, where: str) -> str:
    if not isinstance(data, str) or not data.strip():
        raise ValueError(f"{where}: expected non-empty text, got {data!r}")
    return data


def section_end(cells, heading: str) -> int | None:
    """The index of the cell that ends the section headed ``heading`` (the next cell
    with a heading of the same or a higher level), or None if no cell has that
    heading."""
    for start, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for level, text in HEADING.findall(cell.source):
            if text.strip() == heading:
                for end in range(start + 1, len(cells)):
                    if cells[end].cell_type == "markdown" and any(
                        len(other) <= len(level)
                        for other, _ in HEADING.findall(cells[end].source)
                    ):
                        return end
                return len(cells)
    return None
