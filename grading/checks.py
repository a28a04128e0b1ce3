"""What exercise tests call: `check(value, expected)` and `no_library()`.

A test is written once and used in two places:

* in a student's notebook (otter's `grader.check("q1")` runs the public tests there), `check` compares `value` with
  the literal `expected`, or applies a named rule, and raises `AssertionError` with a short explanation;
* in the grading sandbox (`grading.runner`), `check` only records `value` as plain data (`to_plain`): the
  trusted grader compares it afterwards with what the reference solution recorded, so nothing the submission does
  to the comparison functions in its own process can change a score.

`no_library()` marks the part of a test in which the student's code must not do what the question asks them to
write. Two kinds of evidence decide, the same in a student's notebook and in the grader: the answer's closure
checked against the question's allow-list (`grading.policy`, read by `grading.forbidden`), and the operation trace
below (`OperationTrace`: every ATen operation, and calls of numpy's convolution and of the course's own helper
modules, which the tests name: `no_library(helpers=...)`, written in by the build from the course's declaration, that
the code under test runs). In the sandbox, the grader has made the first verdict outside the submission's process
and the runner supplies the trace; in a notebook, `no_library()` makes both itself, for immediate feedback.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import re
import sys
import threading
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional, Sequence

__all__ = ["check", "no_library", "to_plain", "predicted_classes", "ForbiddenCall", "OperationTrace", "notebook_path",
           "FORBIDDEN_OPS", "AUTOGRAD_OPS"]

_MISSING = object()
MAX_ELEMENTS = 1_000_000

# ATen operator names (a trace's `func.overloadpacket.__name__`) that compute a convolution or pooling for you.
FORBIDDEN_OPS = r"(^|_)(conv(olution)?[a-z0-9_]*|[a-z0-9_]*pool[a-z0-9_]*|im2col|col2im|unfold[a-z_]*|fold)$"
# ... and those that only run when autograd differentiates something.
AUTOGRAD_OPS = r"_backward(_data|_input|_weight)?$"
GRAD_TURNED_ON = "grad mode turned back on"
SUBCLASS_DISPATCH = "a tensor subclass ran its own dispatch"


class ForbiddenCall(AssertionError):
    """The student's code called a library function the question asks them to write themselves."""


class Untraced(Exception):
    """The code under test ran where the operation trace cannot follow it (another thread or process)."""


# Set by the grading sandbox's runner: a list that `check` appends records to, and the tracing context manager
# that `no_library` enters. Both are None in a student's notebook.
_recorder: Optional[List[Dict[str, Any]]] = None
_guard: Optional[Callable[[bool], ContextManager[None]]] = None
# Set by the sandbox's `no_library` when a test entered it (the runner clears it before each test): the values that
# test checks are turned into plain data under the trace too, so no work the answer deferred (a method that runs
# when a result is converted) escapes it.
_traced_test: Optional[bool] = None   # None: no block yet; else the block's `autograd`


def check(value: Any, expected: Any = _MISSING, *, rule: Optional[str] = None, context: Any = None,
          atol: float = 1e-4, rtol: float = 1e-4, case: Optional[str] = None) -> None:
    """Assert that `value` matches `expected` (public tests) or satisfies `rule`; in the sandbox, record it.

    Hidden tests call `check(value)` without `expected`: the grader compares with the reference solution's value.
    `case` names the case checked in words that give no value away (e.g. "mode 'same', a kernel of 4"): a failure
    message starts with it, so a student learns which case of a hidden test failed. The grader takes it from the
    reference solution's run, never from the submission's.
    """
    if _recorder is not None:
        with (_guard(_traced_test) if _guard is not None and _traced_test is not None else contextlib.nullcontext()):
            record = _record(value, expected, rule, context, atol, rtol)
        if case is not None:
            record["case"] = str(case)[:120]
        _recorder.append(record)
        return
    from grading.compare import apply_rule, compare, decode   # numpy only when a notebook checks
    got = decode(to_plain(value))
    if rule is not None:
        ok, message = apply_rule(rule, got, decode(to_plain(context)))
    elif expected is _MISSING:
        raise ValueError("check() needs `expected` or `rule` outside the grader")
    else:
        ok, message = compare(decode(to_plain(expected)), got, atol=atol, rtol=rtol, reveal=True)
    if not ok:
        raise AssertionError(f"{case}: {message}" if case is not None else message)


