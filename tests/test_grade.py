"""The grader on the book's own exercises, its command line, and its trusted parts one by one.

The worked solutions score full marks and the handed-out exercises score zero (one `python -m grading` run);
the comparisons, the CSV's sanitising and the source scan are checked directly. The hostile battery is in
tests/test_grade_battery.py.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import nbformat
import numpy as np
import pytest

from grading.checks import to_plain
from grading.compare import MalformedValue, compare, decode, diagonal_edge_kernel
from grading.forbidden import UNREADABLE, Notebook, is_scaffold, scan_cell
from grading.material import MAX_CODE_CELLS, MAX_CODE_CHARS, Submission, load_exercises, read_submission
from grading.report import COLUMNS, Row, safe_text, write_csv

from conftest import ROOT

pytestmark = pytest.mark.grading
MATERIAL = ROOT / "grading" / "autograder"
EXERCISES = sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb"))


def grade_command(paths: List[str], out: Path, *options: str, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "grading", "--out", str(out), *options, "--", *paths]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, **{"cwd": ROOT, **kwargs})


def csv_rows(path: Path) -> List[Dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _questions(exercise: str) -> List[str]:
    return [q["name"] for q in json.loads((MATERIAL / f"{exercise}.json").read_text())["questions"]]


# ---------------------------------------------------------------------------------------------------------------
# Solutions and handed-out exercises
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def official(sandbox_works, tmp_path_factory) -> List[Dict[str, str]]:
    out = tmp_path_factory.mktemp("official") / "grades.csv"
    result = grade_command(["solutions", "exercises"], out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert "solutions/07_lenet_mnist.ipynb" in result.stdout   # the summary table
    return csv_rows(out)


def test_every_chapter_has_an_exercise_and_a_solution() -> None:
    assert EXERCISES == [f"{n:02d}_{s}" for n, s in enumerate(
        ["convolution_math", "fc_to_conv", "padding_stride_dilation", "channels", "1x1_convolution", "pooling",
         "lenet_mnist"], start=1)]
    for name in EXERCISES:
        assert (ROOT / "solutions" / f"{name}.ipynb").exists()
        assert len(_questions(name)) >= 4


def _graded(official: List[Dict[str, str]], folder: str, name: str) -> List[Dict[str, str]]:
    """The rows of `folder/name.ipynb`, which must be one per question of its exercise, in order."""
    mine = [r for r in official if r["submission"] == f"{folder}/{name}.ipynb"]
    assert [r["question"] for r in mine] == _questions(name)
    assert all(r["exercise"] == name for r in mine)
    return mine


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_solution_scores_full_marks(official, name: str) -> None:
    for row in _graded(official, "solutions", name):
        assert (row["status"], row["points"]) == ("passed", row["max_points"]), row


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_handed_out_exercise_scores_zero(official, name: str) -> None:
    for row in _graded(official, "exercises", name):
        assert row["points"] == "0" and row["status"] in ("failed", "error"), row
        assert float(row["max_points"]) > 0 and row["message"]


# ---------------------------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, fragment", [
    (["does/not/exist.ipynb"], "no such file or directory"),
    (["exercises", "--out", "/nonexistent-dir/grades.csv"], "does not exist"),
    (["exercises", "--out", "exercises"], "is a directory"),
    (["exercises", "--jobs", "0"], "must be positive"),
])
def test_usage_errors_exit_non_zero_with_one_line(arguments: List[str], fragment: str) -> None:
    result = subprocess.run([sys.executable, "-m", "grading", *arguments], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_without_a_working_sandbox_the_grader_stops_and_says_how_to_proceed(tmp_path: Path) -> None:
    """A `bwrap` that cannot create namespaces (as on a kernel without user namespaces): one line, exit 2, no CSV."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    out = tmp_path / "grades.csv"
    result = grade_command(["solutions/01_convolution_math.ipynb"], out,
                           env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert result.returncode == 2 and not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No permissions to create new namespace" in lines[0] and "--unsafe-no-sandbox" in lines[0]


@pytest.mark.slow
def test_unsafe_mode_grades_and_states_the_risk_once(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    result = grade_command(["solutions/01_convolution_math.ipynb"], out, "--unsafe-no-sandbox")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("--unsafe-no-sandbox") == 1 and "no isolation" in result.stderr
    assert {r["status"] for r in csv_rows(out)} == {"passed"}


# ---------------------------------------------------------------------------------------------------------------
# The CSV
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\\tx"), ("\rx", "'\\rx"), ("  =1", "'  =1"), ("bad \ud800 char", "bad \\ud800 char"),
    ("two\nlines", "two\\nlines"), ("plain", "plain"),
])
def test_fields_are_encodable_one_line_and_inert(text: str, expected: str) -> None:
    assert safe_text(text) == expected
    safe_text(text).encode("utf-8")


