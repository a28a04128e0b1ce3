"""`python -m grading.gradebook grades.csv [more.csv ...] --out gradebook.csv [--format plain|canvas|moodle]`.

Turns the grader's CSVs (one row per question of each submission, see grading/report.py) into a gradebook: one row
per student, one column per exercise. Several inputs (one per exercise, or a regrade) combine into one gradebook;
where the same student and exercise appear in two inputs, the later input on the command line wins.

Who a submission belongs to is read from its path (`student_of`, `class_folders`). Points per exercise are the sum
of that student's question points; a student with no submission of an exercise gets an empty cell, never 0 (the
`missing` column of the plain format names the exercise). A file the grader could not read (its one `*` row, status
`invalid` or `error`) counts as a submission with 0 points, and the `notes` column says why. Two files of one
student and exercise in one input count once: a graded one before an unreadable one, then the one with more points,
and a note names the other. Notes are also printed, for the formats that have no notes column.

Formats. What Canvas expects was checked against its importer's published source (app/models/gradebook_importer.rb,
an older version) and universities' instructor guides; Moodle's, against its CSV grade import (grade/import/csv).
Check an import's preview before confirming it: both LMSs show what will change.

- `canvas`: Canvas's gradebook import reads the leading columns `Student`, `ID`, `SIS User ID`, `SIS Login ID`,
  `Section` (the header must start this way), then one column per assignment. It finds the student by `ID` (Canvas's
  own user id), else by `SIS User ID`, else by `SIS Login ID`, else by the name in `Student`; here `Student` and
  `SIS Login ID` hold the identity and the rest are empty. An assignment header `Name (assignment_id)`, or exactly an
  existing assignment's name, updates that assignment; any other header creates a new one, so each exercise's
  column is named by its id (`01_convolution_math`) and there is no total column (Canvas computes totals; a total
  column would be imported as one more assignment). The second row, as in Canvas's own export, is
  `Points Possible` (indented by four spaces, as the export writes it) with each exercise's maximum.
- `moodle`: Moodle's "Import grades from CSV" maps one identifier column to its users (by username, email address,
  ID number or user id, chosen at import) and each other column to a grade item, also chosen at import. Here:
  `Username`, then one column per exercise named by its id, plain numbers, no total.
- `plain`: `student`, one column per exercise, `total` (what exists), `max_total` (the maximum of every exercise
  column, so missing work shows), `missing`, `notes`.

Every field is made inert for spreadsheets with grading.report's `safe_text`, and the file is replaced atomically
(as grading.report's `write_csv` does). An input is never overwritten. Exit status 0 when the gradebook was
written; 2 with a one-line message for a usage error or an unreadable input; 1 if the gradebook cannot be written.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Dict, List, NoReturn, Optional, Sequence, Set, Tuple

from grading.material import AUTOGRADER, UsageError, load_exercises
from grading.report import COLUMNS, Row, display_path, number, safe_text, write_table
from grading.students import COPY_SUFFIX, SEPARATORS, exercise_in_name, lms_student, path_parts, file_stem, student_of, unprotect

PROG = "python -m grading.gradebook"
FORMATS = ("plain", "canvas", "moodle")
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"   # Canvas's export indents it; its importer looks for the words
MOODLE_IDENTIFIER = "Username"
PLAIN_TAIL = ["total", "max_total", "missing", "notes"]

# ---------------------------------------------------------------------------------------------------------------
# Reading the grader's CSVs
# ---------------------------------------------------------------------------------------------------------------

def _float_field(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UsageError(f"{where} is {safe_text(text)[:40]!r}, not a number; give the CSV python -m grading wrote, "
                         "unedited")
    return value


def read_grades(path: Path) -> List[Row]:
    """The rows of one grades CSV, formula protection undone; UsageError (one line, what and how to fix) if the file
    is missing or is not a grades CSV."""
    shown = display_path(path)
    if not path.exists():
        raise UsageError(f"no such file: {shown}; give the CSV that python -m grading --out wrote")
    if path.is_dir():
        raise UsageError(f"{shown} is a directory; give the grades CSV file(s) that python -m grading wrote")
    try:
        # utf-8-sig: a CSV saved again by a spreadsheet often starts with a byte-order mark.
        with open(path, newline="", encoding="utf-8-sig") as file:
            records = list(csv.reader(file))
    except UnicodeDecodeError:
        raise UsageError(f"{shown} is not UTF-8 text; give the CSV that python -m grading wrote") from None
    except (OSError, csv.Error) as error:
        raise UsageError(f"cannot read {shown} ({error}); give the CSV that python -m grading wrote") from None
    if not records or records[0] != COLUMNS:
        found = ",".join(records[0])[:80] if records else "empty"
        raise UsageError(f"{shown} is not a grades CSV: its header is {safe_text(found)!r}, expected "
                         f"{','.join(COLUMNS)}; give the CSV that python -m grading --out wrote")
    rows = []
    for line, record in enumerate(records[1:], start=2):
        if len(record) != len(COLUMNS):
            raise UsageError(f"{shown} line {line} has {len(record)} fields, not {len(COLUMNS)}; give the CSV that "
                             "python -m grading wrote, unedited")
        submission, exercise, question, points, max_points, status, message = map(unprotect, record)
        rows.append(Row(submission, exercise, question, _float_field(points, f"{shown} line {line}: points"),
                        _float_field(max_points, f"{shown} line {line}: max_points"), status, message))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Combining
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One submission file's result: a student's points on one exercise ("" when neither its rows nor its file
    name say which exercise)."""
    student: str
    exercise: str
    submission: str
    points: float
    max_points: float
    graded: bool                 # False for a file the grader could not read (its one `*` row)
    notes: List[str] = field(default_factory=list)


