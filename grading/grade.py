"""A batch: read every submission, scan its source, run it in its sandbox, judge it; nothing here trusts a byte.

`grade()` is what `python -m grading` runs; it returns one row per question of each submission (one `*` row for a
file that cannot be read, recognised or followed), whatever the submissions do.

Grading one submission is three steps, shared by this machine's thread pool and by a Dask cluster
(`grading.cluster`): `prepare` (the grader's process reads the bytes, scans the source and splits the jobs),
`run_job` (the sandbox runs what `prepare` made: cells, tests' sources, the closure, the limits; never a reference
value) and `judge_run` (the grader's process compares what the run reported with the reference values). The
`Journal` records each finished submission's rows as they come, so an interrupted batch resumes where it stopped.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from grading.forbidden import Answer, Notebook
from grading.judge import answers, judge, split_jobs
from grading.material import (Exercise, Submission, UsageError, _read_bytes, declared_sandbox, find_submissions,
                              load_exercises, read_submission)
from grading.report import Row, display_path
from grading.sandbox import Limits, Sandbox, SandboxRun
from grading.students import superseded


@dataclass(frozen=True)
class SandboxJob:
    """All a sandbox needs to run one submission, as plain data: what `prepare` sends to a cluster's worker.
    The tests' sources only: the reference values stay in the grader's process."""
    cells: List[dict]
    tests: List[dict]
    closure: dict
    limits: Limits


@dataclass
class Prepared:
    """One submission after the grader's side of the work: `rows` when it cannot run (or the grader failed on it),
    else the `job` for a sandbox and what judging its run needs."""
    name: str
    rows: List[Row] = field(default_factory=list)
    job: Optional[SandboxJob] = None
    exercise: Optional[Exercise] = None
    found: Dict[str, Answer] = field(default_factory=dict)


def describe_grader_error(error: BaseException) -> str:
    """The grader's own failure, and where it happened (what a bug report needs)."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
    return f"grader error ({where}): {type(error).__name__}: {error}"


def grader_error_rows(name: str, description: str) -> List[Row]:
    """One `*` row for a file the grader itself failed on: it must not cost the others their grades."""
    return [Row(name, "", "*", 0.0, 0.0, "error", description)]


def prepare(submission: Submission, exercises: Dict[str, Exercise], limits: Limits) -> Prepared:
    """Read, recognise and scan the submission, and split its jobs (closure first): all in the grader's process."""
    name = display_path(submission.path)
    try:
        submission = read_submission(submission, exercises)
        if submission.exercise is None:
            return Prepared(name, [Row(name, "", "*", 0.0, 0.0, "invalid", submission.problem)])
        notebook = Notebook(submission.cells)   # parsed once, before it runs: the source as given
        found = answers(notebook, submission.exercise)
        closure, tests = split_jobs(notebook, submission.exercise, found)
        return Prepared(name, job=SandboxJob(submission.cells, tests, closure, limits),
                        exercise=submission.exercise, found=found)
    except Exception as error:   # the grader's own failure on one file must not cost the others their grades
        return Prepared(name, grader_error_rows(name, describe_grader_error(error)))


def run_job(job: SandboxJob, sandbox: Sandbox) -> SandboxRun:
    return sandbox.run(job.cells, job.tests, job.limits, job.closure)


def judge_run(prepared: Prepared, run: SandboxRun) -> List[Row]:
    assert prepared.exercise is not None, "only a prepared job is judged"
    try:
        return judge(prepared.name, prepared.exercise, run, prepared.found)
    except Exception as error:
        return grader_error_rows(prepared.name, describe_grader_error(error))


def grade_one(submission: Submission, exercises: Dict[str, Exercise], limits: Limits, sandbox: Sandbox) -> List[Row]:
    prepared = prepare(submission, exercises, limits)
    if prepared.job is None:
        return prepared.rows
    try:
        run = run_job(prepared.job, sandbox)
    except Exception as error:
        return grader_error_rows(prepared.name, describe_grader_error(error))
    return judge_run(prepared, run)


def sha256_of(submission: Submission) -> str:
    """The file's digest for the journal ("" when it cannot be read: such a file is cheap to look at again)."""
    if submission.problem:
        return ""
    try:
        return hashlib.sha256(_read_bytes(submission.path)).hexdigest()
    except (OSError, ValueError):
        return ""


def hidden_paths(paths: Sequence[str], out: Optional[Path]) -> List[str]:
    """What no sandbox may see: the submissions, the output CSV and its journal (classmates' rows)."""
    extra = [str(out), str(journal_path(out))] if out is not None else []
    return [str(p) for p in paths] + extra


# ---------------------------------------------------------------------------------------------------------------
# The journal: nothing graded is lost to an interruption
# ---------------------------------------------------------------------------------------------------------------

def journal_path(out: Path) -> Path:
    """grades.csv -> grades.journal.jsonl, beside it (as grades.decisions.json is)."""
    return out.with_suffix(".journal.jsonl")