def _record(value: Any, expected: Any, rule: Optional[str], context: Any, atol: float, rtol: float) -> dict:
    record: Dict[str, Any] = {"rule": rule, "atol": float(atol), "rtol": float(rtol)}
    try:
        record["value"] = to_plain(value)
    except Exception as error:   # an unsupported type is the student's mistake: record it, don't crash the test
        record["unsupported"] = f"{type(error).__name__}: {error}"[:300]
    if expected is not _MISSING:
        record["expected"] = to_plain(expected)
    if context is not None:
        record["context"] = to_plain(context)
    return record


def to_plain(value: Any, _depth: int = 0) -> Any:
    """JSON-ready plain data: numbers, strings, None, lists, {"__dict__": ...} and {"__array__": ...} for tensors.

    Anything else (an object with a clever `__eq__`, a tensor subclass's overrides) is refused or bypassed.
    """
    if _depth > 20:
        raise ValueError("value is nested more than 20 levels deep")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value
    import numpy as np
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return _array(np.ndarray.tolist(np.ndarray.reshape(value, -1)), value.dtype.kind, list(value.shape))
    torch = _loaded("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        plain = torch.Tensor.as_subclass(value, torch.Tensor).detach().cpu()
        if plain.is_complex():
            raise TypeError("complex tensors are not supported")
        kind_code = "b" if plain.dtype == torch.bool else ("f" if plain.is_floating_point() else "i")
        return _array(torch.Tensor.tolist(plain.reshape(-1)), kind_code, list(plain.shape))
    if torch is not None and isinstance(value, torch.Size):
        return [int(v) for v in tuple.__iter__(value)]
    if kind in (list, tuple):
        return [to_plain(v, _depth + 1) for v in value]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise TypeError("dict keys must be strings")
        return {"__dict__": {k: to_plain(v, _depth + 1) for k, v in value.items()}}
    raise TypeError(f"cannot grade a value of type {kind.__name__}; return a tensor, an array, a number, a string "
                    "or a list/tuple/dict of those")


def _array(flat: list, kind: str, shape: list) -> dict:
    if kind not in "bif" or len(flat) > MAX_ELEMENTS:
        raise TypeError(f"unsupported array (dtype kind {kind!r}, {len(flat)} elements)")
    kinds = {"b": "bool", "i": "int", "u": "int", "f": "float"}
    return {"__array__": {"dtype": kinds[kind], "shape": shape, "data": flat}}


def predicted_classes(model: Any, inputs: Any, zeroing: Optional[type] = None) -> Any:
    """The classes a torch `model` predicts for `inputs` (the argmax of its outputs), in eval mode and without
    gradients; with `zeroing`, a layer class such as `torch.nn.Conv2d`, what it predicts with those layers' weights
    set to zero, which shows what the layers earn. The model is left as it was, mode and weights: a student may go
    on training it."""
    import torch
    layers = [m for m in model.modules() if isinstance(m, zeroing)] if zeroing is not None else []
    training, weights = model.training, [layer.weight.detach().clone() for layer in layers]
    model.eval()
    try:
        with torch.no_grad():
            for layer in layers:
                layer.weight.zero_()
            return model(inputs).argmax(dim=1)
    finally:
        with torch.no_grad():
            for layer, weight in zip(layers, weights):
                layer.weight.copy_(weight)
        model.train(training)


def bound_numpy_as_strided() -> None:
    """Put a checked `as_strided` in numpy's place (the grading runner does, before any student code runs).

    numpy's `as_strided` checks no bounds: with an object's address a view reaches any byte of the process, the
    runner's secrets included. This one refuses a view that reaches outside the memory of the array that owns the
    data, as torch's `as_strided` refuses one outside its storage; within it, it is numpy's, so an honest strided
    im2col runs as written.
    """
    import numpy as np
    from numpy.lib import stride_tricks
    unchecked = stride_tricks.as_strided
    if getattr(unchecked, "bounded", False):
        return

    def as_strided(x, shape=None, strides=None, subok=False, writeable=True):
        array = np.array(x, copy=False, subok=subok)
        owner = array
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        low, high = np.byte_bounds(owner)
        view_shape = array.shape if shape is None else tuple(int(n) for n in shape)
        view_strides = array.strides if strides is None else tuple(int(s) for s in strides)
        if len(view_shape) != len(view_strides):
            raise ValueError("as_strided: shape and strides must have the same length")
        if all(n > 0 for n in view_shape):
            start = array.__array_interface__["data"][0]
            first = start + sum(s * (n - 1) for s, n in zip(view_strides, view_shape) if s < 0)
            last = start + sum(s * (n - 1) for s, n in zip(view_strides, view_shape) if s > 0) + array.itemsize
            if first < low or last > high:
                raise ValueError("as_strided: the view reaches outside the array's memory (check its shape and "
                                 "strides: strides are in bytes)")
        return unchecked(array, view_shape, view_strides, subok, writeable)

    as_strided.bounded = True
    stride_tricks.as_strided = as_strided


def _loaded(name: str):
    import sys
    return sys.modules.get(name)


# ---------------------------------------------------------------------------------------------------------------
# The operation trace
# ---------------------------------------------------------------------------------------------------------------

class OperationTrace:
    """`no_library()`'s trace: the ATen operations, and calls of numpy's convolution and of the public functions of
    the course's helper modules (`helpers`, dotted module names), that the code under test runs. Entering it
    returns a context manager; on leaving it, it raises `ForbiddenCall` naming the first forbidden operation seen.
    With `autograd=True` the block runs under `torch.no_grad()`, so no graph exists to differentiate, and grad mode
    turned back on is autograd by hand.

    In the sandbox (`untraced=True`) it also refuses to vouch for code that ran beside it: another thread or a child
    process alive, or one started (the sandbox's PID namespace allocated a pid), while the code under test ran.
    """

    def __init__(self, untraced: bool = False, helpers: Sequence[str] = ()) -> None:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        self.torch, self.untraced = torch, untraced
        self.forbidden, self.autograd = re.compile(FORBIDDEN_OPS), re.compile(AUTOGRAD_OPS)
        self.active: Optional[List[str]] = None   # the operations the innermost block ran, by name
        self.flags: set = set()    # ... and what else the trace saw in it
        self.no_grad = False       # inside a no_library(autograd=True) block
        self._current_frames = sys._current_frames
        trace = self

        class Trace(TorchDispatchMode):
            @classmethod
            def _should_skip_dynamo(cls):   # else the first use imports torch._dynamo: seconds, per submission
                return False

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                if trace.active is not None:
                    trace.active.append(func.overloadpacket.__name__)
                    if trace.no_grad and torch.is_grad_enabled():
                        trace.flags.add(GRAD_TURNED_ON)
                    if any(kind is not torch.Tensor for kind in types):
                        # A tensor subclass's own __torch_dispatch__ runs next, while this mode steps aside.
                        trace.flags.add(SUBCLASS_DISPATCH)
                return func(*args, **(kwargs or {}))

        self.Trace = Trace
        self._counters: Dict[int, Any] = {}   # one counter per function, however many modules re-export it
        import numpy
        owners = [(numpy, ("convolve", "correlate"))]
        for name in ("numpy.core.numeric", "numpy.core.multiarray", "numpy.core._multiarray_umath"):
            module = sys.modules.get(name)
            if module is not None:
                owners.append((module, tuple(n for n in ("convolve", "correlate", "correlate2")
                                             if callable(vars(module).get(n)))))
        self._count(owners)
        self.count_helpers(helpers)

    def count_helpers(self, modules: Sequence[str]) -> None:
        """Count calls of the public functions (`__all__`) of the course's helper `modules`, as numpy's convolution
        is counted: they are Python, not ATen operations. A module that cannot be imported is one nothing can call."""
        import importlib
        owners = []
        for name in modules:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            owners.append((module, tuple(n for n in getattr(module, "__all__", ())
                                         if inspect.isfunction(getattr(module, n, None)))))
        self._count(owners)

    def _count(self, owners: List[tuple]) -> None:
        """Put a counter in place of each named function (numpy's at the C entry points that every Python route to
        its convolution ends in)."""
        done = self._counters
        for owner, names in owners:
            for name in names:
                function = getattr(owner, name)
                if getattr(function, "_counted_by_trace", False):
                    continue   # a second trace in the same kernel: already counted
                if id(function) not in done:
                    done[id(function)] = self._counted(function, f"{owner.__name__}.{name}")
                setattr(owner, name, done[id(function)])

    def _counted(self, function: Callable, label: str) -> Callable:
        def counted(*args, **kwargs):   # no functools.wraps: it would hand out the original as __wrapped__
            active = _trace.active if _trace is not None else None
            if active is not None:
                active.append(label)
            return function(*args, **kwargs)
        counted.__name__, counted.__doc__ = getattr(function, "__name__", label), getattr(function, "__doc__", "")
        counted._counted_by_trace = True
        return counted

    def _beside(self) -> str:
        """Why code might run beside the traced thread, which is all a TorchDispatchMode sees."""
        others = set(self._current_frames()) - {threading.get_ident()}
        if others:
            # tqdm's monitor thread only watches its progress bars: a training loop with a bar stays traced.
            monitor = getattr(sys.modules.get("tqdm._monitor"), "TMonitor", None)
            if monitor is None or others - {t.ident for t in threading.enumerate() if isinstance(t, monitor)}:
                return "another thread was running"
        try:
            for task in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{task}/children") as children:
                    if children.read().strip():
                        return "a child process was running"
        except OSError:
            pass
        return ""

    @staticmethod
    def _last_pid() -> str:
        try:
            with open("/proc/sys/kernel/ns_last_pid") as last:
                return last.read().strip()
        except OSError:
            return ""

    @contextlib.contextmanager
    def __call__(self, autograd: bool = False) -> Iterator[None]:
        seen: List[str] = []
        flags: set = set()
        outer, self.active = self.active, seen
        outer_flags, self.flags = self.flags, flags
        outer_no_grad, self.no_grad = self.no_grad, autograd or self.no_grad
        why, first_pid = (self._beside(), self._last_pid()) if self.untraced else ("", "")
        try:
            with self.Trace(), (self.torch.no_grad() if autograd else contextlib.nullcontext()):
                yield
        finally:
            self.active, self.flags, self.no_grad = outer, outer_flags, outer_no_grad
        if self.untraced:
            why = why or self._beside() or ("a thread or process was started" if self._last_pid() != first_pid
                                            else "")
        why = why or (SUBCLASS_DISPATCH if SUBCLASS_DISPATCH in flags else "")
        for name in seen:
            if self.forbidden.search(name) or "." in name:
                raise ForbiddenCall(f"the code under test ran {name}, which this question asks you to write "
                                    "yourself")
            if autograd and self.autograd.search(name):
                raise ForbiddenCall(f"the code under test ran autograd ({name}), which this question asks you "
                                    "to do by hand")
        if autograd and GRAD_TURNED_ON in flags:
            raise ForbiddenCall(f"the code under test ran autograd ({GRAD_TURNED_ON}), which this question asks "
                                "you to do by hand")
        if why:
            raise Untraced(f"{why} while the code under test ran, where the operation trace cannot follow")


# ---------------------------------------------------------------------------------------------------------------
# no_library(): in the sandbox, the runner's trace; in a notebook, the grader's own two verdicts
# ---------------------------------------------------------------------------------------------------------------

_trace: Optional[OperationTrace] = None   # the trace counted helpers report to (the sandbox's or the notebook's)


@contextlib.contextmanager
def no_library(autograd: bool = False, allow: Sequence[str] = (), forbid: Sequence[str] = (),
               helpers: Sequence[str] = ()) -> Iterator[None]:
    """Inside this block the student's code must not do what the question asks them to write (and, with
    `autograd=True`, must not use autograd). `allow` and `forbid` (literal dotted or method names) are the
    question's own changes to the policy's allow-list; `helpers` (literal module names, the course's declaration)
    are the course's own helper modules, whose functions count as a library's would. The grader reads all three
    from the test's source too.

    In the grading sandbox the runner supplies `_guard`, the trace, counting the helpers its tests name since before
    any of the submission's code ran; the grader has already judged the answer's source outside the sandbox. In a
    student's notebook this checks the answer's source against the same policy, then traces the block with the same
    trace, so the student sees at once the verdict the grader will give.
    """
    global _trace, _traced_test
    if _guard is not None:
        _traced_test = bool(autograd or _traced_test)
        with _guard(autograd):
            yield
        return
    _check_source_locally(_test_parameters(), autograd, tuple(allow), tuple(forbid))
    if _trace is None:
        _trace = OperationTrace()
    _trace.count_helpers(tuple(helpers))
    with _trace(autograd):
        yield


def _test_parameters() -> List[str]:
    """The names the running test takes from the notebook (its function's parameters): the answer it calls."""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_name.startswith("test") and "contextlib" not in code.co_filename:
            return [n for n in code.co_varnames[:code.co_argcount] if n != "env"]
        frame = frame.f_back
    return []


def _check_source_locally(names: Sequence[str], autograd: bool, allow: Sequence[str] = (),
                          forbid: Sequence[str] = ()) -> None:
    """The grader's verdict on the answer's source, from the cells this kernel ran (in the order it ran them)."""
    if not names:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    decided = local_verdict(shell.history_manager.input_hist_raw[1:], names, autograd, allow, forbid)
    if decided is not None:
        raise ForbiddenCall(decided[1])


def local_verdict(history: Sequence[str], names: Sequence[str], autograd: bool = False, allow: Sequence[str] = (),
                  forbid: Sequence[str] = ()) -> Optional[tuple]:
    """What the grader's source verdict (`grading.forbidden.verdict`) is on the answer named `names`, read from the
    cells a kernel ran, in the order it ran them: (status, message), or None when the answer is clean."""
    from grading.forbidden import Notebook, verdict
    from grading.policy import Policy
    cells = [{"id": None, "source": source} for source in history]
    answer = Notebook(cells).answer(Policy(autograd=autograd, allow=tuple(allow), forbid=tuple(forbid)), names)
    return verdict(answer.findings, cell_label="input")


def _failure_message(test_file: Any, error: BaseException, context: int = 0) -> str:
    """otter's message for a public test that raised, in the grader's words: `Type: message` whole (otter strips
    the quotes off it, so `'NoneType' object ...` loses its first one), then where the student's own code raised
    it (the cell and line as Jupyter numbers them), else the test's line that raised it. otter would give the line's
    number in the test file, which the student never sees. A check's own verdict is its message alone, as in the
    grader's row."""
    if isinstance(error, AssertionError) and _raised_by_checks(error):
        return str(error)
    text = " ".join(f"{type(error).__name__}: {error}".split())
    cell, test_line = None, None
    shell = _shell()
    traceback = error.__traceback__
    while traceback is not None:
        code = traceback.tb_frame.f_code
        label = shell.compile.format_code_name(code.co_filename) if shell is not None else None
        if label is not None:
            cell = f"line {traceback.tb_lineno} of your cell {label[1]}"
        elif code.co_filename == getattr(test_file, "path", None):
            lines = test_file.source.split("\n")
            test_line = lines[traceback.tb_lineno - 1].strip() if traceback.tb_lineno <= len(lines) else None
        traceback = traceback.tb_next
    if cell is not None:
        return f"{text} (raised at {cell})"
    return f"{text} (raised by the test's line `{test_line}`)" if test_line else text


def _raised_by_checks(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback is not None and traceback.tb_frame.f_code.co_filename == __file__


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if hasattr(getattr(shell, "compile", None), "format_code_name") else None


def _word_otter_failures_as_the_grader() -> None:
    try:
        from otter.test_files.exception_test import ExceptionTestFile
    except ImportError:
        return
    ExceptionTestFile._generate_error_message = _failure_message


def notebook_path(exercise: str) -> str:
    """This exercise's notebook, for otter's checks, also when a download renamed it (`NAME (1).ipynb`,
    `Copy of NAME.ipynb`): the file of that name if it exists, else the notebook Jupyter says this kernel runs,
    else the newest notebook here whose metadata names the exercise; FileNotFoundError, saying what to do, if none.
    Called by the handout's otter cell, it also has otter word failures as the grader does (`_failure_message`)."""
    import glob
    import json
    _word_otter_failures_as_the_grader()
    name = f"{exercise}.ipynb"
    if os.path.isfile(name):
        return name
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb") and os.path.isfile(session):
        return session
    candidates = []
    for path in glob.glob("*.ipynb"):
        try:
            with open(path, encoding="utf-8") as file:
                claimed = json.load(file).get("metadata", {}).get("book", {}).get("exercise")
        except (OSError, ValueError, AttributeError):
            continue
        if claimed == exercise:
            candidates.append(path)
    if not candidates:
        raise FileNotFoundError(f"no notebook of exercise {exercise} in {os.getcwd()}: start Jupyter in the folder "
                                f"that holds the notebook, or name it {exercise}.ipynb")
    return max(candidates, key=os.path.getmtime)
