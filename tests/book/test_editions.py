"""Editions: the public book and student notebooks leak no solution.

The instructor edition shows every solution; nbgrader grades every chapter's assignment
(full, zero, partial).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, exclusive

from booktools.book.config import chapter_notebooks
from booktools.book.editions import NOT_DONE, SOLUTION_TAG, student_notebook
from booktools.grading import assignment

CHAPTERS = chapter_notebooks(REPO_ROOT)
REPORT = REPO_ROOT / "_build" / "reports" / "editions.json"
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def output_text(output) -> str:
    """The text a reader sees of one cell output (streams, plain text, HTML)."""
    if "text" in output:
        return "".join(output["text"])
    data = output.get("data", {})
    return "".join(
        "".join(data.get(kind, ""))
        for kind in ("text/plain", "text/html", "text/markdown")
    )


def is_solution_cell(cell) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", [])


def split_master(master: Path) -> tuple[list[str], str]:
    """Split a master into (lines of its secrets, all its other text).

    The secrets are every solution region, hidden test and worked solution.
    """
    secret_lines, public_text = [], []
    for cell in nbformat.read(master, as_version=4).cells:
        if is_solution_cell(cell):
            secret_lines += [
                line
                for line in cell.source.splitlines()
                if not line.startswith((":::", "```", ":class:", ":label:"))
                and line.strip()
            ]
            continue
        for region in SOLUTION_REGION.findall(cell.source) + HIDDEN_REGION.findall(
            cell.source
        ):
            secret_lines += region.splitlines()
        public_text.append(HIDDEN_REGION.sub("", SOLUTION_REGION.sub("", cell.source)))
        public_text += [output_text(output) for output in cell.get("outputs", [])]
    return secret_lines, "\n".join(public_text)


@functools.cache
def public_corpus() -> str:
    """Everything the book may show.

    Every chapter without its solutions, the pages, the bibliography.
    """
    parts = [split_master(master)[1] for master in CHAPTERS]
    parts += [
        page.read_text()
        for page in [
            *(REPO_ROOT / "book").glob("*.md"),
            REPO_ROOT / "book" / "references.bib",
        ]
    ]
    return normalise("\n".join(parts))


def secrets_of(master: Path) -> list[str]:
    """Distinctive lines of the chapter's solutions.

    At least three words and 16 characters, and found nowhere in the public text of the
    book (a line such as `return x` proves nothing).
    """
    secrets = {normalise(line) for line in split_master(master)[0]}
    return sorted(
        s
        for s in secrets
        if len(s) >= 16
        and len(s.split()) >= 3
        and s not in public_corpus()
        and s != normalise(NOT_DONE)
    )


# -- the transformation itself ---------------------------------------------------------


def test_student_notebook_strips_solutions_and_keeps_the_rest():
    solution = nbformat.v4.new_code_cell(
        "def double(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2 * x\n"
        "    ### END SOLUTION\n",
        metadata={
            "nbgrader": {
                "grade": False,
                "solution": True,
                "locked": False,
                "schema_version": 3,
                "grade_id": "t-sol",
            }
        },
    )
    tests = nbformat.v4.new_code_cell(
        "check('double', lambda: None)\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert double(2) == 4\n"
        "### END HIDDEN TESTS\n",
        metadata={
            "nbgrader": {
                "grade": True,
                "solution": False,
                "locked": True,
                "points": 1,
                "schema_version": 3,
                "grade_id": "t-tests",
            }
        },
    )
    worked = nbformat.v4.new_markdown_cell(
        ":::{solution} ex\nDouble it.\n:::", metadata={"tags": ["solution"]}
    )
    prose = nbformat.v4.new_markdown_cell("Write `double`.")
    solution.outputs = [nbformat.v4.new_output("stream", text="4\n")]
    master = nbformat.v4.new_notebook(cells=[prose, solution, tests, worked])

    student = student_notebook(master)
    sources = [cell.source for cell in student.cells]
    assert sources[0] == "Write `double`."
    assert sources[1] == f"def double(x):\n    {NOT_DONE}\n"
    assert "assert double" not in sources[2] and "check('double'" in sources[2]
    assert len(student.cells) == 3, "the worked solution cell is removed"
    assert all(
        not cell.get("outputs") for cell in student.cells if cell.cell_type == "code"
    )
    assert "return 2 * x" in master.cells[1].source, "the master is not modified"


# -- book structure: exercises and solutions -------------------------------------------


@pytest.mark.parametrize("master", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_six_exercises_each_with_a_solution(master):
    nb = nbformat.read(master, as_version=4)
    labels, solved = [], set()
    current = None
    for cell in nb.cells:
        for label in re.findall(r":::\{exercise\}.*\n:label: ([\w-]+)", cell.source):
            labels.append(label)
            current = label
        for label in re.findall(r":::\{solution\} ([\w-]+)", cell.source):
            assert is_solution_cell(cell), (
                f"{master.name}: solution {label} is not tagged {SOLUTION_TAG!r}"
            )
            solved.add(label)
        if (
            cell.cell_type == "code"
            and cell.metadata.get("nbgrader", {}).get("solution")
            and current
        ):
            # a coding exercise's worked solution is its master code
            solved.add(current)
    assert len(labels) >= 6, f"{master.name} has {len(labels)} exercises, fewer than 6"
    assert len(labels) == len(set(labels)), f"{master.name}: duplicate exercise labels"
    missing = [label for label in labels if label not in solved]
    assert not missing, f"{master.name}: exercises without a worked solution: {missing}"
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(graded) >= 2, (
        f"{master.name}: fewer than two autograded coding exercises"
    )
    for cell in graded:
        assert "### BEGIN HIDDEN TESTS" in cell.source, (
            f"{master.name}: graded cell {cell.metadata['nbgrader']['grade_id']} "
            "has no hidden tests"
        )


# -- the public book leaks nothing -----------------------------------------------------


def public_artifacts(site: Path) -> list[Path]:
    files = [
        p
        for p in site.rglob("*")
        if p.is_file()
        and p.suffix in {".html", ".ipynb", ".txt", ".js", ".md", ".json"}
        and "_vendor" not in p.parts
        and "_static" not in p.parts
    ]
    files += list((REPO_ROOT / "_build" / "sources" / "public").rglob("*.ipynb"))
    return files


def artifact_text(path: Path) -> str:
    raw = path.read_text(errors="ignore")
    if path.suffix == ".html":
        from bs4 import BeautifulSoup

        raw = BeautifulSoup(raw, "html.parser").get_text("")
    elif path.suffix == ".ipynb":
        nb = json.loads(raw)
        raw = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
    return normalise(raw)


@pytest.mark.slow
def test_public_book_contains_no_solution(built_site):
    secrets = {master.stem: secrets_of(master) for master in CHAPTERS}
    assert any(secrets.values()), (
        "found no solutions at all in the masters: is the test broken?"
    )
    leaks = []
    for path in public_artifacts(built_site):
        raw = path.read_text(errors="ignore")
        leaks += [
            f"{path.relative_to(REPO_ROOT)}: marker {m!r}" for m in MARKERS if m in raw
        ]
        if path.suffix == ".html" and re.search(r'class="[^"]*\bsolution\b', raw):
            leaks.append(f"{path.relative_to(REPO_ROOT)}: a solution block")
        text = artifact_text(path)
        for chapter, lines in secrets.items():
            leaks += [
                f"{path.relative_to(REPO_ROOT)}: {chapter} solution line {line!r}"
                for line in lines
                if line in text
            ]
    assert not leaks, "solutions leak into the public book:\n" + "\n".join(leaks[:30])


@pytest.mark.slow
def test_search_index_holds_no_word_found_only_in_solutions(built_site):
    import snowballstemmer

    stem = snowballstemmer.stemmer("porter").stemWord

    def words(text: str, shortest: int = 1) -> set[str]:
        return {stem(w.lower()) for w in re.findall(rf"[A-Za-z]{{{shortest},}}", text)}

    solution_words, public_words = set(), set()
    for master in CHAPTERS:
        for cell in nbformat.read(master, as_version=4).cells:
            if is_solution_cell(cell):
                solution_words |= words(cell.source, shortest=6)
            else:
                public_words |= words(
                    SOLUTION_REGION.sub("", HIDDEN_REGION.sub("", cell.source))
                )
                for output in cell.get("outputs", []):
                    public_words |= words(output_text(output))
    for page in [
        *(REPO_ROOT / "book").glob("*.md"),
        REPO_ROOT / "book" / "references.bib",
    ]:
        public_words |= words(page.read_text())
    only_in_solutions = solution_words - public_words
    index = (built_site / "searchindex.js").read_text()
    # a term whose list of pages is empty ("word": []) is left over from an earlier,
    # incremental build and is on no page
    terms = set(re.findall(r'"([a-z0-9]+)"\s*:(?!\s*\[\])', index))
    leaked = sorted(only_in_solutions & terms)
    assert not leaked, (
        f"words found only in solutions are in the search index: {leaked[:20]}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("master", CHAPTERS, ids=lambda p: p.stem)
def test_public_chapter_reports_unfinished_exercises(built_site, master):
    """The public page ran the student version.

    Each coding exercise says it is not done yet.
    """
    nb = nbformat.read(master, as_version=4)
    checks = sum(
        1
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and "check(" in c.source
    )
    html = (built_site / "book" / f"{master.stem}.html").read_text()
    assert html.count("[not done yet]") >= checks >= 1


# -- the instructor edition ------------------------------------------------------------


@pytest.mark.slow
def test_instructor_edition_builds_strictly_and_shows_every_solution():
    result = subprocess.run(
        [sys.executable, "-m", "booktools.book.build", "--edition", "instructor"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"instructor build failed:\n{tail}"
    site = REPO_ROOT / "_build" / "instructor" / "_build" / "html"
    for master in CHAPTERS:
        nb = nbformat.read(master, as_version=4)
        html = (site / "book" / f"{master.stem}.html").read_text()
        worked = sum(
            1 for c in nb.cells if is_solution_cell(c) and c.cell_type == "markdown"
        )
        shown = len(re.findall(r'class="[^"]*\bsolution\b[^"]*\bdropdown\b', html))
        # a worked solution that computes (a code cell tagged solution) sits under a
        # toggle too: tagged hide-cell, its source and output are collapsed
        code = sum(1 for c in nb.cells if is_solution_cell(c) and c.cell_type == "code")
        collapsed = len(re.findall(r'class="cell tag_solution tag_hide-cell\b', html))
        assert collapsed == code, (
            f"{master.stem}: {code} solution code cells, {collapsed} collapsed "
            "(tag them hide-cell)"
        )
        assert shown == worked, (
            f"{master.stem}: {worked} worked solutions, {shown} shown under a toggle"
        )
        text = artifact_text(site / "book" / f"{master.stem}.html")
        code_solutions = [
            normalise(region)
            for c in nb.cells
            for region in SOLUTION_REGION.findall(c.source)
        ]
        for region in code_solutions:
            assert region[:40] in text, (
                f"{master.stem}: solution code missing: {region[:40]!r}"
            )


# -- autograding round trip ------------------------------------------------------------


def fill_every_other_exercise(student: Path, master: Path, target: Path) -> set[str]:
    """Copy of the student notebook with the first, third, ... solution cells
    completed (the master's code) and the others left blank; return the grade ids
    of those completed.

    Blank exercises between completed ones show that a later exercise does not lean
    on an earlier one being done."""
    solved = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(master, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(student, as_version=4)
    solutions = [
        cell
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
        and cell.metadata["nbgrader"]["grade_id"] in solved
    ]
    filled = set()
    for cell in solutions[::2]:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        cell.source = solved[grade_id]
        filled.add(grade_id)
    nbformat.write(nb, target)
    return filled


def exercise_of_each_cell(cells) -> list[str | None]:
    """For each cell, the grade id of the solution cell it follows (None before the
    first): a solution's tests come after it and before the next solution."""
    owner, owners = None, []
    for cell in cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            owner = cell.metadata["nbgrader"]["grade_id"]
        owners.append(owner)
    return owners


@pytest.mark.slow
@pytest.mark.parametrize("master", CHAPTERS, ids=lambda p: p.stem)
def test_autograding_round_trip(tmp_path, master):
    course = tmp_path / "course"
    student = assignment.create(master.stem, course)
    text = student.read_text()
    assert not [m for m in MARKERS if m in text], (
        "solution or hidden-test markers in the student notebook"
    )
    assert not [
        c for c in nbformat.read(student, as_version=4).cells if is_solution_cell(c)
    ]
    for line in secrets_of(master):
        assert line not in artifact_text(student), f"student notebook leaks {line!r}"

    def submission(student_id: str) -> Path:
        folder = course / "submitted" / student_id / master.stem
        folder.mkdir(parents=True)
        return folder / master.name

    # One submission: the student notebook with every other exercise completed. With
    # the master's run in the sandbox that create() made (it stops if the master
    # fails any of its graded cells, and records what they return), that is two runs
    # of the chapter. The blank exercises stand for the untouched notebook (they must
    # score nothing, every other cell still running); the completed ones for the
    # master (they must earn exactly their points, from what a second run of the
    # chapter returns). The master itself graded as a submission: chapter 1's class,
    # tests/grading/test_grading.py.
    filled = fill_every_other_exercise(student, master, submission("partial"))

    results = assignment.autograde(master.stem, course)
    (result,) = results.values()
    assert result.error is None and not result.flags, result.as_json()
    maximum = result.max_score
    graded_run = nbformat.read(
        course / "autograded" / "partial" / master.stem / master.name, as_version=4
    )
    exercise = exercise_of_each_cell(graded_run.cells)
    earned = sum(
        cell.metadata["nbgrader"].get("points", 0)
        for cell, owner in zip(graded_run.cells, exercise)
        if owner in filled and cell.metadata.get("nbgrader", {}).get("grade")
    )
    assert 0 < earned < maximum and result.score == earned, (
        f"completing {sorted(filled)} scores {result.score}/{maximum}; their tests "
        f"are worth {earned}, every other exercise should score 0"
    )

    # The notebook ran to the end: the only errors are the hidden tests of the graded
    # cells of exercises left blank, and every visible check of those said "not done
    # yet".
    for cell, owner in zip(graded_run.cells, exercise):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        is_graded = cell.metadata.get("nbgrader", {}).get("grade", False)
        blank = owner is not None and owner not in filled
        assert not errors or (is_graded and blank), (
            f"{master.stem}: a cell failed that should not: {cell.source[:80]!r}"
        )
        if is_graded and blank and "check(" in cell.source:
            shown = "".join(o.get("text", "") for o in cell.get("outputs", []))
            assert "[not done yet]" in shown, (
                f"{master.stem}: a check of a blank exercise did not report "
                "'not done yet'"
            )

    nb = nbformat.read(master, as_version=4)
    with exclusive(REPORT.with_suffix(".lock")):  # other workers add their chapters
        report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
        report[master.stem] = {
            "exercises": sum(
                len(re.findall(r":::\{exercise\}", c.source)) for c in nb.cells
            ),
            "autograded_points": maximum,
            "every_other_exercise_done": result.score,
        }
        REPORT.write_text(json.dumps(report, indent=2))


# -- the branch the public Colab buttons open ------------------------------------------


def test_student_branch_holds_public_notebooks(tmp_path):
    from booktools.book.editions import publish_student_branch

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout
    publish_student_branch("student-edition", repo=clone)
    for master in chapter_notebooks(clone):
        shown = subprocess.run(
            ["git", "show", f"student-edition:book/{master.name}"],
            cwd=clone,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert not [m for m in MARKERS if m in shown], (
            f"{master.name} on the branch has solutions"
        )
        assert json.loads(shown)["cells"], f"{master.name} on the branch is empty"
    after = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout
    assert after == head, "publishing the branch must not move the current branch"


def test_colab_installs_dlbook_from_the_student_edition_branch():
    """The public Colab path holds no solutions: main holds the masters."""
    from booktools.book.editions import STUDENT_BRANCH
    from booktools.book.setup_cell import colab_install_source, first_code_cell

    source = colab_install_source()
    assert source.endswith(f"@{STUDENT_BRANCH}"), source
    for master in CHAPTERS:
        nb = nbformat.read(master, as_version=4)
        cell = nb.cells[first_code_cell(nb)].source
        assert f'"{source}"' in cell and "@main" not in cell, master.name
