"""The hostile battery: a class of clever students against the grader, in one batch with two honest classmates.

The battery grades a small exercise of its own (written here with its reference values, so it does not move when
the book's exercises change): `corr2d` and `maxpool2x2` forbid library convolution and pooling, `square_grad`
forbids autograd, `double` forbids nothing. Every attack below once worked against an earlier grader, or is a
route of the same class; each asserts its exact outcome, and the batch as a whole asserts that the honest rows are
intact and full, the grader exits 0, the CSV does not change after the grader exits, nothing is left outside the
sandbox's scratch, and the repository is unchanged.

A question that forbids the library is judged by its answer's closure alone (see grading.forbidden), run before any
other cell: an attack in a cell outside every closure cannot touch those questions, so classmates' honest answers
beside it keep their marks (`FULL_BESIDE`), while an attack inside an answer costs that question.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import nbformat
import pytest

from grading.checks import to_plain

from conftest import ROOT
from test_grade import csv_rows, grade_command

pytestmark = [pytest.mark.slow, pytest.mark.grading]
EXERCISE = "99_battery"
TIMEOUT = 40
SECRET = f"grader-secret-{uuid.uuid4().hex[:12]}"
MARKER = f"battery-outlive-{uuid.uuid4().hex[:12]}"

TESTS = {
    "corr2d": [("test_corr2d_example", False, """
def test_corr2d_example(corr2d):
    import torch
    from grading.checks import check, no_library
    X, K = torch.arange(9.0).reshape(3, 3), torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    with no_library():
        check(corr2d(X, K), [[19.0, 25.0], [37.0, 43.0]])
"""), ("test_corr2d_general", True, """
def test_corr2d_general(corr2d):
    import torch
    from grading.checks import check, no_library
    generator = torch.Generator().manual_seed(1)
    X, K = torch.randn(6, 5, generator=generator), torch.randn(3, 2, generator=generator)
    with no_library():
        check(corr2d(X, K))
""")],
    "maxpool": [("test_maxpool", False, """
def test_maxpool(maxpool2x2):
    import torch
    from grading.checks import check, no_library
    with no_library():
        check(maxpool2x2(torch.arange(16.0).reshape(4, 4)), [[5.0, 7.0], [13.0, 15.0]])
""")],
    "grad": [("test_square_grad", False, """
