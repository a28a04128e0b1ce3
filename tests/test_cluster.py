"""Grading on a Dask cluster (`python -m grading --scheduler ...`): the same CSV as `--jobs 2`, byte for byte, on a
real scheduler and real workers listening on 127.0.0.1 only, through a worker killed mid-batch, a worker that hangs,
a client interrupted and resumed, a scheduler restarted mid-batch, and hostile notebooks that try to see or signal
what runs beside them.

The batch: the seven worked solutions, and four hostile notebooks against the battery's small exercise
(tests/test_grade_battery.py): an endless loop (stopped by the cell's alarm), a fork bomb, a cell that SIGKILLs its
parent, and one that lists /proc, SIGKILLs every process it sees and reports how many it saw.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import nbformat
import pytest

from conftest import ROOT
from test_grade import csv_rows, grade_command
from test_grade_battery import EXERCISE, _material, notebook

pytestmark = [pytest.mark.slow, pytest.mark.grading]
# Per notebook: a cell may run 20 s, twice the worked solutions' slowest seen on a 2-core machine under a load of 9
# (a solution that timed out in one run and not the other would make the CSVs differ for no fault of the cluster).
TIMEOUT = "40"
# The scheduler drops a worker that sent no heartbeat for this long (5 minutes by default) and reruns its tasks.
WORKER_TTL = "10s"
DASK = str(Path(sys.executable).parent / "dask")

HOSTILE = {
    # Named to sort first: the longest run starts first, in both modes.
    "00_endless_loop": notebook(after=("while True:\n    pass",)),
    "fork_bomb": notebook(before=("import os, time\nfor i in range(400):\n    try:\n        if os.fork() == 0:\n"
                                  "            time.sleep(30)\n            os._exit(0)\n    except OSError:\n"
                                  "        break\ntime.sleep(2)",)),
    "kill_parent": notebook(before=("import os\nos.kill(os.getppid(), 9)",)),
    # The answer reports how many processes the notebook could see; it then tries to kill each of them.
    "isolation": notebook(double="import os, signal\n"
                                 "visible = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
                                 "for pid in visible:\n    if pid != os.getpid():\n        try:\n"
                                 "            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n"
                                 "def double(n):\n    raise ValueError(f'visible pids: {len(visible)}')"),
}


class LoopbackCluster:
    """A `dask scheduler` and `dask worker` processes, each in a process group of its own, on 127.0.0.1 only."""

    def __init__(self, folder: Path, env: Dict[str, str], port: int = 0) -> None:
        # A temporary folder of their own: a worker killed with SIGKILL leaves its sandbox's folders there, not in /tmp.
        (folder / "tmp").mkdir(parents=True)
        self.folder = folder
        self.env = {**env, "TMPDIR": str(folder / "tmp"), "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": WORKER_TTL}
        self.file = folder / "scheduler.json"
        self.scheduler = self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                                      "--dashboard-address", "127.0.0.1:0",   # its HTTP server, even without one
                                      "--scheduler-file", str(self.file)], "scheduler")
        self.workers: List[subprocess.Popen] = []
        self.logs: Dict[int, Path] = {}   # a worker's log by its pid: one file per worker ever started
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert self.file.exists(), (self.folder / "scheduler.log").read_text()
        self.address = json.loads(self.file.read_text())["address"]

    def _start(self, command: List[str], log: str) -> subprocess.Popen:
        with open(self.folder / f"{log}.log", "ab") as output:
            return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=self.env,
                                    cwd=self.folder, start_new_session=True)

    def add_worker(self) -> subprocess.Popen:
        """A worker with no nanny, so that SIGKILL to its group is a worker dying, not one being restarted."""
        log = f"worker{len(self.logs)}"
        worker = self._start([DASK, "worker", "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                              "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--scheduler-file",
                              str(self.file)], log)
        self.workers.append(worker)
        self.logs[worker.pid] = self.folder / f"{log}.log"
        return worker

    def address_of(self, worker: subprocess.Popen) -> str:
        """The worker's address, as its log states it once it has started."""
        log = self.logs[worker.pid]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in log.read_text().splitlines():
                if "Start worker at:" in line:
                    return line.split("Start worker at:")[1].strip()
            time.sleep(0.2)
        raise AssertionError(log.read_text())

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client
        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=60)

    def processes(self) -> List[subprocess.Popen]:
        return [self.scheduler] + self.workers

    def stop(self) -> None:
        """The workers, then the scheduler (a worker whose scheduler is gone is slow to go): SIGTERM first, so a
        worker removes its sandbox's folder as it exits, then SIGKILL whatever is left."""
        for group in (self.workers, [self.scheduler]):
            for process in group:
                _signal_group(process, signal.SIGTERM)
            for process in group:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()


