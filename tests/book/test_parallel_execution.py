"""booktools.book.parallel_execution: the build's chapters run side by side and land in
myst-nb's execution cache as if myst-nb had run them."""

from __future__ import annotations

import nbformat
from jupyter_cache import get_cache

from booktools.book.parallel_execution import fill_cache, uncached


def notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_runs_what_is_not_cached_and_caches_only_what_succeeded(tmp_path):
    cache_path = tmp_path / "cache"
    good = notebook(tmp_path / "good.ipynb", "import os\nprint(6 * 7, os.getcwd())")
    bad = notebook(tmp_path / "bad.ipynb", "print('before')", "1 / 0")
    outcome = fill_cache([good, bad], cache_path, timeout=60, jobs=2)

    assert isinstance(outcome[good], float) and outcome[good] > 0
    assert outcome[bad] == "CellExecutionError"
    assert uncached([good, bad], cache_path) == [bad]
    # what the build gets from the cache: the outputs, run in the notebook's folder
    cache = get_cache(str(cache_path))
    record = cache.match_cache_notebook(nbformat.read(good, as_version=4))
    assert record.data["execution_seconds"] == outcome[good]
    _, merged = cache.merge_match_into_notebook(nbformat.read(good, as_version=4))
    assert merged.cells[0].outputs[0]["text"] == f"42 {tmp_path}\n"

    # a second call runs only the notebook that failed; a changed notebook runs again
    assert list(fill_cache([good, bad], cache_path, timeout=60)) == [bad]
    notebook(good, "print(6 * 9)")
    assert uncached([good], cache_path) == [good]
