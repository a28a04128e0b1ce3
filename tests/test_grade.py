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

from grading.checks import _MISSING, to_plain
from grading.compare import MalformedValue, compare, decode, diagonal_edge_kernel
from grading.forbidden import Notebook, is_scaffold, scan_cell
from grading.material import MAX_CODE_CELLS, MAX_CODE_CHARS, Submission, load_exercises, read_submission
from grading.report import COLUMNS, Row, display_path, safe_text, write_csv

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
    (["does/not/exist.ipynb", "--out", "/tmp/grades.csv"], "no such file or directory"),
    (["exercises", "--out", "/nonexistent-dir/grades.csv"], "does not exist"),
    (["exercises", "--out", "exercises"], "is a directory"),
    (["exercises", "--out", "/tmp/grades.csv", "--jobs", "0"], "must be positive"),
    (["exercises", "--out", "/tmp/grades.csv", "--timeout", "nan"], "finite"),
    (["exercises", "--out", "/tmp/grades.csv", "--timeout", "inf"], "finite"),
    (["exercises"], "--out"),   # never a grades.csv dropped into the current folder
    (["exercises", "--out", "/tmp/grades.csv", "--report", "/tmp/grades.csv"], "--out file"),
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


def test_the_grader_reads_at_most_its_limit_of_event_lines_and_bytes() -> None:
    from grading.sandbox import MAX_EVENT_LINES, MAX_LINE_BYTES, _Channel

    def read(data: bytes):
        read_end, write_end = os.pipe()
        channel = _Channel(read_end)
        channel.start()
        with os.fdopen(write_end, "wb") as writer:
            writer.write(data)
        try:
            return channel.finish()
        finally:
            channel.close()
    assert read(b'{"event": "cell"}\n' * MAX_EVENT_LINES) == ([{"event": "cell"}] * MAX_EVENT_LINES, False, 0)
    assert read(b'{"event": "cell"}\n' * MAX_EVENT_LINES + b'{"event": "done"}\n') == \
        ([{"event": "cell"}] * MAX_EVENT_LINES, True, 0)
    big = b'{"x": "' + b"a" * MAX_LINE_BYTES + b'"}\n'   # dropped unread, the lines around it kept
    assert read(b'{"event": "a"}\n' + big + b'{"event": "b"}\n') == ([{"event": "a"}, {"event": "b"}], False, 1)


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

F = "import torch\nimport torch.nn.functional as F\n"   # what an answer's notebook has imported