def test_code_over_the_size_limits_is_refused_before_the_scan(tmp_path: Path) -> None:
    exercises = load_exercises()
    for extra, refused in ((0, False), (1, True)):
        book = nbformat.v4.new_notebook(metadata={"book": {"exercise": EXERCISES[0]}})
        book.cells = [nbformat.v4.new_code_cell("def corr2d(X, K):\n    return X\n"),
                      nbformat.v4.new_markdown_cell("m" * MAX_CODE_CHARS)]   # prose does not count
        book.cells.append(nbformat.v4.new_code_cell("#" * (MAX_CODE_CHARS - len(book.cells[0].source) + extra)))
        path = tmp_path / f"{extra}.ipynb"
        nbformat.write(book, path)
        submission = read_submission(Submission(path), exercises)
        assert bool(submission.problem) == refused, submission.problem
        assert (submission.cells == []) == refused
        if refused:
            assert f"hold {MAX_CODE_CHARS + 1:,} characters, over the limit of" in submission.problem
    for extra, refused in ((0, False), (1, True)):
        book = nbformat.v4.new_notebook(metadata={"book": {"exercise": EXERCISES[0]}})
        book.cells = [nbformat.v4.new_code_cell("1") for _ in range(MAX_CODE_CELLS + extra)]
        path = tmp_path / f"cells{extra}.ipynb"
        nbformat.write(book, path)
        submission = read_submission(Submission(path), exercises)
        assert bool(submission.problem) == refused and (submission.cells == []) == refused, submission.problem


def test_the_grader_reads_at_most_its_limit_of_event_lines(tmp_path: Path) -> None:
    from grading.sandbox import MAX_EVENT_LINES, _read_events
    channel = tmp_path / "events"
    channel.write_bytes(b'{"event": "cell"}\n' * MAX_EVENT_LINES)
    assert _read_events(str(channel)) == ([{"event": "cell"}] * MAX_EVENT_LINES, False)
    channel.write_bytes(b'{"event": "cell"}\n' * MAX_EVENT_LINES + b'{"event": "done"}\n')
    assert _read_events(str(channel)) == ([{"event": "cell"}] * MAX_EVENT_LINES, True)


def test_csv_is_replaced_atomically_and_a_failed_write_leaves_nothing_current(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    out.write_text("old grades\n")
    write_csv([Row("=evil", "01", "q", 1.0, 2.0, "passed", "\ud800")], out)
    assert csv_rows(out)[0]["submission"] == "'=evil"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]   # no temporary file left

    class Unprintable(Row):
        def fields(self):
            raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        write_csv([Unprintable("a", "b", "c", 0.0, 1.0, "failed", "")], out)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 1 and names[0].startswith("grades.stale-")   # the old file, moved aside, not lost


