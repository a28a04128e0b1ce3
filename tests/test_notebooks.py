"""Every teaching notebook ran top to bottom in a fresh kernel without error, and every worked solution runs too.

Chapters are source code: they are committed without outputs, so a diff shows only what an author changed. The site
build (`make book`) executes each chapter once, in a fresh kernel, and keeps the executed copy in its jupyter-cache,
keyed by the chapter's code; the tests here read that copy rather than execute the chapter a second time. A chapter
checks its own numbers with asserts in its cells, so a copy with no error output is a chapter whose values held.

Worked solutions are not executed by the build (`execution_mode: off`), and the grader runs their cells but scores
only the graded tests, so they are executed here.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
# Where the build keeps executed notebooks: _config.yml's execute.cache, relative to the book's root.
CACHE = ROOT / yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["execute"]["cache"]
# What a reader must never see under a cell: a traceback, or a warning printed by a library.
TROUBLE = re.compile(r"Traceback \(most recent call last\)|\b\w*Warning: ")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.fixture(scope="module")
def cache():
    if not CACHE.is_dir():
        pytest.skip(f"the site is not built (no {CACHE.relative_to(ROOT)}): run `make book` first (make test does)")
    from jupyter_cache import get_cache

    return get_cache(CACHE)


def problems(notebook: nbformat.NotebookNode) -> List[str]:
    """What went wrong in an executed notebook, one line per cell: a cell not run, an error, a traceback or a
    warning in its output. Cells tagged `raises-exception` show an error on purpose."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.execution_count is None and cell.source.strip():
            found.append(f"cell {index} was not executed")
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index} raised {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and TROUBLE.search(output.text):
                found.append(f"cell {index} printed to {output.name}: {TROUBLE.search(output.text).group(0)}")
    return found


@pytest.mark.built
@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_chapter_ran_without_error_in_the_build(cache, path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    try:
        _, executed = cache.merge_match_into_notebook(notebook)
    except KeyError:
        pytest.fail(f"{path.name}: the build's cache holds no run of its current code: either its execution failed "
                    "(see `make book`'s log) or the chapter changed after the last build; run `make book`")
    found = problems(executed)
    assert not found, f"{path.name}: " + "; ".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_solution_runs_in_a_fresh_kernel(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()


def test_problems_finds_errors_warnings_and_cells_not_run() -> None:
    ok = nbformat.v4.new_code_cell("1", execution_count=1, outputs=[nbformat.v4.new_output("stream", text="fine\n")])
    raised = nbformat.v4.new_code_cell("1/0", execution_count=2, outputs=[
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])])
    warned = nbformat.v4.new_code_cell("f()", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="x.py:3: UserWarning: deprecated\n")])
    skipped = nbformat.v4.new_code_cell("2")
    on_purpose = nbformat.v4.new_code_cell("1/0", execution_count=4, metadata={"tags": ["raises-exception"]},
                                           outputs=[raised.outputs[0]])
    notebook = nbformat.v4.new_notebook(cells=[ok, raised, warned, skipped, on_purpose])
    assert problems(notebook) == ["cell 1 raised ZeroDivisionError: division by zero",
                                  "cell 2 printed to stderr: UserWarning: ", "cell 3 was not executed"]


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_chapter_is_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them (the site build executes the notebook)"


def test_every_chapter_is_in_the_table_of_contents() -> None:
    toc = (ROOT / "_toc.yml").read_text()
    missing = [p.stem for p in CHAPTERS if f"chapters/{p.stem}" not in toc]
    assert not missing, f"chapters missing from _toc.yml: {missing}"


def test_the_instructor_build_lists_every_page_of_the_public_one() -> None:
    """`make instructor` builds from _toc_instructor.yml: a page missing there breaks that build (the appendices
    are lettered by name) and leaves the instructor's site short of it."""
    import re
    entries = re.compile(r"^\s*- (?:file|glob): (\S+)", flags=re.M)
    public = entries.findall((ROOT / "_toc.yml").read_text())
    instructor = set(entries.findall((ROOT / "_toc_instructor.yml").read_text()))
    assert [page for page in public if page not in instructor] == []
