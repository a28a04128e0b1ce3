"""`python -m grading.review GRADES.csv PATH... [--decisions FILE] [--out FINAL.csv] [--list | --decide SUBMISSION
QUESTION accept|reject --note TEXT | --interactive]`: a person's review of the grader's `review` rows.

A `review` row has 0 points until a person has looked at the code the scan could not read. `--list` (the default)
shows each such row with the flagged lines of the student's notebook in context; `--decide` records a decision
(accept: the points the tests alone would give; reject: 0) with a note, who and when, in a JSON file beside the CSV
(`GRADES.decisions.json`); `--interactive` walks the undecided rows. A decision is only ever appended: a later one
on the same row supersedes an earlier one, and both stay in the file for audit. After a decision (or with --out)
the final CSV is written: the grader's rows byte for byte, except the decided review rows. A decision recorded on
other evidence (the row is gone or no longer `review`, its message changed, the notebook's code changed) is stale:
reported, never applied. Exit status 0; 2 with a one-line message for a usage error; 1 if a file cannot be written.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import getpass
import hashlib
import json
import os
import re
import shlex
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NoReturn, Optional, Sequence, Tuple

from grading.material import Submission, UsageError, find_submissions, read_submission
from grading.report import COLUMNS, Row, display_path, number, safe_text, write_csv

PROG = "python -m grading.review"
DECISIONS = ("accept", "reject")
CONTEXT_LINES = 2
# `Finding.describe` writes a source position as `WHAT (code cell N, line L)`; cell 0 (evidence from the run) and
# line 0 (a cell the scan could not read at all) are written without one or with line 0.
_POSITION = re.compile(r"\(code cell (\d+), line (\d+)\)")
_TESTS_ALONE = re.compile(r"; tests alone would give (\d+(?:\.\d+)?(?:e[-+]?\d+)?)/(\d+(?:\.\d+)?(?:e[-+]?\d+)?)$")
_REASON = re.compile(r"^needs a person: (.*?)(?:; tests alone would give [^;]*)?$")
_PYTHON_NEWLINE = re.compile(r"\r\n|\r|\n")   # where Python's tokenizer, and so ast's line numbers, break lines
_HIDDEN = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}

Key = Tuple[str, str]   # (submission as the CSV shows it, question)


# ---------------------------------------------------------------------------------------------------------------
# The grader's CSV, read back exactly as written
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class WrittenRow(Row):
    """A row of the grader's CSV with the exact fields it wrote: `write_csv` writes them back unchanged (the
    grader's `safe_text` is not idempotent, a quoted `'=x` would gain a second quote)."""
    written: Tuple[str, ...] = field(default=(), compare=False, repr=False)

    def fields(self) -> List[str]:
        return list(self.written)

    @property
    def key(self) -> Key:
        return (self.submission, self.question)


def read_grades(path: Path) -> List[WrittenRow]:
    """The grader's rows, each checked: seven fields, numbers where the grader writes numbers."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            lines = list(csv.reader(file))
    except FileNotFoundError:
        raise UsageError(f"no such grades CSV: {display_path(path)}; give the file python -m grading wrote "
                         "(its --out, grades.csv by default)") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"cannot read {display_path(path)} as a CSV ({error}); give the file python -m grading "
                         "wrote") from None
    if not lines or lines[0] != COLUMNS:
        raise UsageError(f"{display_path(path)} does not start with the grader's header {','.join(COLUMNS)}; give "
                         "the CSV python -m grading wrote, not an edited or final one")
    rows = []
    for number_, fields in enumerate(lines[1:], start=2):
        try:
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{len(fields)} fields, not {len(COLUMNS)}")
            submission, exercise, question, points, max_points, status, message = fields
            rows.append(WrittenRow(submission, exercise, question, float(points), float(max_points), status,
                                   message, written=tuple(fields)))
        except ValueError as error:
            raise UsageError(f"{display_path(path)} line {number_} is not a grader row ({error}); regrade, or "
                             "restore the CSV python -m grading wrote") from None
    return rows


# ---------------------------------------------------------------------------------------------------------------
# What a review row says: the reason, the positions it cites, what the tests alone would give
# ---------------------------------------------------------------------------------------------------------------

def tests_alone(message: str) -> Optional[Tuple[float, float]]:
    """(points, of) from the grader's `; tests alone would give X/Y`, which ends every review message it writes."""
    found = _TESTS_ALONE.search(message)
    return (float(found.group(1)), float(found.group(2))) if found else None


def cited_positions(message: str) -> List[Tuple[int, int]]:
    """The (code cell, line) positions the message cites, each once, in the order cited."""
    return list(dict.fromkeys((int(cell), int(line)) for cell, line in _POSITION.findall(message)))


def reason(message: str) -> str:
    found = _REASON.match(message)
    return found.group(1) if found else message


# ---------------------------------------------------------------------------------------------------------------
# The student's code, numbered as the scan numbered it
# ---------------------------------------------------------------------------------------------------------------

def shown(text: str) -> str:
    """A line of a submission made harmless on a terminal: control, invisible and direction-changing characters
    (an ANSI escape, a right-to-left override) are shown as escapes, so the reviewer sees what the code holds."""
    text = text.expandtabs(4).encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in _HIDDEN else c
                   for c in text)


def python_lines(text: str) -> List[str]:
    """The lines as Python numbers them; a final newline ends the last line rather than starting another."""
    lines = _PYTHON_NEWLINE.split(text)
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def source_line(source: str, scanned_line: int) -> Tuple[List[str], int, bool]:
    """The lines to show and the flagged line's number among them: the student's own source where the scan's line
    maps onto it (IPython only dropped leading blank lines, the usual case), else the code as the scan read it
    (False: the reviewer is told so)."""
    from grading.forbidden import as_scanned, without_code_magics   # imports IPython: only when code is shown
    raw = python_lines(source)
    scanned = as_scanned(source)
    if scanned is None:
        return raw, scanned_line, True
    read = python_lines(scanned)
    kept = python_lines("".join(without_code_magics(source)))
    dropped = next((i for i, line in enumerate(kept) if line.strip()), 0)   # IPython's leading_empty_lines
    candidate = scanned_line + dropped
    if 0 < scanned_line <= len(read) and 0 < candidate <= len(raw) and \
            kept[candidate - 1].strip() == read[scanned_line - 1].strip():
        return raw, candidate, True
    return read, scanned_line, False


def context(cells: Sequence[dict], cell: int, line: int) -> List[str]:
    """The flagged line with CONTEXT_LINES either side, numbered, marked `>`; a line 0 (the scan could not read
    the cell) shows the cell's first lines."""
    if not 0 < cell <= len(cells):
        return [f"    code cell {cell} is not in the notebook now ({len(cells)} code cells): it changed since grading"]
    if line == 0:
        lines, flagged, own = python_lines(cells[cell - 1]["source"]), 0, True
    else:
        lines, flagged, own = source_line(cells[cell - 1]["source"], line)
    if flagged > len(lines):
        return [f"    line {line} is not in code cell {cell} now ({len(lines)} lines): it changed since grading"]
    low, high = (max(1, flagged - CONTEXT_LINES), flagged + CONTEXT_LINES) if flagged else (1, 2 * CONTEXT_LINES + 1)
    width = len(str(min(high, len(lines))))
    shown_lines = [f"    {'>' if i == flagged else ' '} {i:>{width}} | {shown(lines[i - 1])}".rstrip()
                   for i in range(low, min(high, len(lines)) + 1)]
    heading = f"  code cell {cell}, line {flagged or 'unknown (the scan could not read the cell)'}:"
    if not own:
        heading += " (as the grader read it, after IPython rewrote the cell)"
    return [heading] + shown_lines


# ---------------------------------------------------------------------------------------------------------------
# The notebooks
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Notebook:
    path: Path
    cells: List[dict]
    problem: str

    @property
    def fingerprint(self) -> Optional[str]:
        """What a decision was made on: the code cells' sources (a change anywhere may change what a flagged call
        reaches, so any change makes a decision stale). None where the notebook could not be read."""
        if not self.cells:
            return None
        sources = json.dumps([cell["source"] for cell in self.cells])   # ASCII: lone surrogates are escaped
        return hashlib.sha256(sources.encode("ascii")).hexdigest()


def find_notebooks(paths: Sequence[str]) -> Dict[str, Submission]:
    """The submissions under PATH..., keyed as the grader's CSV names them (same search, same display)."""
    return {safe_text(display_path(s.path)): s for s in find_submissions(paths)}


def open_notebook(submission: Submission) -> Notebook:
    """The code cells as the grader numbered them (`read_submission`: code cells only, in notebook order). No
    exercise is needed to read the cells, so none is given: its `problem` then says so, and is ignored."""
    read = read_submission(Submission(submission.path, problem=submission.problem), {})
    return Notebook(submission.path, read.cells, "" if read.cells else read.problem)


# ---------------------------------------------------------------------------------------------------------------
# Decisions: appended, never rewritten
# ---------------------------------------------------------------------------------------------------------------

_RECORD_FIELDS = {"submission": str, "exercise": str, "question": str, "decision": str, "points": (int, float),
                  "note": str, "decided_at": str, "decided_by": str, "message_at_decision": str}


def load_decisions(path: Path) -> List[dict]:
    """Every record in the file, oldest first; a missing file is an empty list, a malformed one an error (it is
    never overwritten: it may be the only copy of the decisions)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the decisions file {display_path(path)} ({error}); fix it, or give another "
                         "with --decisions") from None
    problem = "" if isinstance(records, list) else "not a list of records"
    for index, record in enumerate(records if not problem else []):
        bad = [k for k, kind in _RECORD_FIELDS.items() if not isinstance(record, dict)
               or not isinstance(record.get(k), kind) or isinstance(record.get(k), bool)]
        if bad or record["decision"] not in DECISIONS:
            problem = f"record {index + 1} lacks a valid {', '.join(bad) or 'decision'}"
            break
    if problem:
        raise UsageError(f"the decisions file {display_path(path)} is {problem}; fix it, or give another with "
                         "--decisions")
    return records


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Two reviewers deciding at once must not lose one's record: read-append-replace under an exclusive lock on
    the folder (no lock file to leave behind); where there is no flock, without one."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _replace_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def append_decision(path: Path, record: dict) -> List[dict]:
    """Add one record after every earlier one (read again under the lock) and replace the file atomically."""
    with _locked(path.parent if str(path.parent) else Path(".")):
        records = load_decisions(path) + [record]
        _replace_atomically(path, json.dumps(records, indent=2) + "\n")
    return records


def reviewer() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:   # no $USER and no password entry (a bare container): still a decision, by someone unnamed
        return "unknown"


def check_decision(decision: str, note: str) -> None:
    if decision not in DECISIONS:
        raise UsageError(f"the decision must be accept or reject, not {decision!r}")
    if not note.strip():
        raise UsageError("a decision needs --note TEXT: what you checked, for whoever reads the grades later")


def new_record(row: WrittenRow, decision: str, note: str, notebook: Notebook) -> dict:
    """The decision on this row as it stands now: its message and the notebook's code are the evidence."""
    check_decision(decision, note)
    alone = tests_alone(row.message)
    if decision == "accept" and alone is None:
        raise UsageError(f"{row.submission} {row.question}: the message does not say what the tests alone would "
                         "give (cut short?), so accept has no points to give; regrade, or reject")
    return {"submission": row.submission, "exercise": row.exercise, "question": row.question,
            "decision": decision, "points": alone[0] if decision == "accept" else 0.0,
            "note": " ".join(note.split()), "decided_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "decided_by": reviewer(), "message_at_decision": row.message, "code_sha256": notebook.fingerprint}


# ---------------------------------------------------------------------------------------------------------------
# Applying decisions
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Desk:
    """Everything one command works on: the grader's rows, the notebooks, the decisions so far."""
    grades: Path
    paths: List[str]
    rows: List[WrittenRow]
    submissions: Dict[str, Submission]
    decisions_path: Path
    records: List[dict]
    notebooks: Dict[str, Notebook] = field(default_factory=dict)

    def notebook(self, name: str) -> Optional[Notebook]:
        if name not in self.submissions:
            return None
        if name not in self.notebooks:
            self.notebooks[name] = open_notebook(self.submissions[name])
        return self.notebooks[name]

    def review_rows(self) -> List[WrittenRow]:
        return [row for row in self.rows if row.status == "review"]


def latest(records: Sequence[dict]) -> Dict[Key, dict]:
    """Each row's latest decision: it supersedes the earlier ones (which stay in the file)."""
    found: Dict[Key, dict] = {}
    for record in records:
        found[(record["submission"], record["question"])] = record
    return found


def why_stale(desk: Desk, record: dict) -> Optional[str]:
    """Why the decision no longer refers to the evidence it was made on; None when it still does."""
    row = next((r for r in desk.rows if r.key == (record["submission"], record["question"])), None)
    if row is None:
        return "the grades no longer have this row"
    if row.status != "review":
        return f"the row is now {row.status}, not review (regraded)"
    if row.exercise != record["exercise"] or row.message != record["message_at_decision"]:
        return "the grader's message changed since the decision (regraded on other code)"
    notebook = desk.notebook(row.submission)
    if record.get("code_sha256") is not None:
        if notebook is None or notebook.fingerprint is None:
            return "the notebook is not among PATH..., so its code cannot be checked against the decision"
        if notebook.fingerprint != record["code_sha256"]:
            return "the notebook's code changed since the decision"
    return None


def sorted_decisions(desk: Desk) -> Tuple[Dict[Key, dict], List[Tuple[dict, str]]]:
    """(the decisions that apply, by row; the latest decisions that are stale, with why)."""
    applied, stale = {}, []
    for key, record in latest(desk.records).items():
        problem = why_stale(desk, record)
        if problem is None:
            applied[key] = record
        else:
            stale.append((record, problem))
    return applied, stale


def decided_row(row: WrittenRow, record: dict) -> WrittenRow:
    """The review row with its decision applied; the grader's other fields as it wrote them."""
    points = float(record["points"]) if record["decision"] == "accept" else 0.0
    status = "passed" if record["decision"] == "accept" and points >= row.max_points else "failed"
    verb = "accepted" if record["decision"] == "accept" else "rejected"
    # The suffix never starts the field, so `safe_text` of it alone keeps the whole field inert and one line.
    suffix = safe_text(" ".join(f"reviewed: {verb} by {record['decided_by']}: {record['note']}".split()))
    fields = list(row.written)
    fields[3], fields[5], fields[6] = number(points), status, f"{row.message} | {suffix}"
    return dataclasses.replace(row, points=points, status=status, message=fields[6], written=tuple(fields))


def final_rows(desk: Desk) -> Tuple[List[WrittenRow], List[Tuple[dict, str]]]:
    applied, stale = sorted_decisions(desk)
    return [decided_row(row, applied[row.key]) if row.key in applied else row for row in desk.rows], stale


def report_stale(stale: Sequence[Tuple[dict, str]]) -> None:
    for record, problem in stale:
        print(f"{PROG}: stale decision not applied: {record['submission']} {record['question']} "
              f"({record['decision']} by {record['decided_by']} at {record['decided_at']}): {problem}; "
              "look again and decide anew", file=sys.stderr)


def write_final(desk: Desk, out: Path) -> None:
    rows, stale = final_rows(desk)
    report_stale(stale)
    write_csv(rows, out)
    decided = sum(a.written != b.written for a, b in zip(rows, desk.rows))
    print(f"wrote {display_path(out)}: {decided} decided review row(s) applied, "
          f"{sum(r.status == 'review' for r in rows)} still to review")


# ---------------------------------------------------------------------------------------------------------------
# Listing and deciding
# ---------------------------------------------------------------------------------------------------------------

def describe_row(desk: Desk, row: WrittenRow, applied: Dict[Key, dict], stale: Dict[Key, str]) -> List[str]:
    """One review row for a person: what was flagged, the code in context, what the tests alone give, any
    decision so far."""
    lines = [f"{row.submission}  question {row.question} (exercise {row.exercise or '-'})",
             f"  reason: {reason(row.message)}"]
    alone = tests_alone(row.message)
    lines.append(f"  tests alone would give {number(alone[0])}/{number(alone[1])}" if alone else
                 "  tests alone would give: not in the message (cut short?)")
    notebook = desk.notebook(row.submission)
    positions = [p for p in cited_positions(row.message) if p[0] > 0]
    if notebook is None:
        lines.append("  the notebook is not among PATH...: give the paths the grader was given")
    elif notebook.problem:
        lines.append(f"  the notebook cannot be read now: {notebook.problem}")
    elif not positions:
        lines.append("  no source position cited: the evidence comes from the run")
    for cell, line in positions if notebook is not None and not notebook.problem else []:
        lines += context(notebook.cells, cell, line)
    record = applied.get(row.key)
    if record is not None:
        lines.append(f"  decision: {record['decision']} ({number(record['points'])} points) by "
                     f"{record['decided_by']} at {record['decided_at']}: {record['note']}")
    elif row.key in stale:
        lines.append(f"  decision: a recorded one is stale ({stale[row.key]}); decide again")
    else:
        lines.append("  decision: none yet")
    return lines


def list_rows(desk: Desk) -> None:
    rows = desk.review_rows()
    applied, stale = sorted_decisions(desk)
    stale_by_key = {(r["submission"], r["question"]): why for r, why in stale}
    if not rows:
        print(f"no review rows in {display_path(desk.grades)}: nothing to decide")
        return
    for index, row in enumerate(rows, start=1):
        print(f"[{index}/{len(rows)}] " + "\n".join(describe_row(desk, row, applied, stale_by_key)))
        print()
    undecided = [r for r in rows if r.key not in applied]
    if undecided:
        example = shlex.join([str(desk.grades), *desk.paths, "--decide", undecided[0].submission,
                              undecided[0].question, "accept"])
        print(f"{len(undecided)} undecided; decide with: {PROG} {example} --note 'what you checked'")


def review_row(desk: Desk, submission: str, question: str) -> WrittenRow:
    """The row `--decide` names: it must exist and be `review`."""
    names = {row.submission for row in desk.rows}
    if submission not in names:
        normal = {os.path.normpath(n): n for n in names}
        submission = normal.get(os.path.normpath(submission), submission)
    mine = [row for row in desk.rows if row.submission == submission]
    if not mine:
        raise UsageError(f"{display_path(desk.grades)} has no submission {submission!r}; use the name --list shows")
    row = next((r for r in mine if r.question == question), None)
    if row is None:
        raise UsageError(f"{submission} has no question {question!r} in {display_path(desk.grades)} (its questions: "
                         f"{', '.join(r.question for r in mine)})")
    if row.status != "review":
        raise UsageError(f"{submission} {question} has status {row.status}, not review: only review rows take a "
                         "decision (regrade to change the others)")
    return row


def decide(desk: Desk, row: WrittenRow, decision: str, note: str) -> dict:
    """Record a decision on a review row, on the code the reviewer can see now (the one path --decide and
    --interactive share)."""
    check_decision(decision, note)
    notebook = desk.notebook(row.submission)
    if notebook is None or notebook.problem:
        why = "is not among PATH..." if notebook is None else f"cannot be read ({notebook.problem})"
        raise UsageError(f"the notebook of {row.submission} {why}; give the paths the grader was given, so the "
                         "decision is made on its code")
    record = new_record(row, decision, note, notebook)
    desk.records = append_decision(desk.decisions_path, record)
    return record


def interactive(desk: Desk, ask: Optional[Callable[[str], str]] = None) -> int:
    """Each undecided review row in turn: accept, reject, skip or quit; returns how many were decided."""
    ask = ask or input   # looked up now, not at import, so a test (or a wrapper) can stand in for the terminal
    applied, stale = sorted_decisions(desk)
    stale_by_key = {(r["submission"], r["question"]): why for r, why in stale}
    decided = 0
    for row in [r for r in desk.review_rows() if r.key not in applied]:
        print("\n".join(describe_row(desk, row, applied, stale_by_key)))
        try:
            choice = ""
            while choice not in ("a", "r", "s", "q"):
                choice = ask("[a]ccept / [r]eject / [s]kip / [q]uit? ").strip().lower()[:1]
            if choice == "q":
                break
            if choice == "s":
                continue
            note = ""
            while not note.strip():
                note = ask("note (what you checked): ")
        except EOFError:   # end of input: stop as if [q]uit, keeping what was decided
            break
        record = decide(desk, row, "accept" if choice == "a" else "reject", note)
        print(f"recorded: {record['decision']} ({number(record['points'])} points)\n")
        decided += 1
    return decided


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------

class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=PROG, description=__doc__.split("\n\n")[1].replace("\n", " "))
    parser.add_argument("grades", metavar="GRADES.csv", help="the CSV python -m grading wrote")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the notebook(s) or folder(s) the grader was given")
    parser.add_argument("--decisions", help="decisions file (default: GRADES.decisions.json beside the CSV)")
    parser.add_argument("--out", help="final CSV (default: GRADES.final.csv beside the CSV; with --list, written "
                                      "only when given)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="show every review row with its code (the default)")
    mode.add_argument("--decide", nargs=3, metavar=("SUBMISSION", "QUESTION", "DECISION"),
                      help="record accept or reject for one review row (needs --note)")
    mode.add_argument("--interactive", action="store_true", help="decide the undecided review rows one by one")
    parser.add_argument("--note", default="", help="what you checked (required with --decide)")
    return parser


def _paths(args: argparse.Namespace) -> Tuple[Path, Path, Path]:
    """(grades, decisions, final CSV), with the defaults beside the grades; the grader's CSV is never replaced."""
    grades = Path(args.grades)
    decisions = Path(args.decisions) if args.decisions else grades.with_name(f"{grades.stem}.decisions.json")
    out = Path(args.out) if args.out else grades.with_name(f"{grades.stem}.final.csv")
    for other, option in ((out, "--out"), (decisions, "--decisions")):
        if os.path.abspath(other) == os.path.abspath(grades) or \
                (other.exists() and grades.exists() and os.path.samefile(other, grades)):
            raise UsageError(f"{option} {display_path(other)} is the grader's CSV, which is never overwritten; "
                             "give another file")
    if os.path.abspath(out) == os.path.abspath(decisions):
        raise UsageError(f"--out and --decisions are both {display_path(out)}; give two different files")
    if out.is_dir() or not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise UsageError(f"--out {display_path(out)} is a folder or in no existing folder; give a file name")
    return grades, decisions, out


def main(argv: Optional[List[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):   # a file name that is not UTF-8 must not stop the report
        stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    try:
        if args.note and not args.decide:
            raise UsageError("--note goes with --decide; --interactive asks for each note")
        grades, decisions, out = _paths(args)
        desk = Desk(grades, list(args.paths), read_grades(grades), find_notebooks(args.paths), decisions,
                    load_decisions(decisions))
        if args.decide:
            row = review_row(desk, args.decide[0], args.decide[1])
            record = decide(desk, row, args.decide[2], args.note)
            print(f"recorded in {display_path(decisions)}: {row.submission} {row.question} {record['decision']} "
                  f"({number(record['points'])} points)")
        elif args.interactive:
            interactive(desk)
        else:
            list_rows(desk)
        if args.decide or args.interactive or args.out:
            write_final(desk, out)
        else:
            report_stale(sorted_decisions(desk)[1])
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        what = f"cannot write {error.filename}" if error.filename else "input/output failed"
        print(f"{PROG}: error: {what} ({error.strerror or error}); check the file, its folder's permissions and "
              "space", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
