"""The runner, inside the sandbox: run one notebook's code cells, then the exercise's tests, and report plain data.

`grading.sandbox` starts this file with `python -I -B` inside bubblewrap (its own PID, network, IPC and mount
namespaces, an unprivileged uid, a read-only view of the interpreter and a private scratch directory). It reads a
job (JSON) on stdin and writes one JSON line per event to an inherited file descriptor; it never sees expected
values, and nothing it writes is trusted beyond being data: the grader type-checks every value and compares it
itself. The only module of the grader importable here is `grading.checks`, from the job's `lib` folder.

Inside, a per-cell and per-test alarm turns an endless loop into a timeout for that cell or test only; an address
space limit turns a memory blow-up into a `MemoryError`; `sys.exit`, `os._exit` and `KeyboardInterrupt` in a cell
become that cell's error. What a submission prints goes to a log, never to the result channel.
"""
import builtins
import contextlib
import inspect
import json
import json.encoder
import os
import re
import resource
import signal
import sys
import time

START = time.monotonic()
_exec, _compile, _dumps, _write, _real_exit = builtins.exec, builtins.compile, json.dumps, os.write, os._exit
_signature, _monotonic, _setitimer, _signal = inspect.signature, time.monotonic, signal.setitimer, signal.signal
_getpid, RUNNER_PID = os.getpid, os.getpid()
_current_frames = sys._current_frames


# What the trace notes about a block besides the operations it ran.
GRAD_TURNED_ON = "grad mode turned back on"
SUBCLASS_DISPATCH = "a tensor subclass ran its own dispatch"


class Untraced(Exception):
    """The code under test ran where the operation trace cannot follow it (another thread or process)."""


class Timeout(BaseException):
    """Raised by the alarm; a BaseException so that `except Exception` in student code does not swallow it."""


def _on_alarm(signum, frame):
    raise Timeout()


def _arm(seconds: float) -> None:
    _signal(signal.SIGALRM, _on_alarm)
    _setitimer(signal.ITIMER_REAL, max(seconds, 0.05))


def _disarm() -> None:
    _setitimer(signal.ITIMER_REAL, 0)


def _message(error: BaseException) -> str:
    try:
        text = f"{type(error).__name__}: {error}"
    except BaseException:   # a student's exception whose __str__ fails
        text = type(error).__name__
    return " ".join(text.split())[:300]


def _is_scaffold(source: str, scaffold: "re.Pattern") -> bool:
    """otter's init and check cells (the job's pattern, grading.forbidden's): the grader runs its own tests, and
    importing otter costs seconds."""
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(scaffold.match(line) for line in lines)


def _limit_resources(memory_bytes: int, processes: int) -> None:
    with open("/proc/self/statm") as statm:   # address space already mapped by the imports (torch maps a lot)
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    limits = {resource.RLIMIT_AS: mapped + memory_bytes, resource.RLIMIT_FSIZE: 64 << 20, resource.RLIMIT_CORE: 0}
    if processes:   # only where the sandbox runs us as a uid of our own (see grading.sandbox)
        limits[resource.RLIMIT_NPROC] = processes
    for kind, value in limits.items():
        resource.setrlimit(kind, (value, value))
    _signal(signal.SIGXFSZ, signal.SIG_IGN)   # an oversized write fails with an error instead of killing us


def _neutralise_exits() -> None:
    """A cell may not end the runner; a process the cell forked may end itself (`if os.fork() == 0: ... os._exit(0)`
    is the usual idiom), and must, or it would carry on through the runner's loop and report every test twice."""
    def refuse_exit(*args, **kwargs):
        if _getpid() != RUNNER_PID:
            _real_exit(args[0] if args and isinstance(args[0], int) else 0)
        raise SystemExit(args[0] if args else 0)
    os._exit = refuse_exit
    os.abort = refuse_exit
    try:
        import posix
        posix._exit = refuse_exit
        posix.abort = refuse_exit
    except ImportError:
        pass


