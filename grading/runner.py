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


class Timeout(BaseException):
    """Raised by the alarm; a BaseException so that `except Exception` in student code does not swallow it."""


def _on_alarm(signum, frame):
    raise Timeout()


def _arm(seconds: float) -> None:
    """The alarm repeats every half second until disarmed: a Timeout raised where Python only prints it ("Exception
    ignored in" an at-fork handler that `!pip` runs, a `__del__`, a weakref callback) would otherwise be lost, and the
    cell would run on into the time of every cell and test after it."""
    _signal(signal.SIGALRM, _on_alarm)
    _setitimer(signal.ITIMER_REAL, max(seconds, 0.05), 0.5)


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


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    result_fd = job["result_fd"]
    deadline = START + job["deadline"]

    # json.dumps runs Python-level code (the module's default encoder, JSONEncoder's methods) that a cell could
    # replace to rewrite an event on its way out: put it back each time.
    encoding = [(vars(json), dict(vars(json))), (vars(json.encoder), dict(vars(json.encoder)))]
    encoder_class = dict(vars(json.JSONEncoder))

    token = job.pop("token", "")   # signs every event (see grading.sandbox.SandboxRun.closure_events)

    def emit(event: dict) -> None:
        if _getpid() != RUNNER_PID:   # a forked copy of the runner that escaped its cell: only the runner reports
            _real_exit(0)
        _restore({}, encoding, json.JSONEncoder, encoder_class)
        data = (_dumps({**event, "token": token}) + "\n").encode()
        while data:
            data = data[_write(result_fd, data):]

    sys.path.insert(0, job["lib"])
    import torch
    import grading.checks as checks
    torch.set_num_threads(job.get("threads", 1))
    checks.bound_numpy_as_strided()
    # The trace is armed before any student code runs: what the closure's tests see, nothing before them touched.
    checks._guard = checks._trace = checks.OperationTrace(untraced=job.get("own_pid_namespace", False),
                                                           helpers=job.get("helpers", ()))
    modules = {name: sys.modules[name] for name in ("grading", "grading.checks")}
    # What the tests' own plumbing relies on, as it was before any cell ran (see _restore).
    pristine = [(checks.__dict__, dict(vars(checks))), (builtins.__dict__, dict(vars(builtins)))]
    tensor = dict(vars(torch.Tensor))
    _limit_resources(job["memory_bytes"], job.get("processes", 0))
    _neutralise_exits()
    emit({"event": "ready", "seconds": round(_monotonic() - START, 3)})
    reserve = job["test_reserve"]

    # 1. The closures of the answers that the grader found clean, alone, in a namespace of their own, then the
    #    tests of those questions. Everything they report is in the channel before any other cell runs.
    closure = job.get("closure") or {"cells": [], "tests": []}
    from IPython.display import display   # a name Jupyter gives every notebook without an import
    namespace = {"__name__": "__main__", "__builtins__": builtins, "display": display}
    for cell in closure["cells"]:
        emit(_run_cell(cell, lambda source, index: _exec(_compile(source, f"<cell {index + 1}>", "exec"),
                                                         namespace), job, deadline, reserve, "closure"))
    for test in closure["tests"]:
        emit(_reported(_run_test(test, namespace, checks, job["test_timeout"], deadline), emit))
    emit({"event": "closure-done"})

    # 2. The whole notebook, as Jupyter runs it, then every other test.
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.user_ns["__name__"] = "__main__"
    scaffold = re.compile(job["scaffold"])

    def run_in_shell(source: str, index: int):
        result = shell.run_cell(source, store_history=False, silent=False)
        error = result.error_in_exec or result.error_before_exec
        if error is not None:
            raise error

    for index, cell in enumerate(job["cells"]):
        if not _is_scaffold(cell["source"], scaffold):
            emit(_run_cell({**cell, "index": index}, run_in_shell, job, deadline, reserve, "notebook"))
    for test in job["tests"]:
        _restore(modules, pristine, torch.Tensor, tensor)
        emit(_reported(_run_test(test, shell.user_ns, checks, job["test_timeout"], deadline), emit))
    emit({"event": "done", "seconds": round(_monotonic() - START, 3)})
    sys.stdout.flush()
    _real_exit(0)


def _run_cell(cell: dict, run, job: dict, deadline: float, reserve: float, phase: str) -> dict:
    """Run one cell under its alarm: at most half of what is left, so that one endless cell still leaves time for
    the cells after it."""
    index = cell["index"]
    event = {"event": "cell", "phase": phase, "index": index, "id": cell.get("id"), "status": "ok", "message": ""}
    budget = min(job["cell_timeout"], (deadline - reserve - _monotonic()) / 2)
    if budget <= 0:
        event.update(status="timeout", message="not run: the notebook's time was used up")
        return event
    try:
        _arm(budget)
        run(cell["source"], index)
        _disarm()
    except BaseException as error:   # the cell's own error, its alarm, or IPython itself failing
        _disarm()
        timed_out = isinstance(error, Timeout)
        event.update(status="timeout" if timed_out else "error",
                     message=f"cell {index + 1} ran past its time limit" if timed_out
                     else f"cell {index + 1} raised {_message(error)}")
    return event


def _reported(event: dict, emit) -> dict:
    """The event, or what can be said of it when the submission slipped something unserialisable into it."""
    try:
        _dumps(event)
        return event
    except Exception as error:
        return {**event, "status": "error", "records": [], "message": f"unreportable result: {_message(error)}"}


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
        checks._recorder, checks._traced_test = records, None
        function(**{name: namespace if name == "env" else namespace[name] for name in names})
        _disarm()
    except Timeout:
        _disarm()
        event.update(status="timeout", message="the test ran past its time limit (an endless loop?)")
    except checks.ForbiddenCall as forbidden:
        _disarm()
        event.update(status="forbidden", message=_message(forbidden))
    except checks.Untraced as untraced:
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