def _notes(exercise: str, rows: List[Row]) -> List[str]:
    """What a person should know about a submission's rows: why it was not graded, or questions awaiting review."""
    label = exercise or "unknown exercise"
    notes = [f"{label}: {row.status}, 0 points ({' '.join(row.message.split())[:160]})"
             for row in rows if row.question == "*"]
    review = sum(row.status == "review" for row in rows)
    if review:
        notes.append(f"{label}: {review} question(s) need review by a person (0 points until then)")
    return notes


def class_folders(submissions: Collection[str], exercise_ids: Collection[str]) -> Set[str]:
    """The folders of student folders: those holding some `<student>/<exercise id>.ipynb` (copy suffixes allowed)."""
    found = set()
    for submission in submissions:
        parts = path_parts(submission)
        if len(parts) >= 2 and COPY_SUFFIX.sub("", file_stem(parts[-1])) in exercise_ids:
            found.add("/".join(parts[:-2]))
    return found


def entries_of(rows: List[Row], exercise_ids: Collection[str], classes: Collection[str]) -> List[Entry]:
    """One Entry per submission file, in the CSV's order. In a folder of student folders (`classes`, see
    `class_folders`), the folder decides whose a file is, whatever its name: `submissions/carol/notes.ipynb`
    beside `submissions/alice/01_convolution_math.ipynb` is carol's, not a student called `notes`."""
    by_submission: Dict[str, List[Row]] = {}
    for row in rows:
        by_submission.setdefault(row.submission, []).append(row)
    entries = []
    for submission, group in by_submission.items():
        parts = path_parts(submission)
        # A `*` row has no exercise: the file name may still say which exercise it was meant to answer.
        exercise = next((r.exercise for r in group if r.exercise), "") or exercise_in_name(
            parts[-1] if parts else "", exercise_ids)
        in_class = len(parts) >= 2 and "/".join(parts[:-2]) in classes
        student = (lms_student(parts[-2]).strip(SEPARATORS) if in_class
                   else student_of(submission, {exercise, *exercise_ids} - {""}))
        notes = _notes(exercise, group)
        if not student:
            student = submission
            notes.append(f"{submission}: its path names no student (see student_of in grading/gradebook.py)")
        entries.append(Entry(student, exercise, submission, sum(r.points for r in group),
                             sum(r.max_points for r in group), all(r.question != "*" for r in group), notes))
    return entries