def _signal_group(process: subprocess.Popen, number: int) -> None:
    try:
        os.killpg(process.pid, number)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster(sandbox_works, tmp_path_factory) -> Iterator[LoopbackCluster]:
    running = LoopbackCluster(tmp_path_factory.mktemp("cluster"), dict(os.environ))
    try:
        running.add_worker()
        running.add_worker()
        running.wait_for_workers(2)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def batch(sandbox_works, tmp_path_factory) -> Dict[str, Path]:
    """The submissions, the material (the book's exercises and the battery's), and the `--jobs 2` CSV."""
    folder = tmp_path_factory.mktemp("batch")
    material, submissions = folder / "material", folder / "submissions"
    shutil.copytree(ROOT / "grading" / "autograder", material)
    (material / f"{EXERCISE}.json").write_text(json.dumps(_material()))
    shutil.copytree(ROOT / "solutions", submissions, ignore=shutil.ignore_patterns(".*"))
    for name, book in HOSTILE.items():
        nbformat.write(book, submissions / f"{name}_{EXERCISE}.ipynb")
    reference = folder / "jobs.csv"
    result = grade_command([str(submissions)], reference, *_options(material), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    return {"folder": folder, "material": material, "submissions": submissions, "reference": reference}


def _options(material: Path) -> List[str]:
    return ["--timeout", TIMEOUT, "--material", str(material)]


def _on_cluster(batch: Dict[str, Path], cluster: LoopbackCluster, out: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "grading", "--out", str(out), *_options(batch["material"]), "--scheduler",
               cluster.address, *extra, "--", str(batch["submissions"])]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _submissions(rows: List[Dict[str, str]]) -> set:
    return {row["submission"] for row in rows}


@pytest.fixture(scope="module")
def on_cluster(batch, cluster) -> Path:
    """The batch graded once on the loopback cluster: its CSV."""
    out = batch["folder"] / "cluster.csv"
    result = grade_command([str(batch["submissions"])], out, *_options(batch["material"]),
                           "--scheduler", cluster.address)
    assert result.returncode == 0, result.stderr
    return out


def test_the_cluster_gives_the_jobs_csv_byte_for_byte(batch, on_cluster) -> None:
    out = on_cluster
    assert out.read_bytes() == batch["reference"].read_bytes()
    assert len(_submissions(csv_rows(out))) == 11 and not (batch["folder"] / "cluster.journal.jsonl").exists()
    statuses = {row["question"]: row["status"] for row in csv_rows(out) if "solutions" not in row["submission"]
                and row["submission"].endswith(f"kill_parent_{EXERCISE}.ipynb")}
    assert statuses == {"corr2d": "passed", "maxpool": "passed", "grad": "passed", "double": "passed"}


def test_a_submission_sees_only_its_own_sandbox(on_cluster, cluster) -> None:
    """On a worker, it saw at most its sandbox's few processes (never the worker, the scheduler or a classmate),
    and killing everything it saw left the cluster running."""
    rows = csv_rows(on_cluster)
    isolation = next(r for r in rows if r["submission"].endswith(f"isolation_{EXERCISE}.ipynb")
                     and r["question"] == "double")
    assert "visible pids: " in isolation["message"], isolation
    assert int(isolation["message"].split("visible pids: ")[1].split()[0].rstrip(";)")) <= 3
    assert all(process.poll() is None for process in cluster.processes())


def test_only_the_loopback_interface_is_used(cluster) -> None:
    import psutil
    assert cluster.address.startswith("tcp://127.0.0.1:")
    for process in cluster.processes():
        for connection in psutil.Process(process.pid).net_connections(kind="inet"):
            assert connection.laddr.ip == "127.0.0.1", connection


def test_a_worker_killed_mid_batch_loses_nothing(batch, cluster) -> None:
    out = batch["folder"] / "killed.csv"
    client = _on_cluster(batch, cluster, out)
    _first_progress_line(client)
    victim = cluster.workers[0]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    cluster.workers.remove(victim)
    cluster.add_worker()   # what a nanny or the batch system would do; the batch does not wait for it
    stdout, stderr = client.communicate(timeout=300)
    assert client.returncode == 0, stderr
    assert len(_submissions(csv_rows(out))) == 11
    assert out.read_bytes() == batch["reference"].read_bytes()


def _first_progress_line(client: subprocess.Popen) -> None:
    """Read the client's stderr up to its first `[1/11] ...` line: a notebook is done and both workers are busy."""
    line = ""
    while not line.startswith("[") and client.poll() is None:
        line = client.stderr.readline()
    assert line.startswith("[1/11]"), line + client.stderr.read()


def test_a_worker_that_hangs_loses_nothing(batch, cluster) -> None:
    """SIGSTOP: the worker keeps its connections open but sends no heartbeat. The scheduler drops it after its
    worker-ttl and reruns its task on the other worker; the rows are the --jobs rows."""
    from distributed import Client
    out = batch["folder"] / "hung.csv"
    victim = cluster.workers[0]
    address = cluster.address_of(victim)
    client = _on_cluster(batch, cluster, out)
    _first_progress_line(client)
    with Client(cluster.address, timeout=30, set_as_default=False) as observer:
        deadline = time.monotonic() + 60
        while not observer.processing().get(address) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert observer.processing().get(address), "the worker to stop never got a task"
        os.killpg(victim.pid, signal.SIGSTOP)   # mid-task
    try:
        stdout, stderr = client.communicate(timeout=300)
    finally:
        _signal_group(victim, signal.SIGKILL)
        victim.wait()
        cluster.workers.remove(victim)
        cluster.add_worker()
        cluster.wait_for_workers(2)
    assert client.returncode == 0, stderr
    assert out.read_bytes() == batch["reference"].read_bytes()


@contextlib.contextmanager
def _sigint_handled_in_children() -> Iterator[None]:
    """Children started inside get SIGINT at its default, so that their Python turns it into KeyboardInterrupt.

    A shell that runs the tests in the background (`make test &` in a script) starts them with SIGINT ignored, and
    an ignored signal stays ignored across exec, so the grading client would never see the test's Ctrl-C; a signal
    with a handler is reset to its default at exec instead."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def test_an_interrupted_client_resumes_from_its_journal(batch, cluster) -> None:
    out = batch["folder"] / "resumed.csv"
    journal = batch["folder"] / "resumed.journal.jsonl"
    with _sigint_handled_in_children():
        client = _on_cluster(batch, cluster, out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count("\n") < 2):
        time.sleep(0.1)
    client.send_signal(signal.SIGINT)
    stdout, stderr = client.communicate(timeout=120)
    assert client.returncode == 130, stderr
    assert "--resume" in stderr.strip().splitlines()[-1]
    kept = journal.read_text().splitlines()[1:]
    assert 1 <= len(kept) < 11 and not out.exists()
    result = grade_command([str(batch["submissions"])], out, *_options(batch["material"]),
                           "--scheduler", cluster.address, "--resume")
    assert result.returncode == 0, result.stderr
    assert f"resumed: {len(kept)} from the journal" in result.stdout
    assert sum(line.startswith("[") for line in result.stderr.splitlines()) == 11   # each reported once
    assert out.read_bytes() == batch["reference"].read_bytes()
    assert not journal.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_scheduler_restarted_mid_batch_stops_it_and_resume_finishes_it(batch, tmp_path: Path) -> None:
    """The scheduler dies with tasks in flight: the client stops at once with exit 1, keeping the journal; a new
    scheduler at the same address, with new workers, grades only what the journal lacks."""
    port = _free_port()
    out, journal = tmp_path / "grades.csv", tmp_path / "grades.journal.jsonl"
    first = LoopbackCluster(tmp_path / "first", dict(os.environ), port)
    try:
        first.add_worker()
        first.add_worker()
        first.wait_for_workers(2)
        client = _on_cluster(batch, first, out)
        _first_progress_line(client)
        _signal_group(first.scheduler, signal.SIGKILL)
        stdout, stderr = client.communicate(timeout=120)
    finally:
        first.stop()
    assert client.returncode == 1, stderr
    last = stderr.strip().splitlines()[-1]
    assert "lost the connection to the scheduler" in last and "--resume" in last, stderr
    kept = journal.read_text().splitlines()[1:]
    assert 1 <= len(kept) < 11 and not out.exists()
    second = LoopbackCluster(tmp_path / "second", dict(os.environ), port)
    try:
        second.add_worker()
        second.add_worker()
        second.wait_for_workers(2)
        assert second.address == first.address
        result = grade_command([str(batch["submissions"])], out, *_options(batch["material"]),
                               "--scheduler", second.address, "--resume")
    finally:
        second.stop()
    assert result.returncode == 0, result.stderr
    assert f"resumed: {len(kept)} from the journal" in result.stdout
    assert out.read_bytes() == batch["reference"].read_bytes()
    assert not journal.exists()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    result = grade_command(["solutions/01_convolution_math.ipynb"], tmp_path / "grades.csv", "--scheduler",
                           f"tcp://127.0.0.1:{_free_port()}", env=env)
    assert result.returncode == 2 and not (tmp_path / "grades.csv").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the scheduler" in lines[0], result.stderr


def test_a_worker_that_cannot_sandbox_leaves_rows_that_say_not_graded(tmp_path: Path) -> None:
    """A worker whose bwrap cannot make namespaces: each of its tasks fails, saying why; the rows say so."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    broken = LoopbackCluster(tmp_path, {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    try:
        broken.add_worker()
        broken.wait_for_workers(1)
        out = tmp_path / "grades.csv"
        result = grade_command(["solutions/01_convolution_math.ipynb"], out, "--scheduler", broken.address)
    finally:
        broken.stop()
    assert result.returncode == 0, result.stderr
    rows = csv_rows(out)
    assert rows and all(row["status"] == "error" and row["points"] == "0" for row in rows)
    assert all(row["message"].startswith("not graded: ") and "No permissions to create new namespace"
               in row["message"] for row in rows), rows


def test_a_worker_with_other_grading_code_refuses_to_run() -> None:
    """Rows depend on the runner and the checks: a worker on another commit says so instead of grading."""
    from grading.cluster import grader_code, run_on_worker
    from grading.sandbox import SandboxUnavailable
    with pytest.raises(SandboxUnavailable, match="other grading code than the client"):
        run_on_worker({}, [], "0" * 64)
    assert len(grader_code()) == 64
