"""The trusted side of grading: find submissions, run each in a sandbox, compare what comes back, write the CSV.

Everything a score depends on is decided here, in the grader's own process: the tests and the reference values
are read from `grading/autograder/*.json` once, before any submission runs; a submission's process only ever
returns plain data (see `book.grade.sandbox`), which is decoded, type-checked and compared with numpy here.
"""
from __future__ import annotations

import csv
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from book.grade.compare import MalformedValue, apply_rule, compare, decode

ROOT = Path(__file__).resolve().parents[2]
AUTOGRADER = ROOT / "grading" / "autograder"
RUNNER_SOURCE = (Path(__file__).with_name("sandbox.py")).read_text()
COLUMNS = ["submission", "exercise", "question", "points", "max_points", "status", "message"]
MAX_NOTEBOOK_BYTES = 20 << 20
NOBODY = 65534


@dataclass(frozen=True)
class Test:
    name: str
    hidden: bool
    points: float
    source: str


@dataclass(frozen=True)
class Question:
    name: str
    points: float
    tests: Tuple[Test, ...]
    cell_ids: Tuple[str, ...]


@dataclass(frozen=True)
class Exercise:
    id: str
    questions: Tuple[Question, ...]
    reference: Dict[str, Dict[str, List[dict]]]

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)

    def jobs(self) -> List[dict]:
        return [{"question": q.name, "name": t.name, "source": t.source} for q in self.questions for t in q.tests]


def exercise_from_material(material: dict) -> Exercise:
    questions = tuple(
        Question(q["name"], float(q["points"]), tuple(Test(t["name"], bool(t["hidden"]), float(t["points"]),
                                                           t["source"]) for t in q["tests"]),
                 tuple(q.get("cell_ids", ())))
        for q in material["questions"])
    return Exercise(material["exercise"], questions, material.get("reference", {}))


