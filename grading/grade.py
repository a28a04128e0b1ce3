"""A batch: read every submission, scan its source, run it in its sandbox, judge it; nothing here trusts a byte.

`grade()` is what `python -m grading` runs; it returns one row per question of each submission (one `*` row for a
file that cannot be read, recognised or followed), whatever the submissions do.
"""
from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from grading.forbidden import Notebook
from grading.judge import answers, judge, split_jobs
from grading.material import Exercise, Submission, UsageError, find_submissions, load_exercises, read_submission
from grading.report import Row, display_path
from grading.sandbox import Limits, Sandbox


def grade_one(submission: Submission, exercises: Dict[str, Exercise], limits: Limits, sandbox: Sandbox) -> List[Row]:
    name = display_path(submission.path)
    try:
        submission = read_submission(submission, exercises)
        if submission.exercise is None:
            return [Row(name, "", "*", 0.0, 0.0, "invalid", submission.problem)]
        notebook = Notebook(submission.cells)   # parsed once, before it runs: the source as given
        found = answers(notebook, submission.exercise)
        closure, tests = split_jobs(notebook, submission.exercise, found)
        run = sandbox.run(submission.cells, tests, limits, closure)
        return judge(name, submission.exercise, run, found)
    except Exception as error:   # the grader's own failure on one file must not cost the others their grades
        frame = traceback.extract_tb(error.__traceback__)[-1]   # where: what a bug report needs
        where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
        return [Row(name, "", "*", 0.0, 0.0, "error", f"grader error ({where}): {type(error).__name__}: {error}")]


# Called as each submission is done: its display name, its rows and the seconds it took.
Progress = Callable[[str, List[Row], float], None]


def grade(paths: Sequence[str], limits: Limits, jobs: int = 1, exercises: Optional[Dict[str, Exercise]] = None,
          unsafe: bool = False, out: Optional[Path] = None, progress: Optional[Progress] = None) -> List[Row]:
    """Grade every notebook under `paths`; raises SandboxUnavailable before grading anything if it cannot isolate.
    The rows come in the order of the submissions, whatever order they finish in."""
    exercises = load_exercises() if exercises is None else exercises
    submissions = find_submissions(paths)
    hidden = [str(p) for p in paths] + ([str(out)] if out is not None else [])

    def timed(submission: Submission) -> List[Row]:
        start = time.monotonic()
        rows = grade_one(submission, exercises, limits, sandbox)
        if progress is not None:
            progress(display_path(submission.path), rows, time.monotonic() - start)
        return rows
    with Sandbox.open(unsafe=unsafe, hidden=hidden) as sandbox, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        batches = list(pool.map(timed, submissions))
    return [row for rows in batches for row in rows]


def check_output_writable(out: Path) -> None:
    if out.is_dir():
        raise UsageError(f"--out {display_path(out)} is a directory; give a file name such as grades.csv")
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"--out {display_path(out)}: the directory {display_path(parent)} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"--out {display_path(out)} is not writable")