class _Guard:
    """`no_library()` in the sandbox: the ATen operations and book/numpy helpers that the code under test runs.

    Returns a context manager; on leaving it, raises `ForbiddenCall` naming the first forbidden operation seen. With
    `autograd=True` the block also runs under `torch.no_grad()`, so no graph exists to differentiate.
    """

    def __init__(self, checks, forbidden_ops: str, autograd_ops: str, preload=(), own_namespace: bool = False) -> None:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        self.own_namespace = own_namespace   # the sandbox's PID namespace: only this run allocates its pids
        self.torch, self.checks = torch, checks
        self.forbidden, self.autograd = re.compile(forbidden_ops), re.compile(autograd_ops)
        self.active = None     # the operations the innermost block ran, by name
        self.flags = set()     # ... and what else the trace saw in it (see Trace)
        self.no_grad = False   # inside a no_library(autograd=True) block
        guard = self

        class Trace(TorchDispatchMode):
            @classmethod
            def _should_skip_dynamo(cls):   # else the first use imports torch._dynamo: seconds, per submission
                return False

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                if guard.active is not None:
                    guard.active.append(func.overloadpacket.__name__)
                    if guard.no_grad and torch.is_grad_enabled():
                        # The block runs under no_grad: an operation with autograd on is code that turned it back on
                        guard.flags.add(GRAD_TURNED_ON)
                    if any(kind is not torch.Tensor for kind in types):
                        # A tensor subclass's own __torch_dispatch__ runs next, while this mode steps aside: what
                        # it computes is not traced.
                        guard.flags.add(SUBCLASS_DISPATCH)
                return func(*args, **(kwargs or {}))

        self.Trace = Trace
        self._count_python_helpers(preload)

    def _count_python_helpers(self, preload) -> None:
        """numpy's convolution, the book's helpers and the watched libraries the notebook imports (scipy.signal,
        scipy.ndimage, ...: `preload`) are not ATen operations: count their calls. numpy's are counted at the C
        entry points that every Python route to them ends in, and each library's functions in every one of its
        modules, so a reference taken by a route the source scan cannot see is counted all the same."""
        import importlib
        import numpy
        owners = [(numpy, ("convolve", "correlate"))]
        for name in ("numpy.core.numeric", "numpy.core.multiarray", "numpy.core._multiarray_umath",
                     "numpy._core.numeric", "numpy._core.multiarray", "numpy._core._multiarray_umath"):
            module = sys.modules.get(name)
            if module is not None:
                owners.append((module, tuple(n for n in ("convolve", "correlate", "correlate2")
                                             if callable(vars(module).get(n)))))
        try:
            import numpy.lib.stride_tricks as tricks
            owners.append((tricks, ("sliding_window_view",)))
        except ImportError:
            pass
        try:
            import book.conv, book.cost, book.pool, book.shapes
            owners += [(module, tuple(n for n in module.__all__ if inspect.isfunction(getattr(module, n))))
                       for module in (book.conv, book.pool, book.shapes, book.cost)]
        except ImportError:
            pass
        for family in preload:
            try:
                importlib.import_module(family)
            except Exception:   # not installed here: nothing to count
                continue
            for name, module in list(sys.modules.items()):
                if module is None or not (name == family or name.startswith(family + ".")):
                    continue
                owners.append((module, tuple(n for n, v in list(vars(module).items())
                                             if (inspect.isfunction(v) or inspect.isbuiltin(v)) and
                                             str(getattr(v, "__module__", None) or family).startswith(
                                                 family.split(".")[0] + "."))))
        done = {}
        for owner, names in owners:
            for name in names:
                function = getattr(owner, name)
                if id(function) not in done:   # one counter per function, however many modules re-export it
                    done[id(function)] = (function, self._counted(function, f"{owner.__name__}.{name}"))
                setattr(owner, name, done[id(function)][1])

    def _counted(self, function, label: str):
        guard = self

        def counted(*args, **kwargs):   # no functools.wraps: it would hand out the original as __wrapped__
            if guard.active is not None:
                guard.active.append(label)
            return function(*args, **kwargs)
        counted.__name__, counted.__doc__ = getattr(function, "__name__", label), getattr(function, "__doc__", "")
        return counted

    def _untraceable(self) -> str:
        """Why code might run beside the traced thread: the trace (a TorchDispatchMode) sees only its own thread, so
        another thread or a child process alive, or a thread or process started (the sandbox's PID namespace
        allocated a pid) while the code under test runs, could run any library operation unseen."""
        if len(_current_frames()) > 1:
            return "another thread was running"
        try:
            for task in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{task}/children") as children:
                    if children.read().strip():
                        return "a child process was running"
        except OSError:
            pass
        return ""

    def _last_pid(self) -> str:
        if not self.own_namespace:
            return ""
        try:
            with open("/proc/sys/kernel/ns_last_pid") as last:
                return last.read().strip()
        except OSError:
            return ""

    @contextlib.contextmanager
    def __call__(self, autograd: bool = False):
        seen, flags = [], set()
        outer, self.active = self.active, seen
        outer_flags, self.flags = self.flags, flags
        outer_no_grad, self.no_grad = self.no_grad, autograd or self.no_grad
        why, first_pid = self._untraceable(), self._last_pid()
        try:
            with self.Trace(), (self.torch.no_grad() if autograd else contextlib.nullcontext()):
                yield
        finally:
            self.active, self.flags, self.no_grad = outer, outer_flags, outer_no_grad
        why = why or self._untraceable() or ("a thread or process was started" if self._last_pid() != first_pid
                                              else "") or (SUBCLASS_DISPATCH if SUBCLASS_DISPATCH in flags else "")
        for name in seen:
            if self.forbidden.search(name) or "." in name:
                raise self.checks.ForbiddenCall(f"the code under test ran {name}, which this question asks you "
                                                "to write yourself")
            if autograd and self.autograd.search(name):
                raise self.checks.ForbiddenCall(f"the code under test ran autograd ({name}), which this question "
                                                "asks you to do by hand")
        if autograd and GRAD_TURNED_ON in flags:
            raise self.checks.ForbiddenCall(f"the code under test ran autograd ({GRAD_TURNED_ON}), which this "
                                            "question asks you to do by hand")
        if why:
            raise Untraced(f"{why} while the code under test ran, where the operation trace cannot follow")


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    result_fd = job["result_fd"]
    deadline = START + job["deadline"]

    # json.dumps runs Python-level code (the module's default encoder, JSONEncoder's methods) that a cell could
    # replace to rewrite an event on its way out, e.g. turn a traced "forbidden" into "ran": put it back each time.
    encoding = [(vars(json), dict(vars(json))), (vars(json.encoder), dict(vars(json.encoder)))]
    encoder_class = dict(vars(json.JSONEncoder))

    def emit(event: dict) -> None:
        if _getpid() != RUNNER_PID:   # a forked copy of the runner that escaped its cell: only the runner reports
            _real_exit(0)
        _restore({}, encoding, json.JSONEncoder, encoder_class)
        data = (_dumps(event) + "\n").encode()
        while data:
            data = data[_write(result_fd, data):]

    sys.path.insert(0, job["lib"])
    import torch
    import grading.checks as checks
    torch.set_num_threads(job.get("threads", 1))
    guard = _Guard(checks, job["forbidden_ops"], job["autograd_ops"], job.get("preload", ()),
                   job.get("own_pid_namespace", False))
    checks._guard = guard
    # Which of the libraries the trace cannot see (scipy's signal processing, ...) the cells load, by any route: an
    # audit hook sees every import and cannot be removed; the grader compares the list with the notebook's imports.
    # (What the guard preloaded, because the notebook imports its package, is counted by the trace instead.)
    watched, loaded = tuple(job.get("watched_modules", ())), set()
    before = set(sys.modules)

    def audit(event, args):
        if event == "import" and args and type(args[0]) is str and args[0] not in before:
            for module in watched:
                if args[0] == module or args[0].startswith(module + "."):
                    loaded.add(module)
    sys.addaudithook(audit)
    modules = {name: sys.modules[name] for name in ("grading", "grading.checks")}
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.user_ns["__name__"] = "__main__"
    namespace = shell.user_ns
    # What the tests' own plumbing relies on, as it was before any cell ran (see _restore).
    pristine = [(checks.__dict__, dict(vars(checks))), (builtins.__dict__, dict(vars(builtins)))]
    tensor = dict(vars(torch.Tensor))
    _limit_resources(job["memory_bytes"], job.get("processes", 0))
    _neutralise_exits()
    emit({"event": "ready", "seconds": round(_monotonic() - START, 3)})

    reserve, scaffold = job["test_reserve"], re.compile(job["scaffold"])
    for index, cell in enumerate(job["cells"]):
        event = {"event": "cell", "index": index, "id": cell.get("id"), "status": "ok", "message": ""}
        if _is_scaffold(cell["source"], scaffold):
            continue
        # At most half of what is left, so that one endless cell still leaves time for the cells after it.
        budget = min(job["cell_timeout"], (deadline - reserve - _monotonic()) / 2)
        if budget <= 0:
            event.update(status="timeout", message="not run: the notebook's time was used up")
            emit(event)
            continue
        try:
            _arm(budget)
            result = shell.run_cell(cell["source"], store_history=False, silent=False)
            _disarm()
            error = result.error_in_exec or result.error_before_exec
        except BaseException as raised:   # an alarm outside the cell's own code, or IPython itself failing
            _disarm()
            error = raised
        if error is not None:
            timed_out = isinstance(error, Timeout)
            event.update(status="timeout" if timed_out else "error",
                         message=f"cell {index + 1} ran past its time limit" if timed_out
                         else f"cell {index + 1} raised {_message(error)}")
        emit(event)

    for test in job["tests"]:
        _restore(modules, pristine, torch.Tensor, tensor)
        event = _run_test(test, namespace, checks, job["test_timeout"], deadline)
        try:
            emit(event)
        except Exception as error:   # the submission slipped something unserialisable into the records
            emit({**event, "status": "error", "records": [], "message": f"unreportable result: {_message(error)}"})
    try:
        loaded.update(m for m in watched for name in list(sys.modules) if name not in before and
                      (name == m or name.startswith(m + ".")))
    except Exception:   # sys.modules replaced by something that is not a dict: the audit hook's list stands
        pass
    emit({"event": "done", "seconds": round(_monotonic() - START, 3), "loaded": sorted(loaded)})
    sys.stdout.flush()
    _real_exit(0)


