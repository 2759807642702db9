"""Build the HTML book with Jupyter Book 1, strictly.

    python -m booktools.book.build
        the public book, into _build/html
    python -m booktools.book.build --edition instructor
        with solutions, into _build/instructor/_build/html, and the lecture slides
        (booktools.book.slides) into its slides/
    python -m booktools.book.build --only book/01_perceptron --output /tmp/ch1
        one chapter (with the preface), elsewhere

Warnings are errors (-W), broken references are errors (-n), and a cell that raises
stops the build (see `execute` in _config.yml).

A public build that succeeds leaves a digest of its sources in _build/html (``STAMP``):
the tests use the book as built as long as ``is_current()`` says nothing changed.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from booktools.book import editions, parallel_execution, setup_cell, slides
from booktools.book.config import REPO_ROOT, chapter_notebooks

STAMP = REPO_ROOT / "_build" / "html" / ".sources.sha256"


def sources_digest() -> str:
    """A digest of everything the public build reads: the configuration, the pages and
    chapters, and the code the chapters run (dlbook) or that builds them (booktools)."""
    digest = hashlib.sha256()
    files = [REPO_ROOT / "_config.yml", REPO_ROOT / "_toc.yml"]
    for folder in ("book", "src"):
        files += sorted((REPO_ROOT / folder).rglob("*"))
    for path in files:
        generated = {"__pycache__", ".ipynb_checkpoints", "dlbook.egg-info"}
        if path.is_file() and not generated.intersection(path.parts):
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def is_current() -> bool:
    """True when _build/html was built from the sources as they are now."""
    return STAMP.exists() and STAMP.read_text() == sources_digest()


def jupyter_book_build(source_dir: Path, output_dir: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(source_dir),
        "--path-output",
        str(output_dir),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
        # every page read again: an incremental build would skip a page that failed
        # last time and so pass without its warnings (the notebooks' execution is
        # cached separately, by content, so this costs seconds, not a re-run)
        "--all",
    ]
    subprocess.run(command, check=True)


def run_uncached_chapters(source_dir: Path) -> None:
    """Execute, on every core, the chapters this build would execute one by one."""
    config = yaml.safe_load((source_dir / "_config.yml").read_text())
    execute = config["execute"]
    if execute["execute_notebooks"] != "cache":
        return
    excluded = set(execute.get("exclude_patterns", []))
    notebooks = [
        source_dir / path.relative_to(REPO_ROOT)
        for path in chapter_notebooks()
        if path.relative_to(REPO_ROOT).as_posix() not in excluded
    ]
    parallel_execution.fill_cache(
        notebooks, source_dir / execute["cache"], timeout=execute["timeout"]
    )


def single_chapter_source(chapter: str, workdir: Path) -> Path:
    """A throw-away copy of the book's configuration in which only ``chapter`` runs.

    Every page stays in the table of contents (so cross-references resolve); the other
    chapters are rendered from their stored outputs instead of being run again.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    others = [
        p.relative_to(REPO_ROOT).as_posix()
        for p in chapter_notebooks()
        if p.relative_to(REPO_ROOT).with_suffix("").as_posix() != chapter
    ]
    config["execute"]["exclude_patterns"] = others
    config["execute"]["cache"] = str(workdir.parent / ".jupyter_cache")
    (workdir / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(REPO_ROOT / "_toc.yml", workdir / "_toc.yml")
    link = workdir / "book"
    if not link.exists():
        link.symlink_to(REPO_ROOT / "book", target_is_directory=True)
    return workdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--edition",
        choices=["public", "instructor"],
        default="public",
        help="public: no solutions (default); instructor: every solution shown",
    )
    parser.add_argument(
        "--only", metavar="book/NN_name", help="build just this chapter"
    )
    parser.add_argument(
        "--output", type=Path, help="output folder (default: the repository root)"
    )
    args = parser.parse_args(argv)
    if setup_cell.main(["--check"]) != 0:
        return 1
    source, output = _source_and_output(parser, args)
    public = args.edition == "public" and not args.only and not args.output
    digest = sources_digest() if public else None  # before: an edit during the build
    start = time.perf_counter()
    run_uncached_chapters(source)
    try:
        jupyter_book_build(source, output)
    except subprocess.CalledProcessError as error:
        print(
            f"error: the book build failed (exit {error.returncode}); "
            "see the messages above",
            file=sys.stderr,
        )
        return 1
    if digest is not None:
        STAMP.write_text(digest)
    if args.edition == "instructor" and not args.only:
        # the lecture decks, made from the public edition: no solution on a slide
        if slides.main(["--output", str(output / "_build" / "html" / "slides")]) != 0:
            return 1
    print(
        f"built {output / '_build' / 'html' / 'index.html'} "
        f"in {time.perf_counter() - start:.0f} s"
    )
    return 0


def _source_and_output(parser, args) -> tuple[Path, Path]:
    """(the sources to build, the output folder) for the chapter or edition asked."""
    if args.only:
        chapter = args.only.removesuffix(".ipynb")
        if REPO_ROOT / f"{chapter}.ipynb" not in chapter_notebooks():
            parser.error(f"--only: no notebook {chapter}.ipynb in the repository")
        output = args.output or Path("/tmp") / f"dlbook-{Path(chapter).name}"
        return single_chapter_source(chapter, output / "source"), output
    if args.edition == "public":
        source = editions.make_public_source(
            REPO_ROOT / "_build" / "sources" / "public"
        )
        return source, args.output or REPO_ROOT
    source = editions.make_instructor_source(
        REPO_ROOT / "_build" / "sources" / "instructor"
    )
    return source, args.output or REPO_ROOT / "_build" / "instructor"


if __name__ == "__main__":
    sys.exit(main())
