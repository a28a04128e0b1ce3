"""Grading on a Dask cluster: `python -m grading PATH --out grades.csv --scheduler tcp://HOST:8786` (a running
cluster) or `--cluster local:N` (N worker processes on this machine, started for the run and closed after it).

Where each step happens, and why:
- The client (the instructor's process) reads each submission's bytes, scans its source and splits its jobs with
  `grading.grade.prepare`, the code a `--jobs` run uses. The scan decides what an answer is, so it runs on the
  bytes the instructor holds; the workers need no copy of the submissions and no shared filesystem (a worker reads
  nothing from disk but what its sandbox binds: the interpreter and packages, `book`, MNIST).
- A worker gets only what the sandbox needs: the code cells, the tests' sources, the closure, the limits (and the
  paths a sandbox must never bind). The reference values never leave the client, as they never enter a sandbox: a
  worker, or a submission that broke out of its sandbox, holds nothing that helps forge a result.
- The worker runs `Sandbox.run` (one Sandbox per worker process, opened and probed once) and returns the
  `SandboxRun` as plain data. The client judges it with `grading.grade.judge_run`, the code a `--jobs` run uses,
  so the rows are those of a `--jobs` run of the same batch, byte for byte.
- A task is pure: the same job gives the same run and writes nothing outside its sandbox's tmpfs, so the scheduler
  may run it again (`retries=2`, and on another worker when its worker dies) without harm.
- A worker that cannot sandbox raises `SandboxUnavailable` saying why, in one line; a submission whose task failed
  on every try gets rows saying `not graded: <reason>`, status `error`: never a silent gap, never a 0 that looks
  like a grade. They are not journalled, so `--resume` grades them again.
- Results stream back with `distributed.as_completed`, into the same progress display and the same journal
  (`grading.grade.Journal`) as a `--jobs` run.
- A worker that hangs (stopped, or its event loop stuck) stops sending heartbeats; the scheduler removes it after
  its `distributed.scheduler.worker-ttl` (5 minutes by default) and runs its tasks elsewhere, as for a killed one.
- A scheduler that stops or restarts takes every task in flight with it (the client's futures are cancelled, and a
  restarted scheduler knows none of them): the batch stops with ClusterLost and the journal, like Ctrl-C, so
  `--resume` on the cluster that is back grades only what was not finished.

dask and distributed are imported here, and this module only when --scheduler or --cluster is given, so a plain
`python -m grading` starts as fast as before.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from grading.grade import (Journal, Prepared, Progress, SandboxJob, batch_of, describe_grader_error, grader_error_rows,
                           hidden_paths, judge_run, prepare, run_job)
from grading.material import (Exercise, SandboxDeclaration, Submission, UsageError, declared_sandbox,
                              sandbox_declaration)
from grading.report import Row, display_path
from grading.sandbox import HERE, Limits, Sandbox, SandboxRun, SandboxUnavailable, _inside

RETRIES = 2   # a task runs at most three times: a worker killed under it, or one that cannot sandbox, costs a retry
# Tasks handed to the scheduler at a time: each holds a submission's cells, so 14,000 at once would hold them all in
# the scheduler's memory; a thousand keeps any cluster of under a thousand cores busy.
MAX_IN_FLIGHT = 1000


class ClusterUnavailable(Exception):
    """The client cannot reach the scheduler, or cannot start the local cluster (the message says which)."""


class ClusterLost(Exception):
    """The client lost its scheduler mid-batch (stopped, restarted, or the network between them): every task in
    flight is gone with it. What was graded is in the journal; --resume grades the rest."""


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def local_workers(spec: str) -> int:
    """`local:N` -> N."""
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) <= 0:
        raise UsageError(f"--cluster {spec}: give local:N, N the number of worker processes (e.g. local:4)")
    return int(count)


@contextlib.contextmanager
def connect(scheduler: Optional[str], local: Optional[int]) -> Iterator[Any]:
    """A `distributed.Client` of the scheduler at `scheduler`, or of a LocalCluster of `local` single-threaded worker
    processes listening on 127.0.0.1 only (the scheduler's HTTP server too, on a free port: two runs at once never
    collide on 8787). Closed, with the cluster, on exit."""
    logging.getLogger("distributed").setLevel(logging.ERROR)   # the summary is the report; not the library's logs
    from distributed import Client, LocalCluster
    cluster = None
    try:
        if local is not None:
            cluster = LocalCluster(n_workers=local, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
            client = Client(cluster, set_as_default=False)
        else:   # waits dask's distributed.comm.timeouts.connect (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)
            client = Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError, RuntimeError) as error:
        if cluster is not None:
            cluster.close()
        where = f"the scheduler at {scheduler}" if local is None else f"a local cluster of {local} workers"
        raise ClusterUnavailable(f"cannot reach {where}: {one_line(error)}") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------------------------------------------
# The worker's side
# ---------------------------------------------------------------------------------------------------------------

# This worker process's sandboxes, one per declaration the batches it served named, each opened and probed once:
# a Sandbox, or why none can be made.
_worker_sandboxes: Dict[SandboxDeclaration, Union[Sandbox, str]] = {}
_worker_lock = threading.Lock()


def worker_sandbox(declared: Optional[SandboxDeclaration] = None) -> Sandbox:
    """This worker process's sandbox binding what `declared` names, opened (and probed) at its first task; where none
    can be made, every task raises SandboxUnavailable with the reason (restart the worker once it is fixed).
    None: what the worker's own grading/autograder/ declares."""
    declared = sandbox_declaration() if declared is None else declared
    with _worker_lock:
        if declared not in _worker_sandboxes:
            try:
                sandbox = Sandbox.open(declared=declared)
                atexit.register(sandbox.close)
                _worker_sandboxes[declared] = sandbox
            except SandboxUnavailable as error:
                _worker_sandboxes[declared] = one_line(error)
        opened = _worker_sandboxes[declared]
    if isinstance(opened, str):
        raise SandboxUnavailable(f"worker {socket.gethostname()} (pid {os.getpid()}) cannot sandbox: {opened}")
    return opened