def batch_settings(exercises: Dict[str, Exercise], limits: Limits) -> str:
    """A digest of what a row depends on besides the notebook: the material (tests, reference values) and the
    limits. A journal written under other settings holds rows this batch would not give, so it is not resumed."""
    material = {name: dataclasses.asdict(exercise) for name, exercise in sorted(exercises.items())}
    text = json.dumps({"material": material, "limits": dataclasses.asdict(limits)}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _row_from_json(data: dict) -> Row:
    tests = tuple((str(n), bool(h), str(s), str(m)) for n, h, s, m in data["tests"])
    return Row(str(data["submission"]), str(data["exercise"]), str(data["question"]), float(data["points"]),
               float(data["max_points"]), str(data["status"]), str(data["message"]), tests)


class Journal:
    """OUT.journal.jsonl: a first line naming the batch's settings, then one line per finished submission (its
    display path, the sha256 of its bytes, its rows), appended and flushed as each finishes, so an interrupted
    batch keeps what it graded. With `resume`, a submission whose path and digest are in it is not graded again.
    Created at the first record (a batch that stops before grading anything leaves none); removed once the CSV
    is written."""

    def __init__(self, path: Path, settings: str, resume: bool = False) -> None:
        self.path, self.settings, self.resume = path, settings, resume
        self.lock = threading.Lock()
        self.file: Optional[TextIO] = None
        self.earlier = self._read() if resume else {}
        self.reused = self.recorded = 0
        self.failed = False

    def _read(self) -> Dict[Tuple[str, str], List[Row]]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return {}
        if not lines:
            return {}
        if lines[0] != json.dumps({"journal": 1, "settings": self.settings}):
            raise UsageError(f"--resume: {display_path(self.path)} was written with other material or limits; "
                             "grade again without --resume")
        earlier = {}
        for line in lines[1:]:
            try:   # a line cut short by a crash is graded again
                entry = json.loads(line)
                earlier[(entry["submission"], entry["sha256"])] = [_row_from_json(row) for row in entry["rows"]]
            except (ValueError, KeyError, TypeError):
                continue
        return earlier

    def lookup(self, submission: Submission) -> Tuple[str, Optional[List[Row]]]:
        """(digest, the rows an earlier run journalled for these very bytes, or None)."""
        digest = sha256_of(submission)
        rows = self.earlier.get((display_path(submission.path), digest)) if digest else None
        if rows is not None:
            with self.lock:
                self.reused += 1
        return digest, rows

    def record(self, name: str, digest: str, rows: List[Row]) -> None:
        entry = {"submission": name, "sha256": digest, "rows": [dataclasses.asdict(row) for row in rows]}
        with self.lock:
            if self.failed:
                return
            try:
                if self.file is None:
                    self.file = self._open()
                # ensure_ascii: a lone surrogate in a message survives the round trip as an escape
                self.file.write(json.dumps(entry) + "\n")
                self.file.flush()
                self.recorded += 1
            except OSError as error:   # the journal is insurance: its loss must not stop the grading
                self.failed = True
                print(f"warning: cannot write {display_path(self.path)} ({error.strerror}); grading goes on "
                      "without a journal, so an interruption loses what was graded", file=sys.stderr)

    def _open(self) -> TextIO:
        """Append to the journal being resumed; otherwise start a new one (an older one's rows are stale)."""
        keep = self.resume and self.path.exists() and self.path.stat().st_size > 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | (0 if keep else os.O_TRUNC)
        file = os.fdopen(os.open(self.path, flags, 0o600), "w", encoding="utf-8")   # classmates' rows: ours only
        if not keep:
            file.write(json.dumps({"journal": 1, "settings": self.settings}) + "\n")
        elif not self.path.read_bytes().endswith(b"\n"):   # a line cut short by the interrupt: end it
            file.write("\n")
        return file

    def close(self) -> None:
        with self.lock:
            if self.file is not None:
                self.file.close()
                self.file = None

    def remove(self) -> None:
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


# Called as each submission is done: its display name, its rows and the seconds it took.
Progress = Callable[[str, List[Row], float], None]


def batch_of(paths: Sequence[str], exercises: Dict[str, Exercise]) -> List[Submission]:
    """The submissions under `paths`; a copy that a later resubmission of the same student and exercise replaces
    (`name-1.ipynb` after `name.ipynb`, as an LMS numbers them) is listed with the reason, not graded."""
    submissions = find_submissions(paths)
    later = superseded([display_path(s.path) for s in submissions if not s.problem], exercises)
    for submission in submissions:
        replaced_by = later.get(display_path(submission.path))
        if replaced_by is not None:
            submission.problem = (f"an earlier copy: {replaced_by} is this student's latest submission of this "
                                  "exercise and is graded instead")
    return submissions


def grade(paths: Sequence[str], limits: Limits, jobs: int = 1, exercises: Optional[Dict[str, Exercise]] = None,
          unsafe: bool = False, out: Optional[Path] = None, progress: Optional[Progress] = None,
          journal: Optional[Journal] = None) -> List[Row]:
    """Grade every notebook under `paths`; raises SandboxUnavailable before grading anything if it cannot isolate.
    The rows come in the order of the submissions, whatever order they finish in."""
    exercises = load_exercises() if exercises is None else exercises
    submissions = batch_of(paths, exercises)

    def timed(submission: Submission) -> List[Row]:
        start = time.monotonic()
        digest, rows = journal.lookup(submission) if journal is not None else ("", None)
        if rows is None:
            rows = grade_one(submission, exercises, limits, sandbox)
            if journal is not None:
                journal.record(display_path(submission.path), digest, rows)
        if progress is not None:
            progress(display_path(submission.path), rows, time.monotonic() - start)
        return rows
    declared = declared_sandbox(exercises)   # what the exercises' own material binds, also from --material DIR
    with Sandbox.open(unsafe=unsafe, hidden=hidden_paths(paths, out), declared=declared) as sandbox, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(timed, submission) for submission in submissions]
        try:
            batches = [future.result() for future in futures]
        except BaseException:   # Ctrl-C: the runs under way finish (and are journalled); the rest never start
            pool.shutdown(cancel_futures=True)
            raise
    return [row for rows in batches for row in rows]


def check_output_writable(out: Path) -> None:
    if out.is_dir():
        raise UsageError(f"--out {display_path(out)} is a directory; give a file name such as grades.csv")
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"--out {display_path(out)}: the directory {display_path(parent)} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"--out {display_path(out)} is not writable")