def _restore(modules: dict, namespaces: list, tensor_class, tensor: dict) -> None:
    """Undo what the cells did to the checks module, builtins and torch.Tensor's methods, so that every test gets
    the real `check`, `no_library`, `isinstance`, `Tensor.tolist` ... (the grader compares, but the test must record
    what the answer really returned)."""
    sys.modules.update(modules)
    for namespace, saved in namespaces:
        namespace.clear()
        namespace.update(saved)
    for name in [n for n in vars(tensor_class) if n not in tensor]:
        try:
            delattr(tensor_class, name)
        except (AttributeError, TypeError):
            pass
    for name, value in tensor.items():
        if vars(tensor_class).get(name) is not value:
            try:
                setattr(tensor_class, name, value)
            except (AttributeError, TypeError):
                pass


def _run_test(test: dict, namespace: dict, checks, test_timeout: float, deadline: float) -> dict:
    event = {"event": "test", "question": test["question"], "test": test["name"], "status": "ran",
             "records": [], "message": ""}
    budget = min(test_timeout, deadline - _monotonic())
    if budget <= 0:
        event.update(status="timeout", message="not run: the notebook's time was used up")
        return event
    records = []
    try:
        _arm(budget)
        scope = {"__name__": "grading_test", "__builtins__": builtins}
        _exec(_compile(test["source"], f"<test {test['name']}>", "exec"), scope)
        function = scope[test["name"]]
        names = list(_signature(function).parameters)
        missing = [name for name in names if name != "env" and name not in namespace]
        if missing:
            raise NameError(f"{missing[0]} is not defined: its cell was deleted, renamed or failed")
        checks._recorder = records
        function(**{name: namespace if name == "env" else namespace[name] for name in names})
        _disarm()
    except Timeout:
        event.update(status="timeout", message="the test ran past its time limit (an endless loop?)")
    except checks.ForbiddenCall as forbidden:
        _disarm()
        event.update(status="forbidden", message=_message(forbidden))
    except Untraced as untraced:
        _disarm()
        event.update(status="untraced", message=str(untraced)[:300])
    except BaseException as error:
        _disarm()
        event.update(status="error", message=_message(error))
    finally:
        _disarm()
        checks._recorder = None
    event["records"] = records
    return event


if __name__ == "__main__":
    main()