@pytest.mark.parametrize("source, kind, what", [
    # What the question asks for, by any name or route the source shows.
    (F + "Y = F.conv2d(X, K)", "forbidden", "torch.nn.functional.conv2d"),
    ("from torch.nn.functional import conv2d as c", "forbidden", "torch.nn.functional.conv2d"),
    (F + "F.conv2d.__wrapped__(X, K)", "forbidden", "torch.nn.functional.conv2d"),
    (F + "torch.ops.aten.convolution(X)", "forbidden", "torch.ops.aten.convolution"),
    (F + "torch._C._nn.im2col(X, (2, 2), (1, 1), (0, 0), (1, 1))", "forbidden", "torch._C"),
    (F + "X.unfold(0, 2, 1)", "forbidden", ".unfold"),
    (F + "torch.nn.MaxPool2d(2)(X)", "forbidden", "torch.nn.MaxPool2d"),
    (F + "getattr(F, 'conv2d')(X, K)", "forbidden", "torch.nn.functional.conv2d"),
    (F + "self = F\nself.conv2d(X, K)", "forbidden", ".conv2d"),
    (F + "f = lambda X, K, self=F: self.conv2d(X, K)", "forbidden", ".conv2d"),
    (F + "%timeit F.avg_pool2d(X, 2)", "forbidden", "avg_pool2d"),
    ("import numpy as np\nnp.convolve(a, b)", "forbidden", "numpy.convolve"),
    ("import numpy as np\nnp.lib.stride_tricks.sliding_window_view(a, 2)", "forbidden", "sliding_window_view"),
    # Libraries nobody listed are outside the allow-list: no deny-list to complete.
    ("import scipy.signal", "forbidden", "scipy.signal"),
    ("from scipy import ndimage", "forbidden", "scipy.ndimage"),
    ("import scipy.linalg\nscipy.linalg.convolution_matrix(a, 3)", "forbidden", "scipy.linalg"),
    ("import pandas as pd\npd.Series(x).rolling(2).sum()", "forbidden", "pandas"),
    ("import book\nbook.conv.corr2d(X, K)", "forbidden", "book"),
    ("from book.viz import corr2d", "forbidden", "book.viz.corr2d"),
    ("from d2l import torch as d2l\nd2l.corr2d(X, K)", "forbidden", "d2l.torch"),
    ("import pdb", "forbidden", "pdb"), ("import doctest", "forbidden", "doctest"),
    ("import importlib", "forbidden", "importlib"), ("import inspect", "forbidden", "inspect"),
    ("import sys\nsys.modules['torch']", "forbidden", "sys"),
    ("import os\nos.write(3, b'{}')", "forbidden", "os"),
    ("import grading.checks as c\nc.no_library = None", "forbidden", "grading.checks"),
    (F + "torch.Tensor.tolist = lambda self: []", "forbidden", "an assignment to torch.Tensor.tolist"),
    (F + "F.__dict__['conv2d']", "forbidden", "__dict__"),
    # Code whose target the source cannot show: a person looks.
    (F + "getattr(F, 'conv' + '2d')(X, K)", "review", "getattr()"),
    ("eval('1 + 1')", "review", "eval()"), ("exec('x = 1')", "review", "exec()"),
    ("__import__('torch')", "review", "__import__()"), (F + "vars(F)['conv2d']", "review", "vars()"),
    ("open(3, 'w')", "review", "open()"),
    ("from torch.nn.functional import *", "review", "import *"),
    ("try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame.f_back", "review", "__traceback__"),
    ("class T(torch.Tensor):\n    def __torch_dispatch__(cls, *a):\n        pass", "review", "__torch_dispatch__"),
    ("x = " + "+".join(["1"] * 1000), "review", "nested too deeply"),
    ("import numpy as np\nnp.lib.stride_tricks.DummyArray", "forbidden", "numpy.lib.stride_tricks.DummyArray"),
    # Autograd, where a question forbids it.
    ("y.sum().backward()", "autograd", ".backward"),
    (F + "torch.autograd.grad(y, x)", "autograd", "torch.autograd.grad"),
])
def test_the_scan_finds_every_route(source: str, kind: str, what: str) -> None:
    findings = scan_cell(source)
    assert any(f.kind == kind and what in f.what for f in findings), findings


def test_a_cell_of_thousands_of_escapes_is_left_unread_without_ipython(monkeypatch) -> None:
    """IPython's rewrite costs escapes x length, so a cell of tens of thousands of `!ls` lines would hold the
    grader's own process for minutes: past a notebook-wide budget a cell is read as defining nothing, so it is in no
    answer's closure."""
    from IPython.core.inputtransformer2 import TransformerManager
    calls: List[int] = []
    original = TransformerManager.do_token_transforms   # the costly step: escapes x length
    monkeypatch.setattr(TransformerManager, "do_token_transforms", lambda self, lines: calls.append(len(lines)) or
                        original(self, lines))
    assert Notebook([{"id": None, "source": "x = 1\n" + "!ls\n" * 60_000}]).trees == [None] and calls == []
    for prompt in (">>> ", "In [1]: ", "   ...: "):   # IPython strips pasted prompts before it rewrites escapes
        assert Notebook([{"id": None, "source": f"{prompt}!ls\n" * 30_000}]).trees == [None] and calls == []
    assert Notebook([{"id": None, "source": "x = 1\n" + "!ls\n" * 3}]).trees[0] is not None and len(calls) == 1
    calls.clear()   # the budget is the notebook's: many small floods spend it as one large one does
    notebook = Notebook([{"id": None, "source": "!ls\n" * 40}] * 200 + [{"id": None, "source": "y = 2"}])
    assert 0 < len(calls) < 100 and notebook.trees[-2] is None and notebook.trees[-1] is not None


