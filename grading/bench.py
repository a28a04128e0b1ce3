"""`python -m grading.bench [--repeats N] [--cluster local:N]`: seconds per graded submission, and what the sandbox
costs.

Grades each worked solution in `solutions/` on its own (one job, as `python -m grading solutions --jobs 1` would),
timing read + scan + sandboxed run + judging, and times an empty notebook with and without the sandbox, so the
sandbox's own cost is a difference measured in the same run. Prints one JSON line; the target is a median of at
most 3 s per submission on an idle 2-core machine.

With `--cluster local:N`: the worked solutions and a copy of each (14 notebooks) graded with `--jobs N` and on a
local Dask cluster of N single-threaded workers, one after the other in the same run, both with this machine's
sandbox warm (torch imported, the probe done), so the figures compare the batches alone; the cluster's start and the
scheduler's own cost per task (the round trip of a no-op task, median of 20) are reported beside them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from grading.grade import grade, grade_one
from grading.material import ROOT, Submission, find_submissions, load_exercises
from grading.report import Row
from grading.sandbox import Limits, Sandbox

TARGET_SECONDS = 3.0


def _empty_runs(sandboxes: List[Sandbox], limits: Limits, repeats: int) -> List[float]:
    """Median seconds of an empty notebook in each sandbox, the runs interleaved so that load hits both alike."""
    times: List[List[float]] = [[] for _ in sandboxes]
    for _ in range(repeats):
        for sandbox, measured in zip(sandboxes, times):
            start = time.monotonic()
            sandbox.run([], [], limits)
            measured.append(time.monotonic() - start)
    return [statistics.median(measured) for measured in times]


def _fourteen_notebooks(folder: Path) -> List[str]:
    """Each worked solution twice, as two students would hand them in."""
    for student in ("alice", "bob"):
        shutil.copytree(ROOT / "solutions", folder / student, ignore=shutil.ignore_patterns(".*"))
    return [str(folder / "alice"), str(folder / "bob")]


def _per_minute(count: int, seconds: float) -> float:
    return round(60.0 * count / seconds, 2)


def _full_marks(rows: List[Row], how: str) -> None:
    if any(row.status != "passed" for row in rows):
        failed = [row for row in rows if row.status != "passed"]
        raise SystemExit(f"a worked solution did not score full marks {how}: {failed}")


def cluster_figures(spec: str) -> Dict[str, object]:
    """Throughput of `--jobs N` and of a local cluster of N workers on the same 14 notebooks, measured in this run."""
    from grading.cluster import connect, grade_on_cluster, local_workers, open_worker_sandbox, round_trip_seconds
    workers, exercises, limits = local_workers(spec), load_exercises(), Limits()
    worker_seconds: List[float] = []
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        paths = _fourteen_notebooks(Path(folder))
        count = len(find_submissions(paths))
        Sandbox.open().close()   # torch imported and the probe done here, as each worker does below
        start = time.monotonic()
        local_rows = grade(paths, limits, jobs=workers, exercises=exercises)
        jobs_seconds = time.monotonic() - start
        _full_marks(local_rows, f"with --jobs {workers}")
        start = time.monotonic()
        with connect(None, workers) as client:
            started = time.monotonic()
            client.run(open_worker_sandbox)   # every worker opens its sandbox (and imports torch) before the clock runs
            warm = time.monotonic()
            rows = grade_on_cluster(client, paths, limits, exercises,
                                    progress=lambda name, rows, seconds: worker_seconds.append(seconds))
            cluster_seconds = time.monotonic() - warm
            round_trips = round_trip_seconds(client, 20)
        _full_marks(rows, "on the cluster")
    return {"notebooks": count, "workers": workers,
            "jobs_seconds": round(jobs_seconds, 2), "jobs_notebooks_per_minute": _per_minute(count, jobs_seconds),
            "cluster_seconds": round(cluster_seconds, 2),
            "cluster_notebooks_per_minute": _per_minute(count, cluster_seconds),
            "cluster_start_seconds": round(started - start, 2), "worker_sandbox_open_seconds": round(warm - started, 2),
            "median_seconds_per_notebook": round(statistics.median(worker_seconds), 3),
            "task_round_trip_median_seconds": round(statistics.median(round_trips), 4),
            "same_rows": [r.fields() for r in rows] == [r.fields() for r in local_rows]}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of the empty notebook per mode (default 5)")
    parser.add_argument("--cluster", metavar="local:N",
                        help="compare --jobs N with a local Dask cluster of N workers on 14 notebooks instead")
    args = parser.parse_args(argv)
    if args.cluster is not None:
        print(json.dumps(cluster_figures(args.cluster)))
        return 0
    exercises, limits = load_exercises(), Limits()
    seconds = {}
    with Sandbox.open() as sandbox, Sandbox.open(unsafe=True) as bare:
        for submission in find_submissions([str(ROOT / "solutions")]):
            start = time.monotonic()
            rows = grade_one(Submission(submission.path), exercises, limits, sandbox)
            seconds[submission.path.stem] = round(time.monotonic() - start, 3)
            if any(row.status != "passed" for row in rows):
                raise SystemExit(f"{submission.path.name} did not score full marks: {rows}")
        sandboxed, unsandboxed = _empty_runs([sandbox, bare], limits, args.repeats)
    median = statistics.median(seconds.values())
    print(json.dumps({"seconds_by_solution": seconds, "median_seconds_per_submission": round(median, 3),
                      "target_seconds": TARGET_SECONDS, "meets_target": median <= TARGET_SECONDS,
                      "empty_run_sandboxed_seconds": round(sandboxed, 3),
                      "empty_run_unsandboxed_seconds": round(unsandboxed, 3),
                      "sandbox_overhead_seconds": round(sandboxed - unsandboxed, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
