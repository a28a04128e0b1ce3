"""The grader, end to end: solutions score full marks, handed-out exercises score zero, hostile submissions gain
nothing and stop nothing, and the CSV has one honest row per question.

Two `python -m book.grade` runs do all the grading (the expensive part); the tests read their CSVs row by row.
"""
from __future__ import annotations

import copy
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import nbformat
import numpy as np
import pytest

from book.grade.checks import to_plain
from book.grade.compare import MalformedValue, compare, decode, diagonal_edge_kernel

ROOT = Path(__file__).resolve().parents[1]
MATERIAL = ROOT / "grading" / "autograder"
EXERCISES = sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb"))
COLUMNS = ["submission", "exercise", "question", "points", "max_points", "status", "message"]
FIRST = "01_convolution_math"
BATTERY_TIMEOUT = 20


def _grade(paths: List[str], out: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "book.grade", *paths, "--out", str(out), *options]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)


def _rows(path: Path) -> List[Dict[str, str]]:
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _by_question(rows: List[Dict[str, str]], name: str) -> Dict[str, Dict[str, str]]:
    mine = [row for row in rows if Path(row["submission"]).name == name]
    assert mine, f"no rows for {name}"
    return {row["question"]: row for row in mine}


def _questions(exercise: str) -> List[str]:
    return [q["name"] for q in json.loads((MATERIAL / f"{exercise}.json").read_text())["questions"]]