@dataclass
class Gradebook:
    exercises: List[str]                        # the columns, sorted
    max_points: Dict[str, float]                # exercise -> its maximum
    results: Dict[str, Dict[str, Entry]]        # student -> exercise -> the entry that counts
    notes: Dict[str, List[str]]                 # student -> notes, in column order

    def students(self) -> List[str]:
        return sorted(self.results, key=lambda s: (s.casefold(), s))


def _choose(batches: List[List[Entry]]) -> Tuple[Dict[Tuple[str, str], Entry], Dict[str, Entry]]:
    """The entry that counts for each (student, exercise): the later input's. Within one input, of several files
    (`alice/01_x.ipynb` and `alice/01_x (1).ipynb`), a graded one before an unreadable one, then the most points:
    their order in the CSV is their names', which says nothing of which is newer; a note names the one ignored.
    Files of unknown exercise are kept apart, until a later input grades them."""
    chosen: Dict[Tuple[str, str], Entry] = {}
    unknown: Dict[str, Entry] = {}
    for batch in batches:
        this_batch: Dict[Tuple[str, str], Entry] = {}
        for entry in batch:
            unknown.pop(entry.submission, None)
            if not entry.exercise:
                unknown[entry.submission] = entry
                continue
            key = (entry.student, entry.exercise)
            other = this_batch.get(key)
            if other is not None:
                kept, ignored = (other, entry) if (other.graded, other.points) > (entry.graded, entry.points) \
                    else (entry, other)
                kept.notes.append(f"{entry.exercise}: several files; counted {kept.submission}, ignored "
                                  f"{ignored.submission}")
                entry = kept
            this_batch[key] = entry
        chosen.update(this_batch)
    return chosen, unknown


def combine(batches: List[List[Entry]], material_max: Dict[str, float]) -> Gradebook:
    """One gradebook from the inputs' entries, in command-line order (a later input wins)."""
    chosen, unknown = _choose(batches)
    exercises = sorted({exercise for _, exercise in chosen})
    results: Dict[str, Dict[str, Entry]] = {}
    for (student, exercise), entry in chosen.items():
        results.setdefault(student, {})[exercise] = entry
    for entry in unknown.values():
        results.setdefault(entry.student, {})
    # An exercise's maximum: from its graded files (an unreadable file's `*` row says 0); where every file of it was
    # unreadable, from the grader's material.
    max_points = {e: max([x.max_points for x in chosen.values() if x.exercise == e] + [0.0]) for e in exercises}
    max_points = {e: value or material_max.get(e, 0.0) for e, value in max_points.items()}
    notes = {student: [note for e in exercises if e in results[student] for note in results[student][e].notes]
             for student in results}
    for entry in unknown.values():
        notes[entry.student].extend(entry.notes)
    return Gradebook(exercises, max_points, results, notes)


# ---------------------------------------------------------------------------------------------------------------
# Formats and writing
# ---------------------------------------------------------------------------------------------------------------

def _cells(book: Gradebook, student: str) -> List[str]:
    """The student's points per exercise column; empty, never 0, where there is no submission."""
    mine = book.results[student]
    return [number(mine[e].points) if e in mine else "" for e in book.exercises]


def plain_table(book: Gradebook) -> List[List[str]]:
    table = [["student", *book.exercises, *PLAIN_TAIL]]
    max_total = number(sum(book.max_points.values()))
    for student in book.students():
        mine = book.results[student]
        missing = " ".join(e for e in book.exercises if e not in mine)
        table.append([student, *_cells(book, student), number(sum(x.points for x in mine.values())), max_total,
                      missing, "; ".join(book.notes[student])])
    return table


def canvas_table(book: Gradebook) -> List[List[str]]:
    blank = [""] * (len(CANVAS_STUDENT_COLUMNS) - 1)
    table = [[*CANVAS_STUDENT_COLUMNS, *book.exercises],
             [CANVAS_POINTS_POSSIBLE, *blank, *(number(book.max_points[e]) for e in book.exercises)]]
    for student in book.students():
        # Student, ID, SIS User ID, SIS Login ID, Section: Canvas matches the login id (or, failing that, the name).
        table.append([student, "", "", student, "", *_cells(book, student)])
    return table


