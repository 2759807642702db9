"""The chapters' "Check your understanding" data (booktools.book.quizzes).

Each file is well formed (every option explained, the right number of right answers,
no unknown field); each chapter has at least 8 questions; each block follows a heading
the notebook has; a number the chapter computes names an expression whose names the
chapter's code defines before that point, and the value it gives is printed there.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

from booktools.book import quiz_cells, quizzes
from booktools.book.config import chapter_notebooks

NOTEBOOKS = chapter_notebooks(REPO_ROOT)

VALID = """
blocks:
  - after: "A section"
    questions:
      - id: ch1-pick-one
        kind: one
        text: "Which?"
        options:
          - {text: "this", correct: true, why: "because"}
          - {text: "that", correct: false, why: "tempting, but"}
      - id: ch1-pick-several
        kind: several
        text: "Which ones?"
        options:
          - {text: "a", correct: true, why: "yes"}
          - {text: "b", correct: true, why: "yes too"}
          - {text: "c", correct: false, why: "no"}
      - id: ch1-a-number
        kind: number
        text: "How many?"
        answer: {computed: ch1-a-number}
        computed_by: "float(loss)"
        printed: "0.25"
        tolerance: 0.01
        right: "It is."
        wrong: "The usual slip."
"""

# a planted fault, and the words the error must contain
MALFORMED = {
    "an option without why": (
        (
            '{text: "that", correct: false, why: "tempting, but"}',
            '{text: "that", correct: false}',
        ),
        "missing field 'why'",
    ),
    "two right answers to a one": (
        (
            '{text: "that", correct: false, why: "tempting, but"}',
            '{text: "that", correct: true, why: "x"}',
        ),
        "exactly one right option",
    ),
    "one right answer to a several": (
        (
            '{text: "b", correct: true, why: "yes too"}',
            '{text: "b", correct: false, why: "no"}',
        ),
        "2 or more right",
    ),
    "an unknown kind": (("kind: several", "kind: some"), "kind must be one of"),
    "a misspelt field": (
        ("tolerance: 0.01", "tolerence: 0.01"),
        "unknown field 'tolerence'",
    ),
    "no tolerance": (("        tolerance: 0.01\n", ""), "missing field 'tolerance'"),
    "a computed answer without its expression": (
        ('        computed_by: "float(loss)"\n', ""),
        "needs computed_by",
    ),
    "an answer that is text": (
        ("answer: {computed: ch1-a-number}", 'answer: "0.25"'),
        "answer must be a number",
    ),
    "correct as text": (
        ('correct: true, why: "because"', 'correct: "yes", why: "because"'),
        "true or false",
    ),
    "not YAML": (("blocks:", "blocks: ["), "not valid YAML"),
}


def test_a_valid_file_loads(tmp_path):
    path = tmp_path / "q.yml"
    path.write_text(VALID)
    [block] = quizzes.load(path)
    assert block.after == "A section"
    assert [q.kind for q in block.questions] == ["one", "several", "number"]
    assert [o.correct for o in block.questions[1].options] == [True, True, False]
    assert block.questions[2].computed == "ch1-a-number"
    assert block.questions[2].tolerance == 0.01


@pytest.mark.parametrize("fault", sorted(MALFORMED))
def test_a_malformed_file_is_refused_with_a_reason(tmp_path, fault):
    (old, new), words = MALFORMED[fault]
    assert old in VALID
    path = tmp_path / "q.yml"
    path.write_text(VALID.replace(old, new, 1))
    with pytest.raises(ValueError, match=re.escape(words)):
        quizzes.load(path)


def chapter_of(notebook: Path) -> str:
    return re.match(r"\d+", notebook.stem)[0]


def test_every_chapter_has_at_least_8_questions_and_every_notebook_3():
    per_chapter, per_notebook = Counter(), {}
    for notebook in NOTEBOOKS:
        path = quizzes.quiz_file(notebook)
        assert path.exists(), f"{notebook.name} has no questions: {path} is missing"
        count = sum(len(b.questions) for b in quizzes.load(path))
        per_notebook[notebook.stem] = count
        per_chapter[chapter_of(notebook)] += count
    assert all(n >= 3 for n in per_notebook.values()), per_notebook
    assert all(n >= 8 for n in per_chapter.values()), per_chapter


def test_question_ids_are_unique_in_the_book():
    ids = Counter(
        q.id
        for notebook in NOTEBOOKS
        if quizzes.quiz_file(notebook).exists()
        for block in quizzes.load(quizzes.quiz_file(notebook))
        for q in block.questions
    )
    assert not [i for i, n in ids.items() if n > 1], ids.most_common(3)


def defined_names(code: str) -> set[str]:
    """The names a cell's code binds at its top level or in its loops and blocks."""
    code = "\n".join(
        line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))
    )
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def printed_text(cell) -> str:
    return "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for o in cell.get("outputs", [])
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_blocks_follow_headings_and_computed_answers_are_computed_there(notebook):
    path = quizzes.quiz_file(notebook)
    if not path.exists():
        pytest.fail(f"{path} is missing")
    cells = nbformat.read(notebook, as_version=4).cells
    for block in quizzes.load(path):
        end = quizzes.section_end(cells, block.after)
        assert end is not None, (
            f"{path.name}: no heading {block.after!r} in the notebook"
        )
        before = [c for c in cells[:end] if c.cell_type == "code"]
        names = set().union(*(defined_names(c.source) for c in before)) | set(
            dir(builtins)
        )
        shown = " ".join(printed_text(c) for c in before)
        for q in block.questions:
            if q.computed is None:
                continue
            used = {
                n.id
                for n in ast.walk(ast.parse(q.computed_by, mode="eval"))
                if isinstance(n, ast.Name)
            }
            assert used <= names, (
                f"{path.name}: {q.id}: computed_by uses {sorted(used - names)}, which "
                f"the chapter does not define before the end of {block.after!r}"
            )
            float(q.printed.replace(",", ""))  # a number (6,144 as printed)
            assert q.printed in shown, (
                f"{path.name}: {q.id}: the chapter prints no {q.printed!r} before the "
                f"end of {block.after!r}"
            )


def test_the_notebooks_show_every_block_where_the_data_says():
    """Each block's cell (booktools.book.quiz_cells) is in its notebook, at the end of
    the section the data file names, with the numbers the data file says to pass."""
    assert quiz_cells.main(["--check"]) == 0, "run python -m booktools.book.quiz_cells"