# ---------------------------------------------------------------------------------------------------------------
# The source scan
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, kind, what", [
    ("import torch.nn.functional as F\nY = F.conv2d(X, K)", "forbidden", "torch.nn.functional.conv2d"),
    ("from torch.nn.functional import conv2d as c", "forbidden", "torch.nn.functional.conv2d"),
    ("from torch.nn.functional import *", "forbidden", "import *"),
    ("F.conv2d.__wrapped__(X, K)", "forbidden", "__wrapped__"),
    ("torch.ops.aten.convolution(X)", "forbidden", "torch.ops"),
    ("torch._C._nn.im2col(X, (2, 2), (1, 1), (0, 0), (1, 1))", "forbidden", "torch._C"),
    ("import scipy.signal", "forbidden", "scipy.signal"),
    ("from scipy import ndimage", "forbidden", "scipy.ndimage"),
    ("import numpy as np\nnp.convolve(a, b)", "forbidden", "numpy.convolve"),
    ("X.unfold(0, 2, 1)", "forbidden", "unfold"),
    ("torch.nn.MaxPool2d(2)(X)", "forbidden", "MaxPool2d"),
    ("import book\nbook.conv.corr2d(X, K)", "forbidden", "book"),
    ("%timeit F.avg_pool2d(X, 2)", "forbidden", "avg_pool2d"),
    ("getattr(F, 'conv2d')(X, K)", "forbidden", "F.conv2d"),
    ("getattr(F, 'conv' + '2d')(X, K)", "review", "getattr"),
    ("eval('1 + 1')", "review", "eval"),
    ("exec('x = 1')", "review", "exec"),
    ("import importlib", "review", "importlib"),
    ("__import__('torch')", "review", "__import__"),
    ("import sys\nsys.modules['torch']", "review", "sys.modules"),
    ("vars(F)['conv2d']", "review", "vars"),
    ("F.__dict__['conv2d']", "review", "__dict__"),
    ("import grading.checks as c\nc.no_library = None", "review", "grading"),
    ("import inspect", "review", "inspect"),
    ("!python -c 'print(1)'", "review", "get_ipython"),
    ("%run other.py", "review", "get_ipython"),
    ("import os\nos.write(3, b'{}')", "review", "os.write"),
    ("open(3, 'w')", "review", "file descriptor"),
    ("try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame.f_back", "review", "__traceback__"),
    ("import torch.nn.functional as F\nself = F\nself.conv2d(X, K)", "forbidden", "conv2d"),
    ("f = lambda X, K, self=F: self.conv2d(X, K)", "forbidden", "conv2d"),
    ("y.sum().backward()", "autograd", "backward"),
    ("torch.autograd.grad(y, x)", "autograd", "torch.autograd"),
])
def test_the_scan_finds_every_route(source: str, kind: str, what: str) -> None:
    findings = scan_cell(source)
    assert any(f.kind == kind and what in f.what for f in findings), findings


def test_a_cell_of_thousands_of_escapes_is_read_as_unreadable_without_ipython(monkeypatch) -> None:
    """IPython's rewrite costs escapes x length (65,536 `!ls` lines: 377 s): past a budget the scan skips it."""
    from IPython.core.inputtransformer2 import TransformerManager
    calls: List[int] = []
    original = TransformerManager.do_token_transforms   # the costly step: escapes x length
    monkeypatch.setattr(TransformerManager, "do_token_transforms", lambda self, lines: calls.append(len(lines)) or
                        original(self, lines))
    flood = scan_cell("x = 1\n" + "!ls\n" * 60_000)
    assert calls == [] and any(f.kind == "review" and "could not read" in f.what for f in flood), flood
    for prompt in (">>> ", "In [1]: ", "   ...: "):   # IPython strips pasted prompts before it rewrites escapes
        flood = scan_cell(f"{prompt}!ls\n" * 30_000)
        assert calls == [] and any(f.kind == "review" and "could not read" in f.what for f in flood), (prompt, flood)
    few = scan_cell("x = 1\n" + "!ls\n" * 3)
    assert len(calls) == 1 and any(f.kind == "review" and "get_ipython" in f.what for f in few), few
    calls.clear()   # the budget is the notebook's: many small floods spend it as one large one does
    notebook = Notebook([{"id": None, "source": "!ls\n" * 40}] * 200 + [{"id": None, "source": "y = 2"}])
    assert 0 < len(calls) < 100 and notebook.trees[-2] is UNREADABLE and notebook.trees[-1] is not UNREADABLE


