"""The student copy (`make student`): everything a student runs, and no solution or hidden test."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from grading.release import release

pytestmark = pytest.mark.grading


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    destination = tmp_path_factory.mktemp("release") / "student"
    release(destination)
    return destination


def _secrets() -> set:
    """Distinctive lines of the hidden tests and of the worked answers that nothing public already prints: the
    handouts' given code, their public tests and starter code, and the teaching (the chapters and `book`)."""
    public = "\n".join(p.read_text() for folder in ("chapters", "book", "grading/source/_starter")
                       for p in (ROOT / folder).rglob("*")
                       if p.suffix in (".py", ".ipynb") and "__pycache__" not in p.parts)
    public += "\n".join(test["source"] for material in (ROOT / "grading" / "autograder").glob("*.json")
                        for question in json.loads(material.read_text())["questions"]
                        for test in question["tests"] if not test["hidden"])
    public += "\n".join(cell.source for handout in (ROOT / "exercises").glob("*.ipynb")
                        for cell in nbformat.read(handout, as_version=4).cells if cell.cell_type == "code")
    lines = set()
    for material in (ROOT / "grading" / "autograder").glob("*.json"):
        for question in json.loads(material.read_text())["questions"]:
            for test in question["tests"]:
                if test["hidden"]:   # its name, and its lines
                    lines |= {line.strip() for line in test["source"].splitlines() if len(line.strip()) >= 25}
    for solution in (ROOT / "solutions").glob("*.ipynb"):
        handout = nbformat.writes(nbformat.read(ROOT / "exercises" / solution.name, as_version=4))
        for cell in nbformat.read(solution, as_version=4).cells:
            if cell.cell_type == "code":
                lines |= {line.strip() for line in cell.source.splitlines()
                          if len(line.strip()) >= 25 and line.strip() not in handout}
    return {line for line in lines if line not in public}


def test_the_student_copy_holds_no_answers(copy: Path) -> None:
    names = {str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()}
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "grading/autograder/", "grading/source/"))]
    assert {"exercises/01_convolution_math.ipynb", "chapters/01_convolution_math.ipynb", "book/conv.py",
            "grading/checks.py", "Makefile", "requirements.txt"} <= names
    secrets = _secrets()
    assert len(secrets) > 100   # the check below means something
    leaks = [(name, line) for name in sorted(names) if not name.endswith(".bib")
             for text in [(copy / name).read_text(errors="ignore")] for line in secrets if line in text]
    assert not leaks, leaks[:5]


def test_a_check_cell_works_from_the_student_copy(copy: Path) -> None:
    """The checks module and what it needs locally import from the copy alone, and give the grader's verdict."""
    code = ("from grading.checks import local_verdict\n"
            "print(local_verdict(['import torch.nn.functional as F\\ndef corr2d(X, K):\\n"
            "    return F.conv2d(X, K)'], ['corr2d'])[0])")
    result = subprocess.run([sys.executable, "-I", "-c", code], cwd=copy, capture_output=True, text=True,
                            timeout=120, env={"PYTHONPATH": str(copy)})
    assert result.stdout.strip() == "failed", result.stderr


def test_it_never_writes_over_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        release(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep"
