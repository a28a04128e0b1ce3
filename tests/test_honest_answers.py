"""The hidden tests test: honest answers lose no marks (the forbidden-library policy's false positives).

`tests/honest_answers/NN_name.py` lists correct answers written the ways students write them (loops, list
comprehensions, `torch.stack`, `einsum`, im2col by hand, numpy inside the answer, classes with `forward`/`backward`,
recursion, helpers in other cells, prints and plots), each with optional extra cells that students add around
them: shell escapes and magics, `help`, a first draft built on `F.conv2d` that the answer later redefines, a cell
checking the answer against `torch.nn.functional.conv2d` or SciPy. A variant is the worked solution with its
answer cells replaced (an answer may also define helpers of its own), the `before` cells inserted after the first
code cell and the `after` cells appended; a string starting with "#md:" is a markdown cell. Graded in one batch
per exercise, every variant must earn full marks on every question, and a student's own check must say so too.
"""
from __future__ import annotations

import copy
import runpy
from pathlib import Path
from typing import Dict, List

import nbformat
import pytest

from conftest import ROOT
from grading.grade import grade
from grading.material import load_exercises
from grading.sandbox import Limits
from test_wrong_answers import _defined, local_disagreements, public_check_failures

pytestmark = pytest.mark.grading
CATALOGUE = Path(__file__).with_name("honest_answers")
EXERCISES = sorted(p.stem for p in CATALOGUE.glob("[0-9][0-9]_*.py"))
MARKDOWN = "#md:"


def _catalogue(name: str) -> Dict[str, dict]:
    return runpy.run_path(str(CATALOGUE / f"{name}.py"))["HONEST"]


def _solution(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)


def _answer_cell(solution: nbformat.NotebookNode, source: str) -> int:
    """The index of the one solution code cell that `source` replaces: `source` redefines all its names (and may
    define helpers of its own that no other cell defines)."""
    wanted = _defined(source)
    cells = [i for i, c in enumerate(solution.cells) if c.cell_type == "code" and _defined(c.source) & wanted]
    assert len(cells) == 1, f"the answer defines {sorted(wanted)}, found in {len(cells)} solution cells"
    assert _defined(solution.cells[cells[0]].source) <= wanted, \
        f"the answer must redefine all of {sorted(_defined(solution.cells[cells[0]].source))}"
    return cells[0]


def _cell(source: str) -> nbformat.NotebookNode:
    if source.startswith(MARKDOWN):
        return nbformat.v4.new_markdown_cell(source[len(MARKDOWN):].strip())
    return nbformat.v4.new_code_cell(source.strip("\n"))


def build(solution: nbformat.NotebookNode, variant: dict) -> nbformat.NotebookNode:
    """The solution with the variant's answers in place and its extra cells added."""
    notebook = copy.deepcopy(solution)
    for source in variant.get("answers", []):
        notebook.cells[_answer_cell(solution, source)].source = source.strip("\n")
    first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells[first + 1:first + 1] = [_cell(s) for s in variant.get("before", [])]
    notebook.cells.extend(_cell(s) for s in variant.get("after", []))
    return notebook


def test_every_exercise_has_honest_answers_that_replace_one_cell_each() -> None:
    material = load_exercises()
    assert EXERCISES == sorted(material)
    for name in EXERCISES:
        catalogue, solution = _catalogue(name), _solution(name)
        assert len(catalogue) >= 6, name
        replaced = set()
        for label, variant in catalogue.items():
            assert variant.get("answers") or variant.get("before") or variant.get("after"), (name, label)
            indices = [_answer_cell(solution, source) for source in variant.get("answers", [])]
            assert len(indices) == len(set(indices)), (name, label, "two answers replace the same cell")
            replaced |= set(indices)
            build(solution, variant)
        assert len(replaced) >= min(3, len(material[name].questions)), name   # spread over the questions


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_honest_answers_earn_full_marks(sandbox_works, name: str, tmp_path: Path) -> None:
    solution = _solution(name)
    variants, notebooks = {}, {}
    for index, (label, variant) in enumerate(_catalogue(name).items()):
        path = tmp_path / f"{index:02d}" / f"{name}.ipynb"   # one notebook per variant
        path.parent.mkdir()
        notebooks[str(path)] = build(solution, variant)
        nbformat.write(notebooks[str(path)], path)
        variants[str(path)] = label
    rows = grade([str(tmp_path)], Limits(timeout=60.0), jobs=2)   # one batch for the whole exercise
    by_variant: Dict[str, List[object]] = {}
    for row in rows:
        by_variant.setdefault(row.submission, []).append(row)
    lost = [f"{label!r} / {row.question}: {row.status} {row.points}/{row.max_points}: {row.message[:300]}"
            for path, label in variants.items() for row in by_variant[path]
            if row.points < row.max_points or row.status != "passed"]
    exercise = load_exercises()[name]   # and a student's own check agrees with the grader
    lost += [f"{label!r}: {why}" for path, label in variants.items()
             for why in local_disagreements(notebooks[path], exercise, {r.question: r for r in by_variant[path]})]
    assert not lost, "\n".join(lost)


@pytest.mark.slow
def test_a_students_check_of_an_honest_cnn_passes_as_the_grader_does(mnist_dir: Path,
                                                                     one_torch_thread: None) -> None:
    name = "07_lenet_mnist"
    solution, exercise = _solution(name), load_exercises()[name]
    cnn_cell = next(i for i, c in enumerate(solution.cells) if c.cell_type == "code" and "cnn" in _defined(c.source))
    variants = {label: variant for label, variant in _catalogue(name).items()
                if any(_answer_cell(solution, source) == cnn_cell for source in variant.get("answers", []))}
    assert len(variants) >= 2
    failed = {label: failures for label, variant in variants.items()
              if (failures := public_check_failures(build(solution, variant), exercise, "beat_the_mlp"))}
    assert not failed, failed