def test_a_closure_is_the_answer_and_what_it_reads_never_the_rest() -> None:
    """Escapes, help, inspect, plots and a library check in other cells are outside the answer's closure; a helper
    defined in a later cell, a first draft redefined, a class's own `backward` are the student's own."""
    from grading.policy import Policy
    cells = ["import torch\nimport torch.nn.functional as F\nimport inspect\n!pip install numpy",
             "def corr2d(X, K):\n    return F.conv2d(X[None, None], K[None, None])[0, 0]   # a first draft",
             "def corr2d(X, K):\n    h, w = K.shape\n    return torch.stack([window(X, K, i)"
             " for i in range(X.shape[0] - h + 1)])",
             "torch.zeros?\nhelp(corr2d)\nprint(inspect.signature(corr2d))\n%timeit corr2d(X, K)",
             "X, K = torch.ones(4, 4), torch.ones(2, 2)\nprint(torch.allclose(corr2d(X, K), F.conv2d(X[None, None],"
             " K[None, None])[0, 0]))",
             "def window(X, K, i):\n    h, w = K.shape\n    return torch.stack([(X[i:i + h, j:j + w] * K).sum()"
             " for j in range(X.shape[1] - w + 1)])",
             "class Pool:\n    def backward(self, d):\n        return d\nlayer = Pool()",
             "def pool_grad(d):\n    return layer.backward(d)"]
    notebook = Notebook([{"id": str(i), "source": s} for i, s in enumerate(cells)])
    answer = notebook.answer(Policy(), ["corr2d"])
    assert answer.findings == [] and {notebook.statements[p].cell for p in answer.positions} >= {0, 2, 5}
    assert 1 not in {notebook.statements[p].cell for p in answer.positions}
    assert notebook.answer(Policy(autograd=True), ["pool_grad"]).findings == []


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
        assert any(f.kind == "forbidden" and f.what == "scipy.signal" for f in scan_cell(source))


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


def test_the_baseline_rules_split_at_one_image_more_right_than_the_baseline() -> None:
    """Exercise 7's two verdicts on predictions, against labels and a baseline the reference run recorded: beating
    the MLP is getting at least one image more right than it; a network with its convolutions zeroed must not."""
    from grading.compare import MalformedValue, apply_rule
    labels = np.array([0, 1, 2, 3])
    context = {"labels": labels, "baseline": (2 + 0.5) / 4}   # the MLP gets two right
    two_right, three_right = np.array([0, 1, 0, 0]), np.array([0, 1, 2, 0])
    assert apply_rule("beats_baseline", three_right, context)[0]
    assert not apply_rule("beats_baseline", two_right, context)[0]
    assert apply_rule("stays_below_baseline", two_right, context)[0]
    ok, message = apply_rule("stays_below_baseline", three_right, context)
    assert not ok and message == "accuracy 0.750 still beats the MLP baseline 0.625"
    ok, message = apply_rule("stays_below_baseline", np.zeros((4, 10)), context)
    assert not ok and "expected integer class predictions of shape (4,)" in message
    with pytest.raises(MalformedValue, match="stays_below_baseline needs a context with labels and baseline"):
        apply_rule("stays_below_baseline", two_right, None)


def test_predicted_classes_with_layers_zeroed_leave_the_model_as_it_was() -> None:
    import torch
    from grading.checks import predicted_classes
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Dropout(0.5),
                                torch.nn.Linear(2 * 4 * 4, 3))
    images = torch.randn(8, 1, 6, 6)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    model.eval()
    with torch.no_grad():
        expected = model(images).argmax(dim=1)
        zeroed = model[1:](torch.zeros(8, 2, 4, 4) + model[0].bias.view(1, 2, 1, 1)).argmax(dim=1)
    model.train()
    assert torch.equal(predicted_classes(model, images), expected)          # eval mode: dropout off
    assert torch.equal(predicted_classes(model, images, zeroing=torch.nn.Conv2d), zeroed)
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.slow
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


