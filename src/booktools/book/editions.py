"""The book's editions, made from the master notebooks in ``book/``.

The masters hold every solution.

- public:     what readers of the HTML book get. Solution code is replaced by a stub
              that says the exercise is not done yet, hidden tests and worked-solution
              cells are removed, outputs are cleared (the build executes the notebooks
              again).
- instructor: the master notebooks as they are, every solution shown under a toggle.

The stripping is done by nbgrader's own preprocessors (``ClearSolutions``,
``ClearHiddenTests``) and nbconvert's ``TagRemovePreprocessor`` for worked-solution
markdown cells tagged ``solution``, the same ones ``nbgrader generate_assignment`` runs
(see ``booktools.grading.assignment``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml
from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from booktools.book.config import REPO_ROOT, chapter_notebooks, load_config
from dlbook.exercises import NOT_DONE_MESSAGE

SOLUTION_TAG = "solution"
# the stub that replaces a coding exercise's solution; its message is the one that
# dlbook.exercises.check recognises as "not done yet"
NOT_DONE = f'raise NotImplementedError("{NOT_DONE_MESSAGE}")'
CODE_STUB = {"python": NOT_DONE}
# The public book's Colab buttons open this branch, which holds the public notebooks
# (`python -m booktools.book.editions student-branch` makes it); everything else uses
# the repository and branch configured in _config.yml.
STUDENT_BRANCH = "student-edition"


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a master notebook without its solutions, hidden tests and outputs."""
    nb = nbformat.from_dict(nb)  # deep copy: never touch the caller's notebook
    resources = {"language": "python"}
    steps = [
        TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True),
        ClearSolutions(code_stub=CODE_STUB),
        ClearHiddenTests(),
        # a master's outputs can show what its solutions compute
        ClearOutputPreprocessor(),
    ]
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def _write_if_changed(path: Path, data: bytes) -> None:
    """Leave unchanged files untouched, so a rebuild with nothing changed is quick."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _copy_book(destination: Path, transform=None) -> None:
    """Mirror _toc.yml and book/ into ``destination``.

    Chapter notebooks pass through ``transform`` on the way.
    """
    chapters = set(chapter_notebooks())
    wanted = {destination / "_toc.yml"}
    _write_if_changed(destination / "_toc.yml", (REPO_ROOT / "_toc.yml").read_bytes())
    for source in sorted((REPO_ROOT / "book").rglob("*")):
        if (
            source.is_dir()
            or ".ipynb_checkpoints" in source.parts
            or "__pycache__" in source.parts
        ):
            continue
        target = destination / source.relative_to(REPO_ROOT)
        wanted.add(target)
        if source in chapters and transform is not None:
            nb = transform(nbformat.read(source, as_version=4))
            _write_if_changed(target, nbformat.writes(nb).encode("utf-8"))
        else:
            _write_if_changed(target, source.read_bytes())
    # pages deleted from book/ since the last build
    for stale in (destination / "book").rglob("*"):
        if stale.is_file() and stale not in wanted:
            stale.unlink()


def _write_config(destination: Path, config: dict) -> None:
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    _write_if_changed(destination / "_config.yml", text.encode("utf-8"))


def make_public_source(destination: Path) -> Path:
    """Write the public edition's sources (config, toc, book/) into ``destination``."""
    _copy_book(destination, transform=student_notebook)
    config = load_config()
    config["repository"]["branch"] = STUDENT_BRANCH
    config["execute"]["cache"] = str(REPO_ROOT / "_build" / ".jupyter_cache" / "public")
    _write_config(destination, config)
    return destination


def make_instructor_source(destination: Path) -> Path:
    """Write the instructor edition's sources: the masters, with a title that says so.

    Their stored outputs are used as they are (the tests check them against fresh
    runs), so this build does not execute the notebooks again.
    """
    _copy_book(destination)
    config = load_config()
    config["title"] = f"{config['title']} (instructor edition)"
    config["execute"]["execute_notebooks"] = "off"
    config["html"]["extra_footer"] = (
        "Instructor edition: contains the solutions to every exercise. Do not publish."
    )
    _write_config(destination, config)
    return destination


def publish_student_branch(branch: str = STUDENT_BRANCH, repo: Path = REPO_ROOT) -> str:
    """Commit the public notebooks onto ``branch`` (made if new); return the commit id.

    The branch holds the current commit's tree with every chapter notebook replaced by
    its public version, so the book's Colab buttons open notebooks without solutions.
    Push it with ``git push origin student-edition``. The working tree and the current
    branch are untouched.
    """
    tree = _student_tree(repo)
    head = _branch_head(repo, branch)
    parents = ["-p", head] if head is not None else []
    source = _git(repo, "rev-parse", "--short", "HEAD")
    commit = _git(
        repo,
        "commit-tree",
        tree,
        *parents,
        "-m",
        f"Student edition of {source}: solutions removed",
    )
    _git(repo, "update-ref", f"refs/heads/{branch}", commit)
    return commit


def _git(repo: Path, *args: str, env=None, stdin: bytes | None = None) -> str:
    """Run git in ``repo``; return its output (raises if git fails)."""
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, input=stdin, env=env
    )
    return done.stdout.decode().strip()


def _student_tree(repo: Path) -> str:
    """Write the tree of HEAD with the chapters' public versions; return its id.

    It is built in an index file of its own, so that neither the working tree nor the
    repository's index changes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(repo, "read-tree", "HEAD", env=env)
        for master in chapter_notebooks(repo):
            nb = student_notebook(nbformat.read(master, as_version=4))
            data = nbformat.writes(nb).encode("utf-8")
            blob = _git(repo, "hash-object", "-w", "--stdin", stdin=data)
            entry = f"100644,{blob},{master.relative_to(repo)}"
            _git(repo, "update-index", "--add", "--cacheinfo", entry, env=env)
        return _git(repo, "write-tree", env=env)


def _branch_head(repo: Path, branch: str) -> str | None:
    """The commit ``branch`` points at, or None if there is no such branch yet."""
    ref = f"refs/heads/{branch}"
    exists = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", ref], cwd=repo, capture_output=True
    )
    return _git(repo, "rev-parse", ref) if exists.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Editions of the book.")
    sub = parser.add_subparsers(dest="command", required=True)
    publish = sub.add_parser(
        "student-branch", help="commit the public notebooks onto a branch for Colab"
    )
    publish.add_argument("--branch", default=STUDENT_BRANCH)
    args = parser.parse_args(argv)
    commit = publish_student_branch(args.branch)
    print(
        f"branch {args.branch} now at {commit[:12]}; "
        f"publish it with: git push origin {args.branch}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