# ---------------------------------------------------------------------------------------------------------------
# Solutions and handed-out exercises
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def official(tmp_path_factory) -> List[Dict[str, str]]:
    out = tmp_path_factory.mktemp("official") / "grades.csv"
    result = _grade(["solutions", "exercises"], out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert "solutions/07_lenet_mnist.ipynb" in result.stdout   # the summary table
    return _rows(out)


def test_every_chapter_has_an_exercise_a_solution_and_three_questions() -> None:
    assert EXERCISES == [f"{n:02d}_{s}" for n, s in enumerate(
        ["convolution_math", "fc_to_conv", "padding_stride_dilation", "channels", "1x1_convolution", "pooling",
         "lenet_mnist"], start=1)]
    for name in EXERCISES:
        assert (ROOT / "solutions" / f"{name}.ipynb").exists()
        assert len(_questions(name)) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_solution_scores_full_marks(official, name: str) -> None:
    mine = [r for r in official if r["submission"] == f"solutions/{name}.ipynb"]
    assert [r["question"] for r in mine] == _questions(name)
    for row in mine:
        assert (row["status"], row["points"]) == ("passed", row["max_points"]), row
        assert row["exercise"] == name


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_handed_out_exercise_scores_zero(official, name: str) -> None:
    mine = [r for r in official if r["submission"] == f"exercises/{name}.ipynb"]
    assert [r["question"] for r in mine] == _questions(name)
    for row in mine:
        assert row["points"] == "0" and row["status"] in ("failed", "error"), row
        assert float(row["max_points"]) > 0 and row["message"]


# ---------------------------------------------------------------------------------------------------------------
# The hostile battery, generated from exercise 1's solution and handout
# ---------------------------------------------------------------------------------------------------------------

def _notebook(kind: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / kind / f"{FIRST}.ipynb", as_version=4)


def _code_cell(notebook: nbformat.NotebookNode, defines: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if c.cell_type == "code" and defines in c.source)


def _with_cell(kind: str, source: str, before: str = "") -> nbformat.NotebookNode:
    """A copy of the solution/handout with one extra code cell (at the end, or just before the cell `before`)."""
    notebook = copy.deepcopy(_notebook(kind))
    cell = nbformat.v4.new_code_cell(source)
    index = notebook.cells.index(_code_cell(notebook, before)) if before else len(notebook.cells)
    notebook.cells.insert(index, cell)
    return notebook


def _with_cells(kind: str, sources: List[str]) -> nbformat.NotebookNode:
    """The sources as extra cells just before the first question's answer cell."""
    notebook = copy.deepcopy(_notebook(kind))
    index = notebook.cells.index(_code_cell(notebook, "def corr2d("))
    notebook.cells[index:index] = [nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


def _with_source(kind: str, defines: str, source: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(_notebook(kind))
    _code_cell(notebook, defines).source = source
    return notebook


CHEATS = {
    "patch_comparisons": """
import builtins, numpy, numpy.testing, torch, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
numpy.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing.assert_array_equal = lambda *a, **k: None
torch.Tensor.__eq__ = lambda self, other: True
builtins.isinstance = lambda *a: True
""",
    "redefine_checks": """
import book.grade.checks as checks
checks.check = lambda *args, **kwargs: None
checks.no_library = __import__("contextlib").nullcontext
class FakeGrader:
    def check(self, *args, **kwargs):
        print("All test cases passed!")
grader = FakeGrader()
check = checks.check
""",
    "always_equal": """
class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def tolist(self): return [[19.0, 25.0], [37.0, 43.0]]
def corr2d(X, K): return Liar()
def corr2d_output_shape(input_shape, kernel_shape): return Liar()
def convolve2d(X, K): return Liar()
diagonal_kernel = Liar()
""",
    "fake_output": """
import os
print("corr2d results: All test cases passed!\\nsubmission,exercise,question,points,max_points,status,message")
forged = '{"event": "test", "question": "corr2d", "test": "test_textbook_example", "status": "ran", "records": []}\\n'
for fd in range(3, 64):
    try:
        os.write(fd, forged.encode())
    except OSError:
        pass
""",
}


def _battery() -> Dict[str, nbformat.NotebookNode]:
    solution_corr2d = _code_cell(_notebook("solutions"), "def corr2d(").source
    return {
        "loop_at_top_level": _with_source("solutions", "def corr2d(", "while True:\n    pass\n" + solution_corr2d),
        "loop_in_function": _with_source("solutions", "def convolve2d(",
                                         "def convolve2d(X, K):\n    while True:\n        pass"),
        "loop_ignoring_alarms": _with_cell("solutions", "import time\nwhile True:\n    try:\n        time.sleep(10)\n"
                                                        "    except BaseException:\n        pass"),
        "exception_in_cell": _with_source("solutions", "def corr2d_output_shape(",
                                          "raise RuntimeError('boom')\n" +
                                          _code_cell(_notebook("solutions"), "def corr2d_output_shape(").source),
        "exits": _with_cells("solutions", ["import sys\nsys.exit(3)", "import os\nos._exit(0)",
                                           "raise KeyboardInterrupt", "import posix\nposix._exit(1)"]),
        "kill_itself": _with_cell("solutions", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        "memory_blowups": _with_cells("solutions", ["hog = bytearray(64 << 30)",
                                                    "import torch\nhog = torch.ones(16 << 30)"]),
        "cells_deleted": _delete_cell("def corr2d("),
        "cells_reordered": _reordered(),
        "library_call": _with_source("solutions", "def corr2d(",
                                     "from torch.nn.functional import conv2d\n\ndef corr2d(X, K):\n"
                                     "    return conv2d(X[None, None].float(), K[None, None].float())[0, 0]"),
        **{name: _with_cell("exercises", source) for name, source in CHEATS.items()},
        "tampering": _with_cell("exercises", TAMPERING),
    }


TAMPERING = """
import json, pathlib
material = pathlib.Path(MATERIAL_COPY) / "01_convolution_math.json"
data = json.loads(material.read_text())
data["questions"] = [dict(q, tests=[]) for q in data["questions"]]
material.write_text(json.dumps(data))
pathlib.Path(OUT).write_text("submission,exercise,question,points,max_points,status,message\\nforged\\n")
"""


def _delete_cell(defines: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(_notebook("solutions"))
    notebook.cells.remove(_code_cell(notebook, defines))
    return notebook


def _reordered() -> nbformat.NotebookNode:
    """Question cells in reverse order, the imports still first: correct answers in any order still count."""
    notebook = copy.deepcopy(_notebook("solutions"))
    code = [c for c in notebook.cells if c.cell_type == "code" and "def " in c.source]
    others = [c for c in notebook.cells if c not in code]
    notebook.cells = others + code[::-1]
    return notebook


@pytest.fixture(scope="module")
def battery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("battery")
    submissions, material = folder / "submissions", folder / "material"
    shutil.copytree(MATERIAL, material)
    out = folder / "grades.csv"
    (submissions / "nested").mkdir(parents=True)
    for name, notebook in _battery().items():
        if name == "tampering":
            notebook.cells[-1].source = f"MATERIAL_COPY = {str(material)!r}\nOUT = {str(out)!r}\n" + \
                notebook.cells[-1].source
        target = submissions / ("nested" if name.startswith("loop") else "") / f"{name}_{FIRST}.ipynb"
        nbformat.write(notebook, target)
    (submissions / "invalid_json.ipynb").write_text("{ this is not json")
    (submissions / "empty.ipynb").write_text("")
    (submissions / "not_a_notebook.ipynb").write_text(json.dumps({"hello": "world"}))
    unknown = _notebook("solutions")
    unknown.metadata.pop("book")
    nbformat.write(unknown, submissions / "homework.ipynb")
    result = _grade([str(submissions)], out, "--jobs", "2", "--timeout", str(BATTERY_TIMEOUT),
                    "--material", str(material))
    assert result.returncode == 0, result.stderr
    return {"rows": _rows(out), "material": material, "stdout": result.stdout}


def _score(rows: Dict[str, Dict[str, str]]) -> float:
    return sum(float(r["points"]) for r in rows.values())


FULL = 12.0


@pytest.mark.slow
def test_every_submission_gets_its_rows(battery) -> None:
    names = {Path(r["submission"]).name for r in battery["rows"]}
    expected = {f"{n}_{FIRST}.ipynb" for n in _battery()} | {"invalid_json.ipynb", "empty.ipynb",
                                                              "not_a_notebook.ipynb", "homework.ipynb"}
    assert names == expected
    for name in expected - {"invalid_json.ipynb", "empty.ipynb", "not_a_notebook.ipynb", "homework.ipynb"}:
        assert list(_by_question(battery["rows"], name)) == _questions(FIRST)


@pytest.mark.slow
@pytest.mark.parametrize("name, reason", [("invalid_json.ipynb", "not valid JSON"), ("empty.ipynb", "empty"),
                                          ("not_a_notebook.ipynb", "not a Jupyter notebook"),
                                          ("homework.ipynb", "cannot tell which exercise")])
def test_unreadable_submissions_are_invalid(battery, name: str, reason: str) -> None:
    rows = [r for r in battery["rows"] if Path(r["submission"]).name == name]
    assert len(rows) == 1
    assert (rows[0]["question"], rows[0]["points"], rows[0]["status"]) == ("*", "0", "invalid")
    assert reason in rows[0]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHEATS) + ["tampering"])
def test_cheats_gain_nothing(battery, name: str) -> None:
    rows = _by_question(battery["rows"], f"{name}_{FIRST}.ipynb")
    assert _score(rows) == 0, rows
    assert all(r["status"] in ("failed", "error") for r in rows.values())


@pytest.mark.slow
def test_tampering_with_files_changes_nothing(battery) -> None:
    """The submission did rewrite the material copy and the output, yet its grade and the CSV are the grader's."""
    tampered = json.loads((battery["material"] / f"{FIRST}.json").read_text())
    assert all(q["tests"] == [] for q in tampered["questions"])   # the attack ran...
    assert not any(r["submission"] == "forged" for r in battery["rows"])   # ...and changed nothing


@pytest.mark.slow
@pytest.mark.parametrize("name", ["exits", "memory_blowups", "cells_reordered"])
def test_survivable_trouble_costs_nothing_earned(battery, name: str) -> None:
    rows = _by_question(battery["rows"], f"{name}_{FIRST}.ipynb")
    assert _score(rows) == FULL, rows


@pytest.mark.slow
def test_exception_in_a_cell_costs_only_its_question(battery) -> None:
    rows = _by_question(battery["rows"], f"exception_in_cell_{FIRST}.ipynb")
    assert rows["output_shape"]["status"] == "error" and rows["output_shape"]["points"] == "0"
    assert "NameError" in rows["output_shape"]["message"] or "not defined" in rows["output_shape"]["message"]
    assert all(r["status"] == "passed" for q, r in rows.items() if q != "output_shape")


@pytest.mark.slow
def test_deleted_cell_costs_its_question_and_those_that_use_it(battery) -> None:
    rows = _by_question(battery["rows"], f"cells_deleted_{FIRST}.ipynb")
    assert rows["corr2d"]["points"] == "0" and "corr2d is not defined" in rows["corr2d"]["message"]
    assert rows["convolve2d"]["points"] == "0"
    assert rows["output_shape"]["status"] == rows["filters"]["status"] == "passed"


@pytest.mark.slow
def test_endless_loops_time_out(battery) -> None:
    top = _by_question(battery["rows"], f"loop_at_top_level_{FIRST}.ipynb")
    assert top["corr2d"]["status"] == "timeout" and top["corr2d"]["points"] == "0"
    assert top["output_shape"]["status"] == "passed"
    inside = _by_question(battery["rows"], f"loop_in_function_{FIRST}.ipynb")
    assert inside["convolve2d"]["status"] == "timeout" and inside["convolve2d"]["points"] == "0"
    assert inside["corr2d"]["status"] == "passed"
    stubborn = _by_question(battery["rows"], f"loop_ignoring_alarms_{FIRST}.ipynb")
    assert {r["status"] for r in stubborn.values()} == {"timeout"} and _score(stubborn) == 0


@pytest.mark.slow
def test_a_process_that_kills_itself_gets_errors_not_a_crash(battery) -> None:
    rows = _by_question(battery["rows"], f"kill_itself_{FIRST}.ipynb")
    assert {r["status"] for r in rows.values()} == {"error"} and _score(rows) == 0
    assert "process ended" in rows["corr2d"]["message"]


@pytest.mark.slow
def test_calling_the_library_fails_that_question(battery) -> None:
    rows = _by_question(battery["rows"], f"library_call_{FIRST}.ipynb")
    assert rows["corr2d"]["points"] == "0" and "conv2d" in rows["corr2d"]["message"]
    assert rows["output_shape"]["status"] == "passed"


# ---------------------------------------------------------------------------------------------------------------
# The command line and the trusted comparisons
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, fragment", [
    (["does/not/exist.ipynb"], "no such file or directory"),
    (["exercises", "--out", "/nonexistent-dir/grades.csv"], "does not exist"),
    (["exercises", "--out", "exercises"], "is a directory"),
    (["exercises", "--jobs", "0"], "must be positive"),
])
def test_usage_errors_exit_non_zero_with_one_line(arguments: List[str], fragment: str) -> None:
    result = subprocess.run([sys.executable, "-m", "book.grade", *arguments], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_plain_data_round_trip_keeps_types() -> None:
    import torch
    value = {"t": torch.arange(6).reshape(2, 3), "f": torch.ones(2, dtype=torch.float64), "n": 3, "s": (1, 2.5)}
    decoded = decode(json.loads(json.dumps(to_plain(value))))
    assert decoded["t"].dtype.kind == "i" and decoded["t"].shape == (2, 3)
    assert decoded["f"].dtype.kind == "f" and decoded["n"] == 3 and decoded["s"] == [1, 2.5]


def test_objects_that_lie_are_refused() -> None:
    class Liar:
        def __eq__(self, other):
            return True
    with pytest.raises(TypeError):
        to_plain(Liar())
    with pytest.raises(MalformedValue):
        decode({"__array__": {"dtype": "float", "shape": [2], "data": [1.0]}})
    with pytest.raises(MalformedValue):
        decode({"__array__": {"dtype": "int", "shape": [1], "data": [True]}})


def test_compare_is_strict_about_kind_and_shape() -> None:
    assert compare(np.array([1, 2]), np.array([1.0, 2.0]))[0] is False       # int expected, float given
    assert compare(np.array([[1.0]]), np.array([1.0]))[0] is False           # shape
    assert compare(np.array([1.0, 2.0]), np.array([1.0, 2.00001]))[0] is True
    assert compare(np.array([1.0]), np.array([np.nan]))[0] is False
    assert compare(3, True)[0] is False and compare(True, 1)[0] is False
    ok, message = compare(np.array([5.0]), np.array([4.0]), reveal=False)
    assert not ok and "5" not in message                                      # hidden expected values stay hidden


def test_diagonal_rule_accepts_only_diagonal_detectors() -> None:
    assert diagonal_edge_kernel(np.array([[1.0, -1.0], [-1.0, 1.0]]))[0]
    assert not diagonal_edge_kernel(np.array([[1.0, -1.0]]))[0]
    assert not diagonal_edge_kernel(np.array([[1.0, 0.0], [0.0, -1.0]]))[0]
    assert not diagonal_edge_kernel(np.zeros((2, 2)))[0]