@pytest.mark.parametrize("source", [
    "def corr2d(X, K):\n    h, w = K.shape\n    return sum(X[i:i + h] for i in range(2))",
    "def pool2d(X, pool_size, mode='max'):\n    p_h, p_w = pool_size\n    return pool2d",
    "import torch\nimport torch.nn.functional as F\nY = F.pad(X, (1, 1))",
    "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = None\n"
    "    def forward(self, x):\n        return self.conv(x)",
    "%matplotlib inline\nimport matplotlib.pyplot as plt",
    "from book.data import load_mnist",
    "import os\nprint(os.path.join('a', 'b'))",
])
def test_the_scan_leaves_honest_code_alone(source: str) -> None:
    assert scan_cell(source) == []


@pytest.mark.parametrize("source, skipped", [
    ('import otter\ngrader = otter.Notebook("x.ipynb")', True), ('# Initialize Otter\nimport otter', True),
    ('grader.check("q1")', True), ('grader.check("q1")\nimport scipy.signal', False), ("x = 1", False),
])
def test_otter_cells_are_skipped_by_runner_and_scan_alike(source: str, skipped: bool) -> None:
    """The runner gets the scan's own pattern in its job, so both skip exactly otter's plumbing."""
    assert is_scaffold(source) is skipped
    if skipped:
        assert scan_cell(source) == []
    elif "scipy" in source:
        assert [f.kind for f in scan_cell(source)] == ["forbidden"]


# ---------------------------------------------------------------------------------------------------------------
# The trusted comparisons
# ---------------------------------------------------------------------------------------------------------------

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


def test_the_sandbox_shows_no_submission_output_or_repository_folder(sandbox_works, tmp_path: Path) -> None:
    from grading.sandbox import Sandbox, SandboxUnavailable
    with Sandbox.open(hidden=[str(tmp_path), str(ROOT / "grades.csv")]) as sandbox:
        for path in sandbox.read_only:
            assert not str(tmp_path).startswith(path) and path != str(ROOT) and path != os.getcwd()
            assert not path.startswith(str(ROOT)) or path.startswith(
                (str(ROOT / ".venv"), str(ROOT / "book"), str(ROOT / "data")))
    with pytest.raises(SandboxUnavailable, match="inside"):
        Sandbox.open(hidden=[os.path.join(sys.prefix, "submissions")])


@pytest.mark.slow
def test_a_cell_cannot_rewrite_the_runners_reports(sandbox_works) -> None:
    """The trace's verdict survives a cell that replaces json's encoder to turn "forbidden" into "ran" (the source
    scan would catch this answer anyway: this holds the in-sandbox evidence to its own standard)."""
    from grading.sandbox import Limits, Sandbox
    cells = [{"id": "a", "source": "import json\nimport torch\nimport torch.nn.functional as F\n"
                                   "original = json.JSONEncoder.encode\n"
                                   "def encode(self, o):\n"
                                   "    if isinstance(o, dict) and o.get('status') == 'forbidden':\n"
                                   "        o = dict(o, status='ran')\n"
                                   "    return original(self, o)\n"
                                   "json.JSONEncoder.encode = encode\n"
                                   "def corr2d(X, K):\n    return F.conv2d(X[None, None], K[None, None])[0, 0]"}]
    tests = [{"question": "q", "name": "test_q", "source": "def test_q(corr2d):\n    import torch\n"
              "    from grading.checks import check, no_library\n    with no_library():\n"
              "        check(corr2d(torch.ones(3, 3), torch.ones(2, 2)), [[4.0, 4.0], [4.0, 4.0]])\n"}]
    with Sandbox.open() as sandbox:
        run = sandbox.run(cells, tests, Limits(timeout=60))
    [test] = [e for e in run.events if e.get("event") == "test"]
    assert test["status"] == "forbidden" and "convolution" in test["message"]