def moodle_table(book: Gradebook) -> List[List[str]]:
    return [[MOODLE_IDENTIFIER, *book.exercises]] + [[s, *_cells(book, s)] for s in book.students()]


TABLES = {"plain": plain_table, "canvas": canvas_table, "moodle": moodle_table}


def write_safe_table(table: List[List[str]], out: Path) -> None:
    """The gradebook, every field made inert for spreadsheets, written atomically as grades.csv is."""
    write_table([[safe_text(cell) for cell in row] for row in table], out)


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------

class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=PROG, description="Build an LMS gradebook (one row per student, one column per "
                                                    "exercise) from the CSVs python -m grading wrote.",
                            epilog="Where the same student and exercise appear in two inputs, the later input on the "
                                   "command line wins (list a regrade after the batch it corrects).")
    parser.add_argument("inputs", nargs="+", metavar="GRADES_CSV", help="CSV(s) written by python -m grading")
    parser.add_argument("--out", required=True, help="gradebook CSV to write (never one of the inputs)")
    parser.add_argument("--format", choices=FORMATS, default="plain",
                        help="plain (default): student, exercises, total, max_total, missing, notes; canvas: "
                             "Canvas's gradebook import, Points Possible row, no total; moodle: Username then "
                             "exercises, for Moodle's Import grades from CSV")
    parser.add_argument("--material", default=str(AUTOGRADER),
                        help="the grader's material (default: grading/autograder), used only to recognise an "
                             "unreadable file's exercise by name and its maximum when no graded file shows it")
    return parser


def check_paths(inputs: Sequence[Path], out: Path) -> None:
    """UsageError unless `out` can be written without touching any input."""
    for given in inputs:
        if os.path.realpath(given) == os.path.realpath(out) or (
                given.exists() and out.exists() and os.path.samefile(given, out)):
            raise UsageError(f"--out {display_path(out)} is also an input; write the gradebook to another file, "
                             "such as gradebook.csv")
    if out.is_dir():
        raise UsageError(f"--out {display_path(out)} is a directory; give a file name such as gradebook.csv")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--out {display_path(out)}: the directory {display_path(parent)} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"--out {display_path(out)} is not writable; choose another file")


def _material_max(folder: str) -> Dict[str, float]:
    """Each exercise's maximum from the grader's material; none if it cannot be read (it is only a fallback)."""
    try:
        return {exercise_id: e.max_points for exercise_id, e in load_exercises(Path(folder)).items()}
    except UsageError:
        return {}


def _report(book: Gradebook, out: Path, fmt: str) -> str:
    lines = [f"wrote {display_path(out)} ({fmt}): {len(book.results)} student(s), {len(book.exercises)} exercise(s)"
             f"{': ' + ', '.join(book.exercises) if book.exercises else ''}"]
    noted = [(s, n) for s in book.students() for n in book.notes[s]]
    if noted:
        lines.append(f"{len(noted)} note(s) to look at:")
        lines += [f"  {safe_text(student)}: {safe_text(note)}" for student, note in noted]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):   # a file name that is not UTF-8 must not stop the report
        stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    inputs, out = [Path(p) for p in args.inputs], Path(args.out)
    try:
        check_paths(inputs, out)
        batches_rows = [read_grades(path) for path in inputs]
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    material_max = _material_max(args.material)
    exercise_ids = {row.exercise for rows in batches_rows for row in rows if row.exercise} | set(material_max)
    classes = class_folders({row.submission for rows in batches_rows for row in rows}, exercise_ids)
    book = combine([entries_of(rows, exercise_ids, classes) for rows in batches_rows], material_max)
    try:
        write_safe_table(TABLES[args.format](book), out)
    except OSError as error:
        print(f"{PROG}: error: cannot write {display_path(out)} ({error.strerror}); an older file of that name "
              "was renamed *.stale-*, so it cannot pass for this gradebook", file=sys.stderr)
        return 1
    print(_report(book, out, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
