"""The example class on the instructors' page: exercise 1 handed in by eight made-up students, graded by the real
grader, with its feedback pages and class report: `python tools/example_class.py OUT` (`make book` runs it).

The students: the worked solution; the handout as given (nothing answered); five students who each made one of the
mistakes catalogued in tests/wrong_answers/; and one whose `corr2d` is defined by `exec`, which the grader cannot
read and so leaves to a person (a `review` row). These notebooks are the book's own: where bubblewrap cannot run
here they are graded without the sandbox.
"""
from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "01_convolution_math"
MISTAKES = {   # student -> (question, the catalogued mistake)
    "student-03": ("convolve1d", "same mode centred with k // 2 (wrong for even kernels)"),
    "student-04": ("filters", "central difference not halved"),
    "student-05": ("corr2d", "kernel flipped (true convolution)"),
    "student-06": ("output_shape", "no error for a kernel larger than the input"),
    "student-07": ("wide_swap", "transposes"),
}
UNREADABLE = "exec('def corr2d(X, K):\\n    return corr2d_loops(X, K)')"


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "tests"))   # test_wrong_answers imports its conftest
    spec.loader.exec_module(module)
    return module


def write_class(folder: Path) -> None:
    """One folder per student, each holding its exercise 1 notebook."""
    answers = _module(ROOT / "tests" / "test_wrong_answers.py")
    catalogue = _module(ROOT / "tests" / "wrong_answers" / f"{EXERCISE}.py").WRONG
    solution = nbformat.read(ROOT / "solutions" / f"{EXERCISE}.ipynb", as_version=4)
    handout = nbformat.read(ROOT / "exercises" / f"{EXERCISE}.ipynb", as_version=4)
    unreadable = copy.deepcopy(solution)
    cell = next(c for c in unreadable.cells if c.cell_type == "code" and answers._defined(c.source) == {"corr2d"})
    cell.source = cell.source.replace("def corr2d(", "def corr2d_loops(", 1) + "\n\n\n" + UNREADABLE
    notebooks = {"student-01": solution, "student-02": handout, "student-08": unreadable}
    for student, (question, mistake) in MISTAKES.items():
        notebooks[student] = answers._with_answer(solution, catalogue[question][mistake])
    for student, notebook in notebooks.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(notebook, folder / student / f"{EXERCISE}.ipynb")


def main(out: Path) -> int:
    from grading.sandbox import Sandbox, SandboxUnavailable
    try:
        Sandbox.open().close()
        unsafe = []
    except SandboxUnavailable:
        unsafe = ["--unsafe-no-sandbox"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="example-class-") as temporary:
        submissions = Path(temporary) / "submissions"
        write_class(submissions)
        # Run beside the submissions, so that the pages name them `submissions/student-NN/...`.
        command = [sys.executable, "-m", "grading", "submissions", "--out", "grades.csv", "--feedback",
                   str(out.resolve() / "feedback"), "--report", str(out.resolve() / "report.html"), "--jobs", "2",
                   *unsafe]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run(command, cwd=temporary, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/example_class.py OUT")
    sys.exit(main(Path(sys.argv[1])))