def test_square_grad(square_grad):
    import torch
    from grading.checks import check, no_library
    with no_library(autograd=True):
        check(square_grad(torch.tensor([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])
""")],
    "double": [("test_double", False, """
def test_double(double):
    from grading.checks import check
    check(double(21), 42)
"""), ("test_double_hidden", True, """
def test_double_hidden(double):
    from grading.checks import check
    check(double(1234567))
""")],
}
POINTS = {"corr2d": 4.0, "maxpool": 2.0, "grad": 2.0, "double": 2.0}
FULL = sum(POINTS.values())


def _reference() -> Dict[str, Dict[str, List[dict]]]:
    import torch
    import torch.nn.functional as F
    generator = torch.Generator().manual_seed(1)
    X, K = torch.randn(6, 5, generator=generator), torch.randn(3, 2, generator=generator)

    def record(value, expected=None) -> dict:
        return {"rule": None, "atol": 1e-4, "rtol": 1e-4, "value": to_plain(value),
                **({"expected": to_plain(expected)} if expected is not None else {})}
    return {"corr2d": {"test_corr2d_example": [record([[19.0, 25.0], [37.0, 43.0]], [[19.0, 25.0], [37.0, 43.0]])],
                       "test_corr2d_general": [record(F.conv2d(X[None, None], K[None, None])[0, 0])]},
            "maxpool": {"test_maxpool": [record([[5.0, 7.0], [13.0, 15.0]], [[5.0, 7.0], [13.0, 15.0]])]},
            "grad": {"test_square_grad": [record([2.0, 4.0, 6.0], [2.0, 4.0, 6.0])]},
            "double": {"test_double": [record(42, 42)], "test_double_hidden": [record(2469134)]}}


def _material() -> dict:
    questions = []
    for name, tests in TESTS.items():
        questions.append({"name": name, "points": POINTS[name], "cell_ids": [f"bat-{name}"],
                          "tests": [{"name": t, "hidden": hidden, "points": POINTS[name] / len(tests),
                                     "source": source.strip() + "\n"} for t, hidden, source in tests]})
    return {"exercise": EXERCISE, "questions": questions, "reference": _reference()}


HONEST = {
    "bat-setup": "import torch",
    "bat-corr2d": """
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y""",
    "bat-maxpool": "def maxpool2x2(X):\n    return X.reshape(X.shape[0] // 2, 2, X.shape[1] // 2, 2).amax(dim=(1, 3))",
    "bat-grad": "def square_grad(x):\n    return 2 * x",
    "bat-double": "def double(n):\n    return 2 * n",
}
BLANK = {**{key: "..." for key in HONEST}, "bat-setup": "import torch"}


def notebook(cells: Dict[str, str] = HONEST, before: Tuple[str, ...] = (), after: Tuple[str, ...] = (),
             **replace: str) -> nbformat.NotebookNode:
    """A submission: the given answer cells (any replaced, keyed without the 'bat-' prefix), extra cells around."""
    sources = {**cells, **{f"bat-{k}": v for k, v in replace.items()}}
    book = nbformat.v4.new_notebook(metadata={"book": {"exercise": EXERCISE}})
    book.cells = [nbformat.v4.new_code_cell(s) for s in before]
    for cell_id, source in sources.items():
        cell = nbformat.v4.new_code_cell(source.strip())
        cell.id = cell_id
        book.cells.append(cell)
    book.cells += [nbformat.v4.new_code_cell(s) for s in after]
    return book


LIBRARY_CORR2D = "import torch.nn.functional as F\ndef corr2d(X, K):\n    return {call}"
OUTLIVE = f"""
import os, subprocess, sys, time
targets = {{targets!r}}
code = ("import time, pathlib\\ntime.sleep(4)\\n"
        "for t in " + repr(targets) + ":\\n"
        "    try: pathlib.Path(t).write_text('{MARKER}')\\n"
        "    except Exception: pass\\n")
subprocess.Popen([sys.executable, "-c", code, "{MARKER}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(4)
        for t in targets:
            try:
                open(t, "w").write("{MARKER}")
            except Exception:
                pass
        os._exit(0)
    os._exit(0)
"""
FIND_AND_RUN = """
import glob, json, os, pathlib
places = set()
for path in glob.glob("/proc/*/cmdline") + glob.glob("/proc/*/cwd") + glob.glob("/proc/*/environ"):
    try:
        text = os.readlink(path) if path.endswith("cwd") else open(path, "rb").read().decode(errors="ignore")
    except OSError:
        continue
    for word in text.replace("=", "\\0").split("\\0"):
        if word.startswith("/"):
            places.update(str(p) for p in [pathlib.Path(word)] + list(pathlib.Path(word).parents)[:-1])
try:
    import book
    places.add(str(pathlib.Path(book.__file__).resolve().parents[1]))
except Exception:
    pass
places.update(["/tmp", "/work", "/root", "/home", os.getcwd(), os.path.expanduser("~")])
stolen = {}
for root in sorted(places, key=len)[:200]:
    root = pathlib.Path(root)
    for pattern in ["*99_battery*.ipynb", "*/*99_battery*.ipynb", "*/*/*99_battery*.ipynb", "solutions/*.ipynb",
                    "grading/autograder/*.json", "*/*.csv", "*.csv"]:
        for path in list(root.glob(pattern))[:20]:
            try:
                text = path.read_text()
            except Exception:
                continue
            stolen[str(path)] = text
            if path.suffix == ".ipynb":
                for cell in json.loads(text).get("cells", []):
                    if cell.get("cell_type") == "code":
                        try:
                            exec("".join(cell["source"]), globals())
                        except Exception:
                            pass
print("found", sorted(stolen))
"""
ENVIRON = """
import glob, os
dump = " ".join(f"{k}={v}" for k, v in os.environ.items())
for path in glob.glob("/proc/*/environ") + ["/proc/1/environ", f"/proc/{os.getppid()}/environ"]:
    try:
        dump += open(path, "rb").read().decode(errors="ignore")
    except OSError:
        pass
at = dump.find("GRADER_SECRET")
def double(n):   # an error message reaches the CSV: the one route out for what a submission reads
    raise ValueError(dump[at:at + 60] if at >= 0 else "no secret here")
"""
FORGE = """
import json, os
events = []
for question, test, value in [("double", "test_double", 42), ("double", "test_double_hidden", -8),
                              ("corr2d", "test_corr2d_example", [[19.0, 25.0], [37.0, 43.0]])]:
    record = {"rule": None, "atol": 1.0, "rtol": 1.0, "value": value}
    events.append(json.dumps({"event": "test", "question": question, "test": test, "status": "ran",
                              "records": [record]}) + "\\n")
for fd in range(3, 64):
    for event in events:
        try:
            os.write(fd, event.encode())
        except OSError:
            pass
os.kill(os.getpid(), 9)
"""
# Forged results and closing report first, then enough lines that the real ones (duplicates, which would show the
# forgery) go unread; written through `open(fd + 0)`, which the scan does not read as a file descriptor.
FORGE_THEN_FLOOD = FORGE.split("for fd in")[0] + """
events.append(json.dumps({"event": "done", "seconds": 1.0, "loaded": []}) + "\\n")
flood = "".join(events) + "{}\\n" * 10_000
for fd in range(3, 40):
    try:
        with open(fd + 0, "w", closefd=False) as channel:
            channel.write(flood)
    except Exception:
        pass
"""
PATCHES = """
import builtins, numpy, torch
torch.allclose = lambda *a, **k: True
numpy.allclose = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
builtins.isinstance = lambda *a: True
class Liar:
    def __eq__(self, other): return True
    def tolist(self): return [[19.0, 25.0], [37.0, 43.0]]
def corr2d(X, K): return Liar()
def double(n): return Liar()
"""

# Routes that hide a library function's name in text, or run code the scan cannot read. Each reaches scipy, which the
# ATen trace cannot see: once scipy is loaded and traced (the notebook imports it), once by a route of its own.
SCIPY_CALL = "\ndef corr2d(X, K):\n    return torch.from_numpy(c(X.numpy(), K.numpy(), mode='valid'))"
HIDDEN_NAMES = {
    "format_field": "import scipy, string\nc = string.Formatter().get_field('0.sig' + 'nal.correl' + 'ate2d', "
                    "[scipy], {})[0]",
    "annotation_eval": "import scipy, typing\nclass A:\n    x: ('scipy.sig' + 'nal.correlate2d')\n"
                       "c = typing.get_type_hints(A)['x']",
    "mock_original": "from unittest import mock\nc = mock.patch('scipy.sig' + 'nal.correlate2d').get_original()[0]",
    "benchmark_timer": "from torch.utils.benchmark import Timer\nbox = {}\nTimer(stmt='from scipy.sig' + 'nal import "
                       "correlate2d as c; box[0] = c', globals={'box': box}).timeit(1)\nc = box[0]",
    "config_magic_exec": "%config A.b = globals().update(c=__import__('scipy.signal').signal.correlate2d)",
    "module_written_then_imported": "import sys\nopen('helper.py', 'w').write('from scipy.sig' + 'nal import "
                                    "correlate2d as c\\n')\nsys.path.insert(0, '.')\nfrom helper import c",
}
# The name in plain sight, but where the scan's walk from the answer does not look (an alias's mutation).
ALIASED = "import {module} as S\nbox = {{}}\nalias = box\nalias['c'] = S.{name}\n"
THREAD_BESIDE_THE_TRACE = """
import logging, logging.handlers, queue
import torch.nn.functional as F
box = {}
alias = box
alias["c"] = F.conv2d
class Worker(logging.Handler):
    def handle(self, record):
        X, K, out = record.args
        out.put(box["c"](X[None, None], K[None, None])[0, 0])
jobs = queue.Queue()
logging.handlers.QueueListener(jobs, Worker()).start()
def corr2d(X, K):
    out = queue.Queue()
    jobs.put(logging.LogRecord("x", 20, "", 0, "", (X, K, out), None))
    return out.get()"""
DISPATCH_SUBCLASS = """
import torch.nn.functional as F
box = {}
alias = box
alias["c"] = F.conv2d
class Sneaky(torch.Tensor):
    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):   # runs while the trace's mode steps aside
        return box["c"](Sneaky.X[None, None], Sneaky.K[None, None])[0, 0]
def corr2d(X, K):
    Sneaky.X, Sneaky.K = X, K
    return torch.Tensor.as_subclass(torch.zeros(1).as_subclass(Sneaky) + 0, torch.Tensor)"""
RESULT_FLOOD = """
line = ("[" + ",".join(["[]"] * 20_000_000) + "]\\n").encode()   # 60 MB that json.loads makes 1.5 GB of
for fd in range(3, 40):
    try:
        with open(fd + 0, "wb", closefd=False) as channel:
            channel.write(line)
    except Exception:
        pass"""
EVENT_FLOOD = """
for fd in range(3, 40):
    try:
        with open(fd + 0, "wb", closefd=False) as channel:
            channel.write(b'{}\\n' * 3_000_000)   # 3 million events of 3 bytes each, well within the file-size limit
    except Exception:
        pass"""
# Writing the runner's own memory: through /proc/self/mem (read-only in the sandbox), or through numpy's as_strided,
# which does not check bounds (the runner's bounded one refuses a view outside the array: the cell fails).
PROC_MEM = """
b = b"hello world"
try:
    with open("/proc/self/mem", "r+b", buffering=0) as mem:
        mem.seek(id(b) + 32)
        mem.write(b"HELLO")
except OSError as error:
    b = str(error).encode()
def double(n):
    return 2 * n if b == b"HELLO world" else b.decode()"""
STRIDED_MEMORY = """
import numpy as np
b = b"hello world"
base = np.zeros(1, dtype=np.uint8)
view = np.lib.stride_tricks.as_strided(base, shape=(2,), strides=(id(b) + 32 - base.ctypes.data,))
view[1] = ord("H")
def double(n):
    return 2 * n if b == b"Hello world" else -1"""
FORK_BOMB = """
import os, time
for i in range(400):
    try:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
    except OSError:
        break
time.sleep(12)"""
BOMB_VICTIM = """
import threading, time
time.sleep(3)
def double(n):
    out = []
    worker = threading.Thread(target=lambda: out.append(2 * n))
    worker.start()
    worker.join()
    return out[0]"""

# name -> (notebook, {question: (status, points)} or None when only the batch-wide checks apply)
ONLY_CORR2D_FORBIDDEN = {"corr2d": ("failed", 0), "maxpool": ("passed", 2), "grad": ("passed", 2),
                         "double": ("passed", 2)}
# An attack in a cell no answer depends on, beside honest answers: those answers keep their marks.
FULL_BESIDE = {"corr2d": ("passed", 4), "maxpool": ("passed", 2), "grad": ("passed", 2), "double": ("passed", 2)}

REWRITE_CHANNEL = """
import json, os
forged = json.dumps({"event": "test", "question": "double", "test": "test_double_hidden", "status": "ran",
                     "records": [{"rule": None, "atol": 1e9, "rtol": 1e9, "value": 0}]}) + "\\n"
for fd in range(3, 64):
    try:
        os.lseek(fd, 0, os.SEEK_SET)   # rewrite what the run already reported, in place
        os.write(fd, forged.encode())
    except OSError:
        pass
"""
# A non-forbidding answer that walks the runner's frames for the hidden test's source and raises it as its message.
STEAL_HIDDEN_TEST = """
import sys
def double(n):
    frame, found = sys._getframe(1), []
    while frame is not None:
        found += [v["source"] for v in frame.f_locals.values() if isinstance(v, dict) and "source" in v]
        frame = frame.f_back
    raise ValueError(" | ".join(found))
"""
MANY_FILES = """
import os
for i in range(150_000):
    try:
        open(f"f{i}", "w").close()
    except OSError:
        break
"""
LONG_LINE = """
line = ('{"event": "test", "question": "double", "test": "test_double", "x": "' + "a" * (60 << 20) + '"}\\n').encode()
for fd in range(3, 40):
    try:
        with open(fd + 0, "wb", closefd=False) as channel:
            channel.write(line)
    except Exception:
        pass
"""
# The attack classes that won against the deny-list design: libraries nobody listed, text run as code by a library,
# the channel rewritten in place, work deferred to the conversion of results, hidden tests' source in a message,
# inodes, a deep expression, one enormous line.
ISSUE_22_CLASSES = {
    "d2l_corr2d": (notebook(corr2d="from d2l import torch as d2l\ndef corr2d(X, K):\n    return d2l.corr2d(X, K)"),
                   ONLY_CORR2D_FORBIDDEN),
    "book_reexport": (notebook(corr2d="from book.pool import windows\ndef corr2d(X, K):\n    h, w = K.shape\n"
                                      "    return (windows(X, (h, w)) * K).sum(dim=(-1, -2))"), ONLY_CORR2D_FORBIDDEN),
    "convolution_matrix": (notebook(corr2d="import scipy.linalg\ndef corr2d(X, K):\n    T = scipy.linalg."
                                           "convolution_matrix(K.flatten().numpy(), 9)\n    return X"),
                           ONLY_CORR2D_FORBIDDEN),
    "pandas_rolling": (notebook(maxpool="import pandas as pd\ndef maxpool2x2(X):\n    rows = torch.tensor(pd."
                                        "DataFrame(X.numpy()).rolling(2).max().values[1::2])\n"
                                        "    return rows.reshape(-1, X.shape[1] // 2, 2).amax(-1)"),
                       {**FULL_BESIDE, "maxpool": ("failed", 0)}),
    "debugger_runs_text": (notebook(corr2d="import pdb\nbox = []\npdb.run('import torch.nn.functional as F; box."
                                           "append(F.conv2d)', globals())\ndef corr2d(X, K):\n    return box[0]("
                                           "X[None, None], K[None, None])[0, 0]"), {**FULL_BESIDE, "corr2d": ("error", 0)}),
    "test_runner_in_answer": (notebook(corr2d="def corr2d(X, K):\n    import doctest\n    box = {}\n    doctest."
                                              "run_docstring_examples('>>> import torch.nn.functional as F; box[0] = "
                                              "F.conv2d', {'box': box})\n    return box[0](X[None, None], "
                                              "K[None, None])[0, 0]"), ONLY_CORR2D_FORBIDDEN),
    "module_loader": (notebook(corr2d="import importlib.machinery\nc = importlib.machinery.SourceFileLoader\n"
                                      "def corr2d(X, K):\n    return c\n"), ONLY_CORR2D_FORBIDDEN),
    "rewrite_channel": (notebook(double="def double(n):\n    return -1", after=(REWRITE_CHANNEL,)),
                        {**FULL_BESIDE, "double": ("failed", 0)}),
    "defer_to_conversion": (notebook(corr2d="import torch.nn.functional as F\ndef corr2d(X, K):\n"
                                            "    torch.Tensor.tolist = lambda self: F.conv2d(X[None, None], "
                                            "K[None, None])[0, 0].flatten().numpy().tolist()\n    return torch.zeros(2, 2)"),
                            ONLY_CORR2D_FORBIDDEN),
    "steal_hidden_test": (notebook(double=STEAL_HIDDEN_TEST), {**FULL_BESIDE, "double": ("error", 0)}),
    "many_files": (notebook(after=(MANY_FILES,)), FULL_BESIDE),
    "deep_expression_elsewhere": (notebook(after=("x = " + "+".join(["1"] * 1000),)), FULL_BESIDE),
    "deep_expression_in_answer": (notebook(corr2d=HONEST["bat-corr2d"].replace("def corr2d(", "def plain(") +
                                           "\n\n\nzero = " + "+".join(["0"] * 1000) + "\n\n\ndef corr2d(X, K):\n"
                                           "    return plain(X, K) + zero"), {**FULL_BESIDE, "corr2d": ("review", 0)}),
    "long_line": (notebook(after=(LONG_LINE,)), FULL_BESIDE),
    # Ending the runner with status 0 before its final report: the run is graded again, once, and judged as it ended.
    "exit_zero_unfinished": (notebook(after=("import ctypes\nctypes.CDLL(None)._exit(0)",)),
                             {**FULL_BESIDE, "double": ("error", 0)}),
}



def battery(repository_targets: List[str]) -> Dict[str, Tuple[nbformat.NotebookNode, Dict[str, Tuple[str, float]]]]:
    full = {q: ("passed", p) for q, p in POINTS.items()}
    conv = "F.conv2d(X[None, None], K[None, None])[0, 0]"
    return {
        # Library routes: each must cost exactly the question whose answer uses it.
        "wrapped": (notebook(corr2d=LIBRARY_CORR2D.format(call=f"F.conv2d.__wrapped__{conv[8:]}")),
                    ONLY_CORR2D_FORBIDDEN),
        "plain_library": (notebook(corr2d=LIBRARY_CORR2D.format(call=conv)), ONLY_CORR2D_FORBIDDEN),
        "aten_convolution": (notebook(corr2d="def corr2d(X, K):\n    return torch.ops.aten.convolution("
                                             "X[None, None], K[None, None], None, [1, 1], [0, 0], [1, 1], False, "
                                             "[0, 0], 1)[0, 0]"), ONLY_CORR2D_FORBIDDEN),
        "aten_pooling": (notebook(maxpool="def maxpool2x2(X):\n    return torch.ops.aten.max_pool2d(X[None], "
                                          "[2, 2])[0]"),
                         {**full, "maxpool": ("failed", 0)}),
        "im2col": (notebook(corr2d="def corr2d(X, K):\n    h, w = K.shape\n    columns = torch._C._nn.im2col("
                                   "X[None, None], (h, w), (1, 1), (0, 0), (1, 1))[0]\n    return (K.reshape(1, -1) "
                                   "@ columns).reshape(X.shape[0] - h + 1, X.shape[1] - w + 1)"),
                   ONLY_CORR2D_FORBIDDEN),
        "scipy": (notebook(corr2d="from scipy.signal import correlate2d\ndef corr2d(X, K):\n    return "
                                  "torch.from_numpy(correlate2d(X.numpy(), K.numpy(), mode='valid'))"),
                  ONLY_CORR2D_FORBIDDEN),
        "helper_elsewhere": (notebook(double="import torch.nn.functional as G\nsneaky = G.conv2d\n"
                                             "def double(n):\n    return 2 * n",
                                      corr2d="def corr2d(X, K):\n    return sneaky(X[None, None], K[None, None])[0, 0]"),
                             ONLY_CORR2D_FORBIDDEN),
        "book_helper": (notebook(corr2d="from book.conv import corr2d as reference\ndef corr2d(X, K):\n"
                                        "    return reference(X, K)"), ONLY_CORR2D_FORBIDDEN),
        "autograd_backward": (notebook(grad="def square_grad(x):\n    x = x.clone().requires_grad_()\n"
                                            "    (x ** 2).sum().backward()\n    return x.grad"),
                              {**full, "grad": ("failed", 0)}),
        # autograd reached through names the walk from the answer does not follow: the block runs under no_grad,
        # and the trace sees grad mode turned back on.
        "autograd_aliased": (notebook(grad="box = {}\nalias = box\nalias['e'], alias['g'] = torch.enable_grad, "
                                           "torch.autograd.grad\ndef square_grad(x):\n    with box['e']():\n"
                                           "        x = x.clone().requires_grad_()\n        return box['g']((x ** 2)"
                                           ".sum(), x)[0].detach()"), {**full, "grad": ("failed", 0)}),
        "autograd_wrapped": (notebook(grad="def square_grad(x):\n    x = x.clone().requires_grad_()\n    return "
                                           "torch.autograd.grad.__wrapped__((x ** 2).sum(), x)[0]"),
                             {**full, "grad": ("failed", 0)}),
        # Code whose target the source does not show: a person decides.
        # The trace sees the convolution and fails corr2d; the other forbidding questions go to a person.
        "computed_name": (notebook(corr2d="import torch.nn.functional as F\ndef corr2d(X, K):\n    conv = "
                                          "getattr(F, 'conv' + '2d')\n    return conv(X[None, None], "
                                          "K[None, None])[0, 0]"), ONLY_CORR2D_FORBIDDEN),
        "exec_hidden": (notebook(corr2d="exec('import torch.nn.functional as F\\ndef corr2d(X, K):\\n    return "
                                        "F.conv2d(X[None, None], K[None, None])[0, 0]')"),
                        ONLY_CORR2D_FORBIDDEN),
        "rebind_checks": (notebook(after=("import contextlib, grading.checks as checks\nchecks.no_library = "
                                          "lambda *a, **k: contextlib.nullcontext()\nchecks._guard = None",)),
                          FULL_BESIDE),
        # Reading what the grader knows, or what classmates wrote.
        "read_solutions_and_classmates": (notebook(BLANK, after=(FIND_AND_RUN,)),
                                          {q: (None, 0) for q in POINTS}),
        # A forged result gains what hard-coding the public example gains (half of double), nothing more.
        "forge_results": (notebook(BLANK, after=(FORGE,)), {**{q: ("error", 0) for q in ("corr2d", "maxpool",
                                                                                         "grad")},
                                                            "double": ("failed", 1)}),
        # Forged results, then a flood that pushes the real ones (which would show the forgery) past what is read.
        "forge_then_flood": (notebook(BLANK, after=(FORGE_THEN_FLOOD,)), {q: ("error", 0) for q in POINTS}),
        "patch_everything": (notebook(BLANK, after=(PATCHES,)), {q: (None, 0) for q in POINTS}),
        "patch_tolist": (notebook(corr2d="def corr2d(X, K):\n    return torch.zeros(2, 2)",
                                  after=("torch.Tensor.tolist = lambda self: [19.0, 25.0, 37.0, 43.0]",)),
                         {**full, "corr2d": ("failed", 0)}),
        "unpickle_by_name": (notebook(corr2d="import pickle\nconv = pickle.loads(b'ctorch.nn.functional\\nconv2d\\n.')\n"
                                             "def corr2d(X, K):\n    return conv(X[None, None], K[None, None])[0, 0]"),
                             ONLY_CORR2D_FORBIDDEN),
        "read_environment": (notebook(double=ENVIRON), {**full, "double": ("error", 0)}),
        # Escaping the run, or stopping the batch.
        "outlive": (notebook(after=(OUTLIVE.replace("{targets!r}", repr(repository_targets)),)),
                    FULL_BESIDE),
        # The usual fork idiom: the child ends itself with os._exit while the parent is still busy, so a child that
        # carried on through the runner's loop would report every test before the parent did.
        "fork_child_exits": (notebook(after=("import os, time\nif os.fork() == 0:\n    os._exit(0)\ntime.sleep(3)",)),
                             FULL_BESIDE),
        "kill_grader": (notebook(before=("import os, signal\nfor pid in (os.getppid(), 1):\n    for s in "
                                         "(signal.SIGTERM, signal.SIGSTOP):\n        try:\n            os.kill(pid, s)\n"
                                         "        except OSError:\n            pass",)), FULL_BESIDE),
        "kill_everything": (notebook(after=("import os\nos.kill(-1, 9)",)), FULL_BESIDE),
        # Honest code that merely sits beside an answer: a layer built in corr2d's cell that corr2d never uses.
        "library_beside_the_answer": (notebook(corr2d=HONEST["bat-corr2d"] + "\n\nlayer = torch.nn.Conv2d(1, 1, 2)"),
                                      full),
        # Honest numpy loops and a large matmul inside the traced block: no thread, process or library is seen.
        "honest_numpy_and_matmul": (notebook(corr2d="import numpy as np\ndef corr2d(X, K):\n    h, w = K.shape\n"
                                                    "    out = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))\n"
                                                    "    for i in range(out.shape[0]):\n"
                                                    "        for j in range(out.shape[1]):\n"
                                                    "            out[i, j] = np.dot(X.numpy()[i:i + h, j:j + w].ravel(), "
                                                    "K.numpy().ravel())\n    big = torch.randn(300, 300) @ "
                                                    "torch.randn(300, 300)\n    return torch.from_numpy(out).float() "
                                                    "+ 0 * big.sum()"), full),
        # Plain trouble the runner survives.
        "endless_loop": (notebook(after=("import time\nwhile True:\n    try:\n        time.sleep(10)\n"
                                         "    except BaseException:\n        pass",)),
                         {**FULL_BESIDE, "double": ("timeout", 0)}),
        "memory_blowup": (notebook(before=("hog = bytearray(64 << 30)",)), full),
        "exits": (notebook(before=("import sys\nsys.exit(3)", "raise KeyboardInterrupt")), full),
        "lone_surrogate": (notebook(double="def double(n):\n    raise ValueError('\\ud800 is not text')"),
                           {**full, "double": ("error", 0)}),
        # A name held in text: the module that reads it is not on the allow-list (failed), or the name the answer
        # reads is bound nowhere the scan can read, beside code that runs text (a person looks), or the text never
        # runs in the closure, and the answer fails its tests there (error).
        **{f"hidden_{name}": (notebook(corr2d=source + SCIPY_CALL), {**FULL_BESIDE, "corr2d": (status, 0)})
           for name, source in HIDDEN_NAMES.items()
           for status in [{"benchmark_timer": "error", "config_magic_exec": "review"}.get(name, "failed")]},
        "match_class_keyword": (notebook(corr2d="import torch.nn.functional as F\nmatch F:\n    case object(conv2d=c):"
                                                "\n        pass\ndef corr2d(X, K):\n    return c(X[None, None], "
                                                "K[None, None])[0, 0]"), ONLY_CORR2D_FORBIDDEN),
        "lazy_conv_module": (notebook(corr2d="layer = torch.nn.LazyConv2d(1, (3, 2), bias=False)\ndef corr2d(X, K):\n"
                                             "    layer(X[None, None])\n    with torch.no_grad():\n"
                                             "        layer.weight.copy_(K[None, None])\n"
                                             "        return layer(X[None, None])[0, 0]"), ONLY_CORR2D_FORBIDDEN),
        # The trace still sees what the walk misses, scipy's and numpy's C entry points included.
        "aliased_scipy": (notebook(corr2d=ALIASED.format(module="scipy.signal", name="signaltools.correlate2d") +
                                   "c = box['c']" + SCIPY_CALL), ONLY_CORR2D_FORBIDDEN),
        "aliased_numpy_core": (notebook(corr2d=ALIASED.format(module="numpy", name="core.numeric.correlate") +
                                        HONEST["bat-corr2d"].replace("(X[i:i + h, j:j + w] * K).sum()",
                                        "float(box['c'](X[i:i + h, j:j + w].reshape(-1).numpy(), "
                                        "K.reshape(-1).numpy())[0])")), ONLY_CORR2D_FORBIDDEN),
        # A form feed ends a line for str.splitlines, not for Python: a scan that split the string there would skip
        # the cell as a syntax error, while IPython runs it.
        "form_feed_in_a_string": (notebook(corr2d='import scipy.signal as S\ns = "\x0c"; c = S.correlate2d' +
                                                  SCIPY_CALL), ONLY_CORR2D_FORBIDDEN),
        "global_from_a_function": (notebook(corr2d="import scipy.signal as S\ndef setup():\n    global c\n"
                                                   "    c = S.correlate2d\nsetup()" + SCIPY_CALL), ONLY_CORR2D_FORBIDDEN),
        # %config of the shell turns on autocall: `box.append S.correlate2d` runs, and no parser reads it.
        "autocall_config": (notebook(before=("%config InteractiveShell.autocall = 2", "import scipy.signal as S\n"
                                             "box = []", "box.append S.correlate2d"),
                                     corr2d="c = lambda *a, **k: box[0](*a, **k)" + SCIPY_CALL),
                            {**FULL_BESIDE, "corr2d": ("error", 0)}),
        "thread_beside_the_trace": (notebook(corr2d=THREAD_BESIDE_THE_TRACE), ONLY_CORR2D_FORBIDDEN),
        "dispatch_subclass": (notebook(corr2d=DISPATCH_SUBCLASS), ONLY_CORR2D_FORBIDDEN),
        # Flooding the result channel with what is cheap to write and dear to parse: the grader drops the line.
        "result_flood": (notebook(after=(RESULT_FLOOD,)), full),
        # Millions of tiny events: the grader reads the first ten thousand lines and trusts none of the reports of a
        # flooded run's notebook phase, so the flood costs the questions judged there, and each row says why.
        "event_flood": (notebook(after=(EVENT_FLOOD,)), {**FULL_BESIDE, "double": ("error", 0)}),
        "proc_mem_write": (notebook(double=PROC_MEM), {**full, "double": ("failed", 0)}),
        "strided_memory": (notebook(double=STRIDED_MEMORY), {**full, "double": ("error", 0)}),
        # A name bound thirty thousand times (within the size limit on code): the scan, in the grader's own untimed
        # process, stays linear.
        "scan_blowup": (notebook(corr2d="x = 0\n" + "x=x+0\n" * 30000 + HONEST["bat-corr2d"].replace(
            "return Y", "return Y + x")), full),
        # Escapes that IPython rewrites one at a time, tokenizing the cell again after each: the scan stops early.
        "escape_flood": (notebook(after=("!true\n" * 600,)), FULL_BESIDE),
        # The same behind pasted prompts, which IPython strips before it rewrites the escapes.
        "prompt_escape_flood": (notebook(after=(">>> !true\n" * 600,)), FULL_BESIDE),
        # A fork bomb fills its own process limit, not the one of the classmate graded beside it.
        "fork_bomb": (notebook(before=(FORK_BOMB,)), FULL_BESIDE),
        "fork_bomb_victim": (notebook(double=BOMB_VICTIM), FULL_BESIDE),
        **ISSUE_22_CLASSES,
    }


@pytest.fixture(scope="module")
def batch(sandbox_works, tmp_path_factory):
    folder = tmp_path_factory.mktemp("battery")
    material, submissions, out = folder / "material", folder / "submissions", folder / "grades.csv"
    material.mkdir()
    (material / f"{EXERCISE}.json").write_text(json.dumps(_material()))
    (submissions / "alice").mkdir(parents=True)
    (submissions / "bob").mkdir()
    nbformat.write(notebook(), submissions / "alice" / f"{EXERCISE}.ipynb")
    nbformat.write(notebook(), submissions / "bob" / f"{EXERCISE}.ipynb")
    targets = [str(ROOT / f"{MARKER}.txt"), str(ROOT / "grading" / f"{MARKER}.txt"), str(folder / f"{MARKER}.txt"),
               str(out), str(submissions / "bob" / f"{EXERCISE}.ipynb"), f"/tmp/{MARKER}.txt"]
    cases = battery(targets)
    for name, (book, _) in cases.items():
        nbformat.write(book, submissions / f"{name}_{EXERCISE}.ipynb")
    os.symlink(submissions / "bob" / f"{EXERCISE}.ipynb", submissions / f"a_thief_{EXERCISE}.ipynb")
    os.mkfifo(submissions / f"fifo_{EXERCISE}.ipynb")
    (submissions / f"invalid_json_{EXERCISE}.ipynb").write_text("{ not json")
    # Code the scan would take minutes over, holding up every classmate's grading behind it.
    nbformat.write(notebook(after=("x = 1\n" * 50_000,)), submissions / f"huge_code_{EXERCISE}.ipynb")
    (submissions / os.fsdecode(b"caf\xe9_" + EXERCISE.encode() + b".ipynb")).write_bytes(
        nbformat.writes(notebook()).encode())
    formulas = [f"=HYPERLINK(1)_{EXERCISE}.ipynb", f"-2+3_{EXERCISE}.ipynb", f"@SUM(A1)_{EXERCISE}.ipynb"]
    for name in formulas:
        nbformat.write(notebook(), submissions / name)
    # Names that would read alike in a spreadsheet: a zero-width space, a right-to-left override, a leading quote.
    lookalikes = ["spoof_99_battery.ipynb", "spoof\u200b_99_battery.ipynb", "spoof\u202e_99_battery.ipynb",
                  f"'=HYPERLINK(1)_{EXERCISE}.ipynb"]
    for name in lookalikes:
        nbformat.write(notebook(), submissions / name)
    out.write_text("an older grades file\n")

    repository = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    # The grader's temporary folders go to a folder of its own: /tmp is shared with whatever else runs meanwhile.
    temporary = tmp_path_factory.mktemp("battery-tmp")
    untouched = temporary.stat().st_mtime_ns
    start = time.monotonic()
    result = grade_command([*formulas, "."], out, "--jobs", "4", "--timeout", str(TIMEOUT), "--material",
                           str(material), cwd=submissions,
                           env={**os.environ, "GRADER_SECRET": SECRET, "TMPDIR": str(temporary)})
    seconds = time.monotonic() - start
    written = out.read_bytes()
    time.sleep(6)   # longer than the escape attempts wait before they strike
    return {"result": result, "rows": csv_rows(out), "cases": cases, "out": out, "written": written,
            "seconds": seconds, "repository": repository, "temporary": temporary, "untouched": untouched, "folder": folder,
            "submissions": submissions, "formulas": formulas, "targets": targets}


def _rows(batch, name: str) -> Dict[str, Dict[str, str]]:
    mine = [r for r in batch["rows"] if r["submission"] in (name, f"'{name}") or r["submission"].endswith("/" + name)]
    assert mine, f"no rows for {name}"
    return {r["question"]: r for r in mine}


def test_the_grader_finishes_and_exits_zero(batch) -> None:
    assert batch["result"].returncode == 0, batch["result"].stderr


def test_honest_students_keep_full_marks(batch) -> None:
    for name in ("alice/99_battery.ipynb", "bob/99_battery.ipynb", *batch["formulas"]):
        rows = _rows(batch, name)
        assert {q: (r["status"], float(r["points"])) for q, r in rows.items()} == \
            {q: ("passed", p) for q, p in POINTS.items()}, name


@pytest.mark.parametrize("name", list(battery([])))
def test_each_attack_gets_exactly_its_outcome(batch, name: str) -> None:
    rows = _rows(batch, f"{name}_{EXERCISE}.ipynb")
    expected = batch["cases"][name][1]
    for question, (status, points) in expected.items():
        row = rows[question]
        if status is not None:   # the message in full: pytest shortens the row's repr
            assert row["status"] == status, (question, row["status"], row["message"])
        assert float(row["points"]) == points, (question, row["points"], row["message"])


def test_forbidden_and_review_messages_name_what_was_used(batch) -> None:
    assert "__wrapped__" in _rows(batch, "wrapped_99_battery.ipynb")["corr2d"]["message"]
    assert "torch.ops" in _rows(batch, "aten_convolution_99_battery.ipynb")["corr2d"]["message"]
    assert "torch._C" in _rows(batch, "im2col_99_battery.ipynb")["corr2d"]["message"]
    assert "scipy.signal" in _rows(batch, "scipy_99_battery.ipynb")["corr2d"]["message"]
    assert "autograd" in _rows(batch, "autograd_backward_99_battery.ipynb")["grad"]["message"]
    assert "convolution" in _rows(batch, "computed_name_99_battery.ipynb")["corr2d"]["message"]
    assert "d2l.torch" in _rows(batch, "d2l_corr2d_99_battery.ipynb")["corr2d"]["message"]
    assert "nested too deeply" in _rows(batch, "deep_expression_in_answer_99_battery.ipynb")["corr2d"]["message"]
    assert "%config" in _rows(batch, "hidden_config_magic_exec_99_battery.ipynb")["corr2d"]["message"]
    assert "check(double(1234567))" not in _rows(batch, "steal_hidden_test_99_battery.ipynb")["double"]["message"]
    assert "review" in batch["result"].stdout   # the summary lists what a person must look at


def test_an_event_flood_is_named_in_its_rows(batch) -> None:
    """A flood costs the questions judged after it (the notebook phase); a clean answer's closure reported before."""
    for name, flooded in (("event_flood", ["double"]), ("forge_then_flood", ["double"])):
        rows = _rows(batch, f"{name}_{EXERCISE}.ipynb")
        assert all("flooded the grader's channel" in rows[q]["message"] for q in flooded), rows


def test_links_special_files_and_bad_names_get_one_invalid_row_each(batch) -> None:
    thief = [r for r in batch["rows"] if "a_thief" in r["submission"]]
    assert len(thief) == 1 and (thief[0]["status"], thief[0]["message"]) == ("invalid", "symbolic link, not graded")
    fifo = [r for r in batch["rows"] if "fifo_" in r["submission"]]
    assert len(fifo) == 1 and fifo[0]["status"] == "invalid" and "regular file" in fifo[0]["message"]
    broken = [r for r in batch["rows"] if "invalid_json" in r["submission"]]
    assert len(broken) == 1 and broken[0]["status"] == "invalid"
    huge = [r for r in batch["rows"] if "huge_code" in r["submission"]]
    assert len(huge) == 1 and huge[0]["status"] == "invalid" and "over the limit of" in huge[0]["message"], huge
    cafe = [r for r in batch["rows"] if "caf\\xe9_" in r["submission"]]
    assert len(cafe) == 4 and all(r["status"] == "passed" for r in cafe)


def test_no_field_can_run_as_a_formula_or_break_the_encoding(batch) -> None:
    text = batch["out"].read_text(encoding="utf-8")
    for row in batch["rows"]:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert "'=HYPERLINK(1)" in text and "'-2+3" in text and "'@SUM(A1)" in text
    assert "\\ud800" in _rows(batch, "lone_surrogate_99_battery.ipynb")["double"]["message"]


def test_no_two_files_share_a_name_in_the_csv(batch) -> None:
    """Escaping is one-to-one: a name cannot be chosen to read like a classmate's (and take or hide their row)."""
    files = [os.path.join(d, f) for d, _, names in os.walk(batch["submissions"]) for f in names]
    shown = {r["submission"] for r in batch["rows"]}
    assert len(shown) == len(files), sorted(shown)
    assert "spoof\\u200b_99_battery.ipynb" in shown and "spoof\\u202e_99_battery.ipynb" in shown
    assert f"''=HYPERLINK(1)_{EXERCISE}.ipynb" in shown


def test_the_environment_never_leaks(batch) -> None:
    assert SECRET not in batch["out"].read_text(encoding="utf-8")
    assert SECRET not in batch["result"].stdout + batch["result"].stderr
    assert "no secret here" in _rows(batch, "read_environment_99_battery.ipynb")["double"]["message"]


def test_nothing_outlives_its_run(batch) -> None:
    assert batch["out"].read_bytes() == batch["written"], "the CSV changed after the grader exited"
    for target in batch["targets"]:
        path = Path(target)
        assert not path.exists() or MARKER not in path.read_text(errors="ignore"), target
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert MARKER not in processes


def test_the_repository_and_temporary_folder_are_unchanged(batch) -> None:
    after = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == batch["repository"]
    left = os.listdir(batch["temporary"])   # the grader's run, lib and scratch folders, each removed
    assert not left, left
    assert batch["temporary"].stat().st_mtime_ns > batch["untouched"]   # it did make them there
    assert sorted(p.name for p in batch["folder"].iterdir()) == ["grades.csv", "material", "submissions"]


def test_the_batch_took_reasonable_time(batch) -> None:
    """Not a timing test: a guard that no attack made the grader wait far past its per-notebook limit."""
    notebooks = len({r["submission"] for r in batch["rows"]})
    assert batch["seconds"] < notebooks * TIMEOUT, batch["seconds"]
