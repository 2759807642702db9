"""Read the book's configuration (``_config.yml`` at the repository root)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BOOK_DIR = REPO_ROOT / "book"


def load_config(root: Path = REPO_ROOT) -> dict:
    with open(root / "_config.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def install_source(config: dict | None = None) -> str:
    """The pip requirement Colab installs ``dlbook`` from.

    That is the repository and branch configured in ``_config.yml``.
    """
    config = config or load_config()
    repo = config["repository"]
    url = repo["url"].rstrip("/")
    return f"dlbook @ git+{url}@{repo.get('branch', 'main')}"


def toc_files(root: Path = REPO_ROOT) -> list[str]:
    """Every page named in ``_toc.yml`` (root first), in book order.

    Each page is given as its path without suffix.
    """
    with open(root / "_toc.yml", encoding="utf-8") as handle:
        toc = yaml.safe_load(handle)
    files: list[str] = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in toc.items() if key != "root"})
    return files


def chapter_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """The chapter notebooks listed in ``_toc.yml``, in book order."""
    return [
        root / f"{f}.ipynb" for f in toc_files(root) if (root / f"{f}.ipynb").exists()
    ]