def load_exercises(directory: Path = AUTOGRADER) -> Dict[str, Exercise]:
    """Every exercise's tests and reference values, read into memory before any submission runs."""
    exercises = {}
    if not Path(directory).is_dir():
        raise UsageError(f"no such folder of grader material: {directory}")
    for path in sorted(Path(directory).glob("*.json")):
        try:
            exercise = exercise_from_material(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{path} is not grader material ({type(error).__name__}: {error})") from None
        exercises[exercise.id] = exercise
    return exercises


# ---------------------------------------------------------------------------------------------------------------
# Running a notebook in the sandbox
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class SandboxRun:
    events: List[dict]
    returncode: Optional[int]
    timed_out: bool
    seconds: float
    log_tail: str = ""


@dataclass(frozen=True)
class Limits:
    """Per notebook. One torch thread: parallelism comes from --jobs, and on a busy machine several threads per
    process made a small CNN's training five times slower, not faster (measured: 18 s against 3.3 s)."""
    timeout: float = 60.0
    memory_mb: int = 2048
    threads: int = 1


def _reachable_by_others(path: Path) -> bool:
    """Can an unrelated user read `path` (every directory above it searchable, the file readable)?"""
    path = path.resolve()
    for directory in path.parents:
        if not directory.stat().st_mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


@functools.lru_cache(maxsize=1)
def _drop_to() -> Optional[int]:
    """Run submissions as `nobody` when the grader is root, so they cannot write the repository or the output.

    Only possible when `nobody` can reach the interpreter and the packages; otherwise say so once, and go on.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import importlib.util
    needed = [Path(sys.executable), Path(__file__)] + [
        Path(importlib.util.find_spec(name).origin) for name in ("torch", "numpy", "IPython")]
    if all(_reachable_by_others(path) for path in needed):
        return NOBODY
    print("python -m book.grade: note: running submissions as root, because user 'nobody' cannot reach "
          f"{sys.executable} or its packages; grade as an ordinary user or in a container (see README)",
          file=sys.stderr)
    return None


def _sandbox_env(scratch: str, threads: int) -> Dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
           "MPLCONFIGDIR": scratch, "IPYTHONDIR": os.path.join(scratch, ".ipython"), "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if "BOOK_DATA" in os.environ:
        env["BOOK_DATA"] = os.path.abspath(os.environ["BOOK_DATA"])
    return env


def run_sandbox(cells: List[dict], tests: List[dict], limits: Limits) -> SandboxRun:
    """Run `cells` then `tests` in a fresh, limited process; return the events it reported, whatever happened."""
    private = tempfile.mkdtemp(prefix="book-grade-")          # results and log: only the grader can open them
    scratch = tempfile.mkdtemp(prefix="book-grade-scratch-")  # the submission's working directory and HOME
    user = _drop_to()
    if user is not None:
        os.chown(scratch, user, user)
    results_path, log_path = os.path.join(private, "results.jsonl"), os.path.join(private, "log.txt")
    job = {"cells": cells, "tests": tests, "deadline": max(limits.timeout - 0.5, 1.0),
           "cell_timeout": max(limits.timeout / 2, 1.0), "test_timeout": max(limits.timeout / 6, 2.0),
           "test_reserve": min(limits.timeout / 4, 2.0 * len(tests) + 2.0),
           "memory_bytes": limits.memory_mb << 20, "threads": limits.threads}
    start = time.monotonic()
    timed_out = False
    with open(results_path, "wb") as results, open(log_path, "wb") as log:
        job["result_fd"] = results.fileno()
        options = dict(user=user, group=user, extra_groups=[]) if user is not None else {}
        process = subprocess.Popen([sys.executable, "-I", "-B", "-c", RUNNER_SOURCE], stdin=subprocess.PIPE,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=scratch, pass_fds=(results.fileno(),),
                                   env=_sandbox_env(scratch, limits.threads), start_new_session=True, **options)
        try:
            process.communicate(json.dumps(job).encode(), timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except BrokenPipeError:   # the process died before reading its job
            pass
        finally:
            _kill_group(process)
    seconds = time.monotonic() - start
    events = _read_events(results_path)
    log_tail = Path(log_path).read_bytes()[-2000:].decode("utf-8", "replace")
    shutil.rmtree(private, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return SandboxRun(events, process.returncode, timed_out, seconds, log_tail)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the submission and anything it started (it runs in its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _read_events(path: str) -> List[dict]:
    events = []
    with open(path, "rb") as results:
        for line in results:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if type(event) is dict:
                events.append(event)
    return events


# ---------------------------------------------------------------------------------------------------------------
# Judging: from events to per-question rows
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Row:
    submission: str
    exercise: str
    question: str
    points: float
    max_points: float
    status: str
    message: str

    def as_csv(self) -> List[str]:
        return [self.submission, self.exercise, self.question, _number(self.points), _number(self.max_points),
                self.status, " ".join(self.message.split())[:500]]


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _judge_test(test: Test, event: Optional[dict], reference: List[dict], run: SandboxRun) -> Tuple[str, str]:
    """(status, message) of one test: passed, failed, error or timeout."""
    if event is None:
        if run.timed_out:
            return "timeout", "the notebook ran past its time limit before this test ran"
        return "error", f"the notebook's process ended (exit status {run.returncode}) before this test ran"
    if event.get("duplicate"):
        return "failed", "the result of this test was reported twice (tampering?)"
    status, message = event.get("status"), str(event.get("message", ""))[:300]
    if status == "timeout":
        return "timeout", message
    if status == "error":
        return "error", message
    if status == "forbidden":
        return "failed", message
    records = event.get("records")
    if status != "ran" or type(records) is not list:
        return "failed", "malformed result"
    if len(records) != len(reference):
        return "failed", f"the test checked {len(records)} values, expected {len(reference)}"
    info = ""
    for expected, got in zip(reference, records):
        if type(got) is not dict:
            return "failed", "malformed result"
        if "unsupported" in got:
            return "failed", str(got["unsupported"])[:300]
        try:
            value = decode(got.get("value"))
            if expected.get("rule"):
                ok, note = apply_rule(expected["rule"], value, decode(expected.get("context")))
                info = note if ok else info
            else:
                # The author's literal when the test has one (the build checked the reference matches it).
                target = expected["expected"] if "expected" in expected else expected["value"]
                ok, note = compare(decode(target), value, atol=expected["atol"], rtol=expected["rtol"],
                                   reveal=not test.hidden)
        except MalformedValue as error:
            return "failed", f"malformed result: {error}"
        except Exception as error:   # a value no rule foresaw must cost the test, never crash the batch
            return "failed", f"could not compare the result: {type(error).__name__}: {error}"[:300]
        if not ok:
            return "failed", note
    return "passed", info


def judge(submission: str, exercise: Exercise, run: SandboxRun) -> List[Row]:
    tests: Dict[Tuple[str, str], dict] = {}
    cell_timeouts: List[dict] = []
    for event in run.events:
        if event.get("event") == "test":
            key = (str(event.get("question")), str(event.get("test")))
            tests[key] = {"duplicate": True} if key in tests else event
        elif event.get("event") == "cell" and event.get("status") == "timeout":
            cell_timeouts.append(event)
    rows = []
    for question in exercise.questions:
        earned, verdicts = 0.0, []
        for test in question.tests:
            status, message = _judge_test(test, tests.get((question.name, test.name)),
                                          exercise.reference.get(question.name, {}).get(test.name, []), run)
            earned += test.points if status == "passed" else 0.0
            verdicts.append((test, status, message))
        rows.append(_question_row(submission, exercise, question, earned, verdicts, cell_timeouts))
    return rows


def _question_row(submission: str, exercise: Exercise, question: Question, earned: float,
                  verdicts: List[Tuple[Test, str, str]], cell_timeouts: List[dict]) -> Row:
    statuses = [status for _, status, _ in verdicts]
    if all(status == "passed" for status in statuses):
        notes = "; ".join(message for _, _, message in verdicts if message)
        return Row(submission, exercise.id, question.name, question.points, question.points, "passed", notes)
    status = next(s for s in ("timeout", "error", "failed") if s in statuses)
    test, _, message = next(v for v in verdicts if v[1] != "passed")
    kind = "hidden" if test.hidden else "public"
    failed = sum(s != "passed" for s in statuses)
    message = f"{failed} of {len(statuses)} tests not passed; {kind} test {test.name}: {message}"
    mine = [c for c in cell_timeouts if c.get("id") in question.cell_ids or c.get("id") not in _all_ids(exercise)]
    if mine:
        status = "timeout"
        message = f"{mine[0].get('message', 'a cell ran past its time limit')}; {message}"
    return Row(submission, exercise.id, question.name, round(earned, 6), question.points, status, message)


def _all_ids(exercise: Exercise) -> set:
    return {cell_id for q in exercise.questions for cell_id in q.cell_ids}


# ---------------------------------------------------------------------------------------------------------------
# Submissions
# ---------------------------------------------------------------------------------------------------------------

class UsageError(Exception):
    """A problem with the command line itself (reported in one line, exit status 2)."""


def find_submissions(paths: Sequence[str]) -> List[Path]:
    """Files as given, and every *.ipynb under each directory (checkpoints skipped), in a stable order."""
    found: List[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb")
                            if ".ipynb_checkpoints" not in p.parts and p.is_file())
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"no such file or directory: {given}")
    unique: Dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


@dataclass
class Submission:
    path: Path
    exercise: Optional[Exercise] = None
    cells: List[dict] = field(default_factory=list)
    problem: str = ""


def read_submission(path: Path, exercises: Dict[str, Exercise]) -> Submission:
    """Parse the notebook and work out which exercise it answers; `problem` says why when it cannot."""
    submission = Submission(path)
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            submission.problem = f"the file is {size:,} bytes, over the {MAX_NOTEBOOK_BYTES:,}-byte limit"
            return submission
        text = path.read_bytes().decode("utf-8")
        if not text.strip():
            submission.problem = "the file is empty"
            return submission
        notebook = json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        submission.problem = f"cannot read the file: {type(error).__name__}: {error}"
        return submission
    except ValueError as error:
        submission.problem = f"not valid JSON ({error}): not a notebook"
        return submission
    cells = notebook.get("cells") if type(notebook) is dict else None
    if type(cells) is not list:
        submission.problem = "not a Jupyter notebook (no list of cells)"
        return submission
    for cell in cells:
        if type(cell) is dict and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if type(source) is list and all(type(s) is str for s in source) else source
            if type(source) is str:
                cell_id = cell.get("id") if type(cell.get("id")) is str else None
                submission.cells.append({"id": cell_id, "source": source})
    exercise_id, how = _exercise_id(notebook, path, exercises)
    if exercise_id is None:
        submission.problem = how
    else:
        submission.exercise = exercises[exercise_id]
    return submission


def _exercise_id(notebook: dict, path: Path, exercises: Dict[str, Exercise]) -> Tuple[Optional[str], str]:
    metadata = notebook.get("metadata")
    book = metadata.get("book") if type(metadata) is dict else None
    claimed = book.get("exercise") if type(book) is dict else None
    if type(claimed) is str and claimed in exercises:
        return claimed, "metadata"
    if path.stem in exercises:
        return path.stem, "file name"
    matches = [e for e in exercises if e in path.name]
    if len(matches) == 1:
        return matches[0], "file name"
    said = f"its metadata names exercise {claimed!r}, which does not exist, and " if claimed is not None else ""
    return None, (f"cannot tell which exercise this answers: {said}the file name matches none of "
                  f"{', '.join(sorted(exercises))}")


# ---------------------------------------------------------------------------------------------------------------
# The whole batch
# ---------------------------------------------------------------------------------------------------------------

def grade_one(path: Path, exercises: Dict[str, Exercise], limits: Limits) -> List[Row]:
    name = str(path)
    try:
        submission = read_submission(path, exercises)
        if submission.exercise is None:
            return [Row(name, "", "*", 0.0, 0.0, "invalid", submission.problem)]
        run = run_sandbox(submission.cells, submission.exercise.jobs(), limits)
        return judge(name, submission.exercise, run)
    except Exception as error:   # the grader's own failure on one file must not cost the others their grades
        return [Row(name, "", "*", 0.0, 0.0, "error", f"grader error: {type(error).__name__}: {error}")]


def grade(paths: Sequence[str], limits: Limits, jobs: int = 1,
          exercises: Optional[Dict[str, Exercise]] = None) -> List[Row]:
    exercises = load_exercises() if exercises is None else exercises
    submissions = find_submissions(paths)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        batches = list(pool.map(lambda p: grade_one(p, exercises, limits), submissions))
    return [row for rows in batches for row in rows]


def check_output_writable(out: Path) -> None:
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file name such as grades.csv")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--out {out}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"--out {out} is not writable")


def write_csv(rows: List[Row], out: Path) -> None:
    """Written by the grader alone, after every submission's process is gone; atomically replaced."""
    handle, temporary = tempfile.mkstemp(prefix=".grades-", suffix=".csv", dir=str(out.parent or "."))
    with os.fdopen(handle, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(row.as_csv() for row in rows)
    os.chmod(temporary, 0o644)
    os.replace(temporary, out)


def summary(rows: List[Row]) -> str:
    """One line per submission: exercise, score, and how many questions ended in each status."""
    by_submission: Dict[str, List[Row]] = {}
    for row in rows:
        by_submission.setdefault(row.submission, []).append(row)
    table = [("submission", "exercise", "score", "statuses")]
    for name, group in by_submission.items():
        counts: Dict[str, int] = {}
        for row in group:
            counts[row.status] = counts.get(row.status, 0) + 1
        score = f"{_number(sum(r.points for r in group))}/{_number(sum(r.max_points for r in group))}"
        table.append((name, group[0].exercise or "-", score, ", ".join(f"{k} {v}" for k, v in counts.items())))
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table)
