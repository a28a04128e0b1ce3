"""The exercises are generated, never edited: every generated file matches its source, and nothing secret leaks.

`python -m grading.build --check` regenerates the notebooks and the test lists from grading/source/ (through
otter assign) and compares them with the committed files; the reference values carry the digest of the source they
were recorded from.
"""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

pytestmark = pytest.mark.grading
SOURCES = sorted(p.stem for p in (ROOT / "grading" / "source").glob("*.py"))


def _material(name: str) -> dict:
    return json.loads((ROOT / "grading" / "autograder" / f"{name}.json").read_text())


@pytest.mark.slow
def test_generated_files_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, "-m", "grading.build", "--check"], capture_output=True, text=True,
                            cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", SOURCES)
def test_reference_values_come_from_the_current_source(name: str) -> None:
    import hashlib
    material = _material(name)
    source = (ROOT / "grading" / "source" / f"{name}.py").read_text()
    assert material["source_sha256"] == hashlib.sha256(source.encode()).hexdigest(), \
        f"{name}: run `python -m grading.build {name}`"
    for question in material["questions"]:
        for test in question["tests"]:
            assert test["name"] in material["reference"][question["name"]]


@pytest.mark.parametrize("name", SOURCES)
def test_student_notebook_hides_solutions_and_hidden_tests(name: str) -> None:
    exercise = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    text = nbformat.writes(exercise)
    material = _material(name)
    hidden = [t["name"] for q in material["questions"] for t in q["tests"] if t["hidden"]]
    public = [t["name"] for q in material["questions"] for t in q["tests"] if not t["hidden"]]
    assert hidden and all(f"def {t}(" not in text for t in hidden)
    assert all(f"def {t}(" in text for t in public)   # public tests travel in the metadata, for grader.check
    assert "BEGIN SOLUTION" not in text and "# SOLUTION" not in text and '"reference"' not in text
    assert exercise.metadata["book"] == {"exercise": name}
    assert exercise.metadata["mystnb"] == {"execution_mode": "off"}
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", SOURCES)
def test_solution_notebook_is_clean(name: str) -> None:
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    text = nbformat.writes(solution)
    assert "BEGIN SOLUTION" not in text and "= ..." not in text and "otter" not in text
    assert solution.metadata["book"] == {"exercise": name, "solution": True}
