"""The hidden tests test: every catalogued wrong answer loses marks on its question, and only there.

`tests/wrong_answers/NN_name.py` lists, per question of exercise NN, answers that students really write (a kernel
not flipped, an off-by-one size, ceil for floor, padding counted once, the wrong axis summed, a bias forgotten, ...),
each as the full source of the question's answer cell. For each variant this test copies the worked solution,
replaces that one cell, and grades all of an exercise's variants in one batch of the real grader. A variant must
score less than full marks on its question and full marks on every other question, except the questions that
`AFFECTS` says reuse its answer (exercise 1's `convolve2d` calls the student's `corr2d`).
"""
from __future__ import annotations

import ast
import copy
import inspect
import runpy
from pathlib import Path
from typing import Dict, List, Set

import nbformat
import pytest

from conftest import ROOT
from grading.checks import local_verdict
from grading.grade import grade
from grading.material import Exercise, forbidden_by, load_exercises
from grading.report import Row
from grading.sandbox import Limits

pytestmark = pytest.mark.grading
CATALOGUE = Path(__file__).with_name("wrong_answers")
EXERCISES = sorted(p.stem for p in CATALOGUE.glob("[0-9][0-9]_*.py"))


def _catalogue(name: str) -> dict:
    return runpy.run_path(str(CATALOGUE / f"{name}.py"))


def _defined(source: str) -> Set[str]:
    """The names a cell defines at top level (functions, classes, assignments)."""
    names: Set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    return names


def _with_answer(solution: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """The solution with the one code cell that defines what `source` defines replaced by `source` (which may also
    define helpers of its own, such as a class for the answer)."""
    wanted = _defined(source)
    cells = [c for c in solution.cells if c.cell_type == "code" and _defined(c.source) & wanted]
    assert len(cells) == 1, f"the variant defines {sorted(wanted)}, found in {len(cells)} solution cells"
    assert _defined(cells[0].source) <= wanted, \
        f"the variant must redefine all of {sorted(_defined(cells[0].source))}, it defines {sorted(wanted)}"
    notebook = copy.deepcopy(solution)
    notebook.cells[solution.cells.index(cells[0])].source = source
    return notebook


def local_disagreements(notebook: nbformat.NotebookNode, exercise: Exercise, rows: Dict[str, Row]) -> List[str]:
    """Where a student's own check (the public tests' `no_library()`, run in a kernel that ran the notebook top to
    bottom) would judge the answer's source otherwise than the grader's row for its question."""
    history = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    found = []
    for question in exercise.questions:
        for test in (t for t in question.tests if not t.hidden):
            forbids = forbidden_by(test.source)
            if not forbids.library:
                continue
            names = [a.arg for a in ast.parse(test.source).body[0].args.args if a.arg != "env"]
            local = local_verdict(history, names, forbids.autograd, forbids.allow, forbids.forbid)
            local = local and (local[0], local[1].replace("(input ", "(code cell "))   # a kernel numbers inputs
            row = rows[question.name]
            graded = (row.status, row.message) if row.message.startswith(("forbidden: the answer uses",
                                                                          "needs a person")) else None
            if (local and (local[0], local[1].split("; tests alone")[0])) != \
                    (graded and (graded[0], graded[1].split("; tests alone")[0])):
                found.append(f"{question.name}: locally {local}, graded {graded}")
    return found


def public_check_failures(notebook: nbformat.NotebookNode, exercise: Exercise, question: str) -> List[str]:
    """What a student's own check of `question` says after running the notebook top to bottom in one Python
    namespace, as a kernel would: each public test's failure, [] when they all pass. For a question judged by what
    the answer computes rather than by its source (exercise 7's CNN, judged on test images the notebook never
    loads), this is the agreement with the grader that `local_disagreements` cannot see."""
    namespace: Dict[str, object] = {"__name__": "__main__"}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), namespace)
    failures = []
    for test in next(q for q in exercise.questions if q.name == question).tests:
        if test.hidden:
            continue
        scope: Dict[str, object] = {}
        exec(compile(test.source, f"<test {test.name}>", "exec"), scope)
        function = scope[test.name]
        try:
            function(**{name: namespace[name] for name in inspect.signature(function).parameters})
        except AssertionError as error:
            failures.append(f"{test.name}: {error}")
    return failures


def test_every_exercise_has_a_catalogue_covering_every_question() -> None:
    material = load_exercises()
    assert EXERCISES == sorted(material)
    for name in EXERCISES:
        catalogue = _catalogue(name)
        questions = [q.name for q in material[name].questions]
        assert sorted(catalogue["WRONG"]) == sorted(questions), name
        assert all(len(variants) >= 2 for variants in catalogue["WRONG"].values()), name
        assert set(catalogue.get("AFFECTS", {})) <= set(questions), name


def test_variants_replace_exactly_one_answer_cell() -> None:
    for name in EXERCISES:
        solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        for variants in _catalogue(name)["WRONG"].values():
            for source in variants.values():
                _with_answer(solution, source)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_wrong_answers_lose_marks_on_their_question_only(sandbox_works, name: str, tmp_path: Path) -> None:
    catalogue = _catalogue(name)
    affects: Dict[str, List[str]] = catalogue.get("AFFECTS", {})
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    variants, notebooks = {}, {}
    for question, answers in catalogue["WRONG"].items():
        for index, (label, source) in enumerate(answers.items()):
            path = tmp_path / f"{question}-{index:02d}" / f"{name}.ipynb"   # one notebook per variant
            path.parent.mkdir()
            notebooks[str(path)] = _with_answer(solution, source)
            nbformat.write(notebooks[str(path)], path)
            variants[str(path)] = (question, label)
    rows = grade([str(tmp_path)], Limits(timeout=60.0), jobs=2)   # one batch for the whole exercise
    by_variant: Dict[str, Dict[str, object]] = {}
    for row in rows:
        by_variant.setdefault(row.submission, {})[row.question] = row
    escaped = []
    for path, (question, label) in variants.items():
        mine = by_variant[path]
        if question not in mine:   # a '*' row: the grader could not grade this file at all
            escaped.append(f"{question} / {label!r}: not graded: {[(r.status, r.message[:300]) for r in mine.values()]}")
            continue
        if mine[question].points >= mine[question].max_points:
            escaped.append(f"{question} / {label!r}: full marks")
        for other, row in mine.items():
            if other != question and other not in affects.get(question, []) and row.points < row.max_points:
                escaped.append(f"{question} / {label!r}: also cost {other} ({row.status}: {row.message[:400]})")
        escaped += [f"{question} / {label!r}: {why}"
                    for why in local_disagreements(notebooks[path], load_exercises()[name], mine)]
    assert not escaped, "\n".join(escaped)


@pytest.mark.slow
def test_a_students_check_of_a_wrong_cnn_fails_as_the_grader_does(mnist_dir: Path, one_torch_thread: None) -> None:
    name = "07_lenet_mnist"
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    exercise = load_exercises()[name]
    catalogue = _catalogue(name)
    graded_only = catalogue["WRONG_ONLY_IN_A_GRADED_RUN"]["beat_the_mlp"]
    passed = [label for label, source in catalogue["WRONG"]["beat_the_mlp"].items()
              if label not in graded_only
              and not public_check_failures(_with_answer(solution, source), exercise, "beat_the_mlp")]
    assert not passed, f"a student's check passes these wrong answers, which the grader fails: {passed}"
