"""`python -m grading.bench [--repeats N]`: seconds per graded submission, and what the sandbox costs.

Grades each worked solution in `solutions/` on its own (one job, as `python -m grading solutions --jobs 1` would),
timing read + scan + sandboxed run + judging, and times an empty notebook with and without the sandbox, so the
sandbox's own cost is a difference measured in the same run. Prints one JSON line; the target is a median of at
most 3 s per submission on an idle 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import List, Optional

from grading.grade import grade_one
from grading.material import ROOT, Submission, find_submissions, load_exercises
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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of the empty notebook per mode (default 5)")
    args = parser.parse_args(argv)
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