def test_a_run_that_ends_unfinished_with_status_0_is_run_once_more(sandbox_works) -> None:
    """The runner exits 0 only after its final report: a run that ends with 0 before it is run again, once, and an
    ordinary run is run once."""
    from grading.sandbox import Limits, Sandbox
    with Sandbox.open() as sandbox:
        ended = sandbox.run([{"id": "a", "source": "import ctypes\nctypes.CDLL(None)._exit(0)"}], [], Limits(timeout=60))
        ordinary = sandbox.run([{"id": "a", "source": "x = 1"}], [], Limits(timeout=60))
    assert (ended.returncode, ended.unfinished, ended.attempts) == (0, True, 2)
    assert (ordinary.returncode, ordinary.unfinished, ordinary.attempts) == (0, False, 1)


SWALLOWED_ALARM = """
import time
class Slow:
    def __del__(self):
        time.sleep(100)   # the alarm strikes here, and Python only prints what __del__ raised
def run():
    Slow()
    while True:
        time.sleep(0.1)
run()
"""


def test_a_cell_whose_timeout_python_swallowed_still_ends_at_its_limit(sandbox_works) -> None:
    """A Timeout raised in a `__del__` (or an at-fork handler, as `!pip` meets it) is printed and lost; the alarm
    strikes again, so the endless loop after it ends as a timeout of that cell alone, and the next cell runs."""
    from grading.sandbox import Limits, Sandbox
    with Sandbox.open() as sandbox:
        run = sandbox.run([{"id": "a", "source": SWALLOWED_ALARM}, {"id": "b", "source": "after = 1"}], [],
                          Limits(timeout=20))
    cells = [(e["index"], e["status"]) for e in run.events if e.get("event") == "cell"]
    assert not run.timed_out and cells == [(0, "timeout"), (1, "ok")], (cells, run.log_tail)
    assert "Exception ignored" in run.log_tail


# ---------------------------------------------------------------------------------------------------------------
# A student's own check says what the grader will say
# ---------------------------------------------------------------------------------------------------------------

LOCAL_CHECK = """
import json, sys
import nbformat
from IPython.core.interactiveshell import InteractiveShell
from grading.checks import ForbiddenCall
from grading.material import load_exercises
shell = InteractiveShell.instance()
verdicts = {}
for cell in nbformat.read(sys.argv[1], as_version=4).cells:
    if cell.cell_type == "code":
        shell.run_cell(cell.source, store_history=True)
for question in load_exercises()[sys.argv[2]].questions:
    for test in (t for t in question.tests if not t.hidden):
        scope = {}
        exec(test.source, scope)
        function = scope[test.name]
        try:
            function(*[shell.user_ns[n] for n in function.__code__.co_varnames[:function.__code__.co_argcount]])
            verdicts[question.name] = ["passed", ""]
        except ForbiddenCall as forbidden:
            verdicts[question.name] = ["forbidden", str(forbidden)]
        except Exception as error:
            verdicts.setdefault(question.name, ["failed", repr(error)])
print(json.dumps(verdicts))
"""
LOCAL_VARIANTS = {   # corr2d by routes the exercise forbids: the student's own check must say so, as the grader does
    "imported_conv2d": "from torch.nn.functional import conv2d\ndef corr2d(X, K):\n"
                       "    return conv2d(X[None, None], K[None, None])[0, 0]",
    "unfold": "def corr2d(X, K):\n    h, w = K.shape\n    windows = X.unfold(0, h, 1).unfold(1, w, 1)\n"
              "    return (windows * K).sum(dim=(-1, -2))",
    "scipy": "import scipy.signal\ndef corr2d(X, K):\n    return torch.from_numpy(scipy.signal.correlate2d("
             "X.numpy(), K.numpy(), mode='valid'))",
}