def open_worker_sandbox() -> str:
    """Open (and probe) this worker's sandbox now: `client.run(open_worker_sandbox)` checks every worker at once."""
    worker_sandbox()
    return "ready"


def dask_setup(worker: Any) -> None:
    """`dask worker --preload grading.cluster`: the sandbox is opened when the worker starts, so a worker that cannot
    isolate says why in its log at once (its tasks still fail, with the same reason, so no submission goes unsaid)."""
    try:
        worker_sandbox()
    except SandboxUnavailable as error:
        logging.getLogger("distributed.worker").error("%s", error)


def _refuse_hidden(sandbox: Sandbox, hidden: Sequence[str]) -> None:
    """What Sandbox.open(hidden=...) refuses on one machine: a bound folder holding the submissions or the output.
    The worker's sandbox serves every batch, so each task checks its own batch's paths."""
    for secret in hidden:
        for path in sandbox.read_only:
            if _inside(os.path.realpath(secret), path):
                raise SandboxUnavailable(f"{secret} lies inside {path}, which submissions must be able to read; "
                                         "keep submissions and the output outside the Python installation")


@functools.lru_cache(maxsize=None)
def grader_code() -> str:
    """A digest of the code a run's outcome depends on (what runs in the sandbox, and how it is run)."""
    digest = hashlib.sha256()
    for name in ("runner.py", "checks.py", "sandbox.py", "forbidden.py"):
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def run_on_worker(job: Dict[str, Any], hidden: List[str], code: str = "",
                  declared: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The task: run one submission's job in this worker's sandbox for what the batch's material `declared` it must
    bind; the SandboxRun as plain data, or the grader's own error as text (as `grade_one` would report it). Raises
    SandboxUnavailable when it cannot isolate, or when its grader code is not the client's (`code`): other code
    could give other rows."""
    if code != grader_code():
        raise SandboxUnavailable(f"worker {socket.gethostname()} runs other grading code than the client "
                                 "(grading/runner.py, checks.py, sandbox.py or forbidden.py differ): "
                                 "deploy the client's commit to every worker")
    sandbox = worker_sandbox(None if declared is None else SandboxDeclaration.from_material(declared))
    _refuse_hidden(sandbox, hidden)
    try:
        run = run_job(SandboxJob(job["cells"], job["tests"], job["closure"], Limits(**job["limits"])), sandbox)
    except Exception as error:
        return {"grader_error": describe_grader_error(error)}
    return {"run": dataclasses.asdict(run)}


def no_op() -> None:
    """A task that does nothing: its round trip is the scheduler's own cost per task (grading.bench)."""


# ---------------------------------------------------------------------------------------------------------------
# The client's side
# ---------------------------------------------------------------------------------------------------------------

def job_data(job: SandboxJob) -> Dict[str, Any]:
    return {"cells": job.cells, "tests": job.tests, "closure": job.closure, "limits": dataclasses.asdict(job.limits)}


def not_graded_rows(prepared: Prepared, reason: str) -> List[Row]:
    """A row per question, 0 points, status error, saying why: the submission was not graded, and says so."""
    assert prepared.exercise is not None
    return [Row(prepared.name, prepared.exercise.id, question.name, 0.0, question.points, "error",
                f"not graded: {reason}") for question in prepared.exercise.questions]


@dataclasses.dataclass
class _Pending:
    index: int
    prepared: Prepared
    digest: str
    seconds: float   # the client's own time on it so far (read and scan)


class _ClusterBatch:
    """One batch's submissions, handed to the cluster as they are prepared and judged as their runs come back."""

    def __init__(self, client: Any, count: int, hidden: List[str], declared: SandboxDeclaration,
                 journal: Optional[Journal], progress: Optional[Progress]) -> None:
        from distributed import as_completed
        self.client, self.hidden, self.journal, self.progress = client, hidden, journal, progress
        self.declared = dataclasses.asdict(declared)   # what every task's sandbox binds (the batch's material says)
        self.results: List[Optional[List[Row]]] = [None] * count
        self.pending: Dict[Any, _Pending] = {}
        self.stream = as_completed(loop=client.loop)   # set_as_default=False: name the client's loop
        self.batch = uuid.uuid4().hex[:12]   # task keys of their own: two batches on one cluster never share one
        self.scheduler = client.scheduler.address

    def start(self, index: int, submission: Submission, exercises: Dict[str, Exercise], limits: Limits) -> None:
        """Reuse the journal's rows, or prepare the submission and hand its job to the cluster."""
        start = time.monotonic()
        name = display_path(submission.path)
        digest, rows = self.journal.lookup(submission) if self.journal is not None else ("", None)
        if rows is not None:
            return self.finish(index, name, rows, 0.0)
        prepared = prepare(submission, exercises, limits)
        if prepared.job is None:   # invalid, or the grader failed on it: its rows are already known
            return self.finish(index, name, prepared.rows, time.monotonic() - start, digest)
        future = self.client.submit(run_on_worker, job_data(prepared.job), self.hidden, grader_code(),
                                    self.declared,
                                    retries=RETRIES, key=f"grade-{self.batch}-{index}", pure=False)
        self.pending[future] = _Pending(index, prepared, digest, time.monotonic() - start)
        self.stream.add(future)
        while len(self.pending) >= MAX_IN_FLIGHT or self.stream.has_ready():
            self.collect(next(self.stream))

    def collect(self, future: Any) -> None:
        """Judge a finished task's run here, with the reference values only the client holds."""
        pending = self.pending.pop(future)
        prepared, start, worker_seconds = pending.prepared, time.monotonic(), 0.0
        if future.status == "cancelled":   # only the client's lost connection cancels a task of this batch
            raise ClusterLost(f"lost the connection to the scheduler at {self.scheduler} "
                              "mid-batch (it stopped or restarted, or the network between them failed)")
        if future.status != "finished":   # failed on every try: said, not journalled
            return self.finish(pending.index, prepared.name, not_graded_rows(prepared, self._why(future)),
                               pending.seconds)
        try:
            result = future.result()
            if "grader_error" in result:
                rows = grader_error_rows(prepared.name, str(result["grader_error"]))
            else:
                run = SandboxRun(**result["run"])
                worker_seconds = run.seconds
                rows = judge_run(prepared, run)
        except Exception as error:   # a malformed result from a worker costs this submission only
            rows = grader_error_rows(prepared.name, describe_grader_error(error))
        seconds = pending.seconds + worker_seconds + time.monotonic() - start
        self.finish(pending.index, prepared.name, rows, seconds, pending.digest)

    @staticmethod
    def _why(future: Any) -> str:
        """The task's last error in one line: a worker's SandboxUnavailable reason, or the scheduler's KilledWorker."""
        error = future.exception(timeout=10)
        return one_line(error) or type(error).__name__

    def finish(self, index: int, name: str, rows: List[Row], seconds: float, digest: Optional[str] = None) -> None:
        """Keep a submission's rows; journal them if graded now (`digest` given): --resume grades the rest again."""
        self.results[index] = rows
        if self.journal is not None and digest is not None:
            self.journal.record(name, digest, rows)
        if self.progress is not None:
            self.progress(name, rows, seconds)

    def drain(self) -> None:
        while self.pending:
            self.collect(next(self.stream))

    def cancel(self) -> None:
        if self.pending:
            self.client.cancel(list(self.pending))


def grade_on_cluster(client: Any, paths: Sequence[str], limits: Limits, exercises: Dict[str, Exercise],
                     out: Optional[Path] = None, progress: Optional[Progress] = None,
                     journal: Optional[Journal] = None) -> List[Row]:
    """`grading.grade.grade` on a cluster: the same rows, in the order of the submissions. On Ctrl-C the tasks not
    yet done are cancelled and the interrupt goes on (the journal keeps what was graded)."""
    submissions = batch_of(paths, exercises)
    batch = _ClusterBatch(client, len(submissions), hidden_paths(paths, out), declared_sandbox(exercises), journal,
                          progress)
    try:
        for index, submission in enumerate(submissions):
            batch.start(index, submission, exercises, limits)
        batch.drain()
    except ClusterLost:   # nothing left to cancel, and no scheduler to ask
        raise
    except BaseException:
        batch.cancel()
        raise
    return [row for rows in batch.results if rows is not None for row in rows]


def grade_with(scheduler: Optional[str], cluster: Optional[str], paths: Sequence[str], limits: Limits,
               exercises: Dict[str, Exercise], out: Optional[Path] = None, progress: Optional[Progress] = None,
               journal: Optional[Journal] = None) -> List[Row]:
    """What `python -m grading --scheduler ADDRESS` or `--cluster local:N` runs."""
    local = local_workers(cluster) if cluster is not None else None
    with connect(scheduler, local) as client:
        return grade_on_cluster(client, paths, limits, exercises, out, progress, journal)


def round_trip_seconds(client: Any, repeats: int = 20) -> List[float]:
    """Seconds from submitting a no-op task to holding its result, one at a time: the scheduler's cost per task."""
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        client.submit(no_op, pure=False).result()
        times.append(time.monotonic() - start)
    return times