@pytest.mark.slow
def test_a_students_check_gives_the_graders_verdict(sandbox_works, tmp_path: Path) -> None:
    """The public tests run in a kernel (as otter's `grader.check` runs them) fail with the grader's message, for
    the source verdict and the trace's alike; honest extras (`!pip`, `?`, `inspect`) change nothing."""
    from test_wrong_answers import _with_answer
    name = EXERCISES[0]
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    extras = ["!pip list | head -3", "torch.zeros?", "import inspect\nprint(inspect.signature(corr2d))"]
    for label, source in {**LOCAL_VARIANTS, "honest_extras": None}.items():
        notebook = _with_answer(solution, source) if source else solution
        if source is None:
            notebook.cells += [nbformat.v4.new_code_cell(extra) for extra in extras]
        (tmp_path / label).mkdir()
        nbformat.write(notebook, tmp_path / label / f"{name}.ipynb")
    out = tmp_path / "grades.csv"
    assert grade_command([str(tmp_path)], out, "--jobs", "2").returncode == 0
    graded = {(r["submission"].split("/")[-2], r["question"]): r for r in csv_rows(out)}
    for label in [*LOCAL_VARIANTS, "honest_extras"]:
        result = subprocess.run([sys.executable, "-c", LOCAL_CHECK, str(tmp_path / label / f"{name}.ipynb"), name],
                                capture_output=True, text=True, cwd=tmp_path, timeout=300)
        local = json.loads(result.stdout.strip().splitlines()[-1])
        row = graded[(label, "corr2d")]
        if label == "honest_extras":
            assert all(status == "passed" for status, _ in local.values()), local
            assert {r["status"] for (lab, _), r in graded.items() if lab == label} == {"passed"}
            continue
        assert local["corr2d"][0] == "forbidden" and row["status"] == "failed" and row["points"] == "0", (local, row)
        message = local["corr2d"][1].replace("(input ", "(code cell ")
        assert row["message"] in (message, f"forbidden: {message}"), (message, row["message"])


@pytest.mark.slow
def test_a_renamed_notebook_runs_its_own_checks_in_jupyter(tmp_path: Path) -> None:
    """A browser's download renames the file; otter's checks still find it, say what a forbidden call costs, and
    name what the hidden tests check once the public ones pass."""
    from nbclient import NotebookClient
    from test_wrong_answers import _defined, _with_answer
    name = EXERCISES[0]
    exercise = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    answer = next(c.source for c in solution.cells if c.cell_type == "code" and _defined(c.source) == {"corr2d"})
    exercise = _with_answer(exercise, answer)   # the worked corr2d, then an F.conv2d one, each in a renamed copy
    checks = {}
    for label, notebook in (("worked", exercise), ("library", _with_answer(exercise, LOCAL_VARIANTS["imported_conv2d"]))):
        folder = tmp_path / label
        folder.mkdir()
        path = folder / f"{name} (1).ipynb"
        nbformat.write(notebook, path)
        NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
        outputs = [o for c in notebook.cells if c.cell_type == "code" and c.source.strip() == 'grader.check("corr2d")'
                   for o in c.outputs]
        checks[label] = json.dumps([o.get("data", {}).get("text/plain", o.get("text", "")) for o in outputs])
        assert "NameError" not in checks[label] and "FileNotFoundError" not in checks[label], checks[label]
    assert "hidden test(s) also check" in checks["worked"], checks["worked"]
    assert "torch.nn.functional.conv2d" in checks["library"] and "forbidden" in checks["library"], checks["library"]


@pytest.mark.slow
def test_a_batch_shows_progress_lists_stray_files_and_a_regrade_merges(sandbox_works, tmp_path: Path) -> None:
    """Not a terminal: one line per finished notebook. A .pdf handed in is an invalid row, not skipped; an earlier
    copy of a resubmission is listed, not graded. The roster names who handed nothing in. Regrading one student
    replaces their rows only."""
    import shutil
    name = EXERCISES[0]
    for student in ("alice", "bob"):
        (tmp_path / student).mkdir()
        shutil.copy(ROOT / "solutions" / f"{name}.ipynb", tmp_path / student / f"{name}.ipynb")
    shutil.copy(ROOT / "solutions" / f"{name}.ipynb", tmp_path / "bob" / f"{name}-1.ipynb")   # a resubmission
    (tmp_path / "bob" / "report.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "bob" / ".DS_Store").write_bytes(b"\0")
    out = tmp_path / "grades.csv"
    roster = tmp_path / "roster.txt"
    roster.write_text("alice\nbob\ncarol\n")
    first = grade_command([str(tmp_path / "alice"), str(tmp_path / "bob")], out, "--jobs", "2", "--roster",
                          str(roster))
    assert first.returncode == 0, first.stderr
    assert "2 of 3 students" in first.stdout and "no submission (1): carol" in first.stdout, first.stdout
    assert sorted(line.split("] ")[0] for line in first.stderr.splitlines() if line.startswith("[")) == \
        ["[1/4", "[2/4", "[3/4", "[4/4"]
    rows = csv_rows(out)
    [earlier] = [r for r in rows if r["submission"].endswith(f"bob/{name}.ipynb")]
    assert earlier["status"] == "invalid" and f"{name}-1.ipynb is this student's latest" in earlier["message"]
    pdf = [r for r in rows if r["submission"].endswith("report.pdf")]
    assert len(pdf) == 1 and pdf[0]["status"] == "invalid" and "not a notebook (.pdf)" in pdf[0]["message"]
    assert not any(".DS_Store" in r["submission"] for r in rows)
    bob = [r for r in rows if "/bob/" in r["submission"]]
    broken = tmp_path / "alice" / f"{name}.ipynb"
    broken.write_text("{ not json")
    again = grade_command([str(broken)], out)
    assert again.returncode == 0 and "kept" in again.stdout, again.stdout
    merged = csv_rows(out)
    assert [r for r in merged if "/bob/" in r["submission"]] == bob
    assert [r["status"] for r in merged if "/alice/" in r["submission"]] == ["invalid"]
    assert grade_command([str(broken)], out, "--replace").returncode == 0
    assert {r["submission"] for r in csv_rows(out)} == {display_path(broken)}


@pytest.mark.parametrize("expected, got, message", [
    ([1.0, 2.0], None, "expected 2 values (a tensor, array or list), got None (does the function `return` its"),
    ([2, 3], [1, 3], "expected 2 at [0], got 1"),   # an int stays an int
    (2, np.array(1), "expected 2, got 1"),
    (np.zeros((2, 2)), None, "got None (does the function `return` its result?)"),
])
def test_messages_say_what_a_student_can_act_on(expected, got, message: str) -> None:
    ok, said = compare(expected, got, reveal=True)
    assert not ok and said.startswith(message) or message in said, said


@pytest.mark.slow
def test_a_syntax_error_in_the_answer_cell_is_named_with_its_cell(sandbox_works, tmp_path: Path) -> None:
    """Not only `NameError: corr2d is not defined`: which cell failed to define it, and why."""
    from test_wrong_answers import _with_answer
    name = EXERCISES[0]
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    notebook = _with_answer(solution, "def corr2d(X, K):\n    return X\n")
    [cell] = [c for c in notebook.cells if c.source == "def corr2d(X, K):\n    return X\n"]
    cell.source = "def corr2d(X, K):\n    return X +\n"   # a slip of the keyboard
    nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    out = tmp_path / "grades.csv"
    assert grade_command([str(tmp_path / f"{name}.ipynb")], out).returncode == 0
    [row] = [r for r in csv_rows(out) if r["question"] == "corr2d"]
    assert "corr2d is not defined" in row["message"] and "SyntaxError" in row["message"] and \
        "cell" in row["message"], row["message"]


def test_only_events_signed_with_the_runs_token_count_for_a_closure() -> None:
    """Code in a closure can write lines into the channel (a plot saved to /proc/self/fd/N) but cannot read the
    token the runner signs with: forged results followed by a crash must not stand."""
    from grading.sandbox import SandboxRun
    forged = {"event": "test", "question": "corr2d", "test": "test_corr2d_general", "status": "ran", "records": []}
    signed = {**forged, "token": "s3cret"}
    crashed = SandboxRun([forged, {"event": "closure-done"}], returncode=-11, timed_out=False, seconds=1.0,
                         token="s3cret")
    assert crashed.closure_events() == [] and crashed.notebook_events() == []
    whole = SandboxRun([forged, signed, {"event": "closure-done", "token": "s3cret"}, forged], returncode=0,
                       timed_out=False, seconds=1.0, token="s3cret")
    assert whole.closure_events() == [signed] and whole.notebook_events() == [forged]


def test_a_hidden_tests_failure_names_its_case_as_the_reference_recorded_it() -> None:
    """convolve1d's hidden test checks six cases; a wrong length in mode 'same' is named by mode and sizes, with no
    value given away, and the name comes from the reference's records: a run that words its own is ignored."""
    from grading.checks import _record
    from grading.judge import _judge_test
    from grading.sandbox import SandboxRun
    exercise = load_exercises(ROOT / "grading" / "autograder")["01_convolution_math"]
    question = next(q for q in exercise.questions if q.name == "convolve1d")
    test = next(t for t in question.tests if t.name == "test_three_modes_asymmetric_kernels")
    reference = exercise.reference["convolve1d"][test.name]
    records = []
    for expected in reference:
        value = decode(expected["value"])
        if expected["case"].startswith("mode 'same', a kernel of 4"):
            value = value[:-1]
        records.append({**_record(value, _MISSING, None, None, 1e-4, 1e-4), "case": "forged: full marks"})
    run = SandboxRun(events=[], returncode=0, timed_out=False, seconds=0.0)
    status, message = _judge_test(test, {"status": "ran", "records": records}, reference, run, True)
    assert status == "failed", message
    assert message == "mode 'same', a kernel of 4 and an input of 9: expected shape (9,), got shape (8,)", message


@pytest.mark.slow
def test_a_students_check_says_where_their_code_raised_with_the_message_whole(tmp_path: Path) -> None:
    """otter would say `Error at line N in test ...` (a line of a test file the student never sees) and strip the
    quotes off the message; the check says the error whole and the line of the student's own cell."""
    from nbclient import NotebookClient
    from test_wrong_answers import _with_answer
    name = EXERCISES[0]
    exercise = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    broken = "def corr2d(X, K):\n    Y = None\n    return Y.shape"
    notebook = _with_answer(exercise, broken)
    nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    cell = next(c for c in notebook.cells if c.cell_type == "code" and c.source.strip() == 'grader.check("corr2d")')
    shown = json.dumps([o.get("data", {}).get("text/plain", o.get("text", "")) for o in cell.outputs])
    assert "AttributeError: 'NoneType' object has no attribute 'shape'" in shown, shown
    assert "(raised at line 3 of your cell In[" in shown and "Error at line" not in shown, shown


INODE_PROBE = """
import json, os
counts = {}
for folder in ("/submission", "/tmp", "/dev/shm"):
    count = 0
    try:
        while count < 40_000:
            open(f"{folder}/f{count}", "w").close()
            count += 1
    except OSError:
        pass
    counts[folder] = count
bound = os.environ.get("BOUND", "")
try:
    open(os.path.join(bound, "written"), "w")
    writable = True
except OSError:
    writable = False
print(json.dumps({"counts": counts, "uid": os.getuid(), "cwd": os.getcwd(), "writable": writable,
                  "read": open(os.path.join(bound, "kept")).read(),
                  "alone": open(os.path.join(os.path.dirname(bound), "alone", "file")).read()}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("as_root", [True, False], ids=["as root", "in a user namespace"])
def test_each_tmpfs_holds_a_limited_number_of_files(sandbox_works, tmp_path: Path, as_root: bool) -> None:
    """An empty file costs kernel memory, not tmpfs bytes: each tmpfs takes `Limits.files` inodes, whether the grader
    runs as root or as an ordinary user (in a user namespace, which root can use too: the same commands run). A
    folder bound under /tmp (a clone there), and a file bound alone (a data folder's file beside a withheld one),
    stay readable and read-only under the new /tmp."""
    from grading.sandbox import NOBODY, Limits, Sandbox
    if as_root and os.geteuid() != 0:
        pytest.skip("the root mode needs root")
    bound = tmp_path / "bound"
    bound.mkdir()
    (bound / "kept").write_text("the folder is there")
    (tmp_path / "alone").mkdir()
    (tmp_path / "alone" / "file").write_text("the file is there")
    os.chmod(tmp_path, 0o755)
    with Sandbox.open() as sandbox:
        sandbox.root_mode = as_root
        if str(bound).startswith("/tmp/"):
            sandbox.read_only = sandbox.read_only + [str(bound), str(tmp_path / "alone" / "file")]
        else:
            pytest.skip("pytest's temporary folder is not under /tmp")
        limits = Limits(files=1000)
        # What is bound under /tmp (these folders, and the course's data files in a clone there) and the folders
        # above it take inodes of /tmp's tmpfs: one each for its mount point and every parent folder.
        under_tmp = {str(q) for path in sandbox.read_only if path.startswith("/tmp/")
                     for q in (Path(path), *Path(path).parents) if str(q) not in ("/", "/tmp")}
        command = sandbox.command(limits, [sys.executable, "-I", "-c", INODE_PROBE])
        at = command.index("--clearenv") + 1
        command[at:at] = ["--setenv", "BOUND", str(bound)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    # The tmpfs's root directory is one of its inodes, and /tmp's holds what is bound under it.
    taken = {"/submission": 0, "/dev/shm": 0, "/tmp": len(under_tmp)}
    assert all(limits.files - 10 - taken[folder] <= count < limits.files
               for folder, count in seen["counts"].items()), (seen, sorted(under_tmp))
    assert seen["cwd"] == "/submission" and seen["read"] == "the folder is there" and not seen["writable"], seen
    assert seen["alone"] == "the file is there", seen
    assert seen["uid"] == NOBODY if not as_root else seen["uid"] != 0, seen


@pytest.mark.parametrize("source", ["import numpy as np\nv = np.lib.stride_tricks.as_strided(a, (2, 2), (8, 8))",
                                    "from numpy.lib.stride_tricks import as_strided"])
def test_numpy_as_strided_is_allowed_as_the_runner_bounds_it(source: str) -> None:
    assert scan_cell(source) == []


def test_the_bounded_as_strided_refuses_a_view_outside_the_arrays_memory() -> None:
    """What the runner puts in numpy's place: an honest strided im2col runs as numpy's would; a view that reaches a
    byte past the array, before it or anywhere by an object's address, is a ValueError."""
    from numpy.lib import stride_tricks
    from grading.checks import bound_numpy_as_strided
    unchecked = stride_tricks.as_strided
    try:
        bound_numpy_as_strided()
        bound_numpy_as_strided()   # once is enough, twice changes nothing
        checked = stride_tricks.as_strided
        assert checked is not unchecked and checked.bounded
        x = np.arange(2 * 4 * 5.0).reshape(2, 4, 5)
        c, h, w = x.shape
        strides = x.strides + x.strides[1:]
        windows = checked(x, shape=(c, h - 1, w - 2, 2, 3), strides=strides, writeable=False)
        assert np.array_equal(windows, unchecked(x, shape=(c, h - 1, w - 2, 2, 3), strides=strides))
        row = x[1, 2]   # a view: its owner is the whole array, so a window may reach back into it
        assert checked(row, shape=(2,), strides=(-8,))[1] == x[1, 1, 4]
        for shape, stride in (((41,), (8,)), ((2,), (-8 * 41,)), ((2,), (id(x) - x.ctypes.data,))):
            with pytest.raises(ValueError, match="outside the array's memory"):
                checked(x, shape=shape, strides=stride)
        assert checked(x, shape=(0, 3), strides=(10 ** 9, 8)).shape == (0, 3)
    finally:
        stride_tricks.as_strided = unchecked


def test_the_graders_threads_parse_only_under_its_lock() -> None:
    """CPython 3.11 keeps the AST converter's recursion depth in interpreter-wide state (gh-106905): two threads
    calling ast.parse at once can fail. Code the grader's threads run parses through forbidden.parse, which holds a
    lock; only the build (one thread) and forbidden.parse itself call ast.parse."""
    import re
    callers = {path.name: len(re.findall(r"\bast\.parse\(", path.read_text()))
               for path in sorted((ROOT / "grading").glob("*.py"))}
    assert {name: n for name, n in callers.items() if n} == {"build.py": 1, "forbidden.py": 1}
