"""Reporting: the CSV (written atomically, every field made safe) and the summary printed at the end.

Every text that reaches the CSV or the terminal came, directly or not, from a submission: a file name that is not
UTF-8, a message holding a lone surrogate, a control character or a spreadsheet formula must neither break the
writer nor do anything when the file is opened. OWASP's guidance on CSV injection is followed: every field quoted,
and a field that begins with `=`, `+`, `-`, `@`, tab or carriage return prefixed with a single quote.
"""
from __future__ import annotations

import csv
import itertools
import os
import re
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, TextIO, Tuple

COLUMNS = ["submission", "exercise", "question", "points", "max_points", "status", "message"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HIDDEN = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


@dataclass
class Row:
    submission: str
    exercise: str
    question: str
    points: float
    max_points: float
    status: str
    message: str
    # Each test's outcome, for the class report and feedback (not a CSV column): (test, hidden, status, message).
    tests: Tuple[Tuple[str, bool, str, str], ...] = field(default=(), compare=False, repr=False)

    def fields(self) -> List[str]:
        return [safe_text(self.submission), safe_text(self.exercise), safe_text(self.question),
                number(self.points), number(self.max_points), safe_text(self.status),
                safe_text(" ".join(self.message.split())[:500])]


def number(value: float) -> str:
    return f"{round(value, 4):g}"


def display_path(path: os.PathLike) -> str:
    """A file name as text: bytes that are not UTF-8 are shown as \\xNN escapes, never passed on raw, and a backslash
    of the name itself is doubled, so that no two files are shown alike (`caf\\xe9` the name vs. the byte)."""
    return os.fsencode(path).replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def safe_text(text: str) -> str:
    """Encodable, one line, and inert in a spreadsheet."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")   # lone surrogates -> \udXXX
    # A leading quote is quoted too, so that `'=x` the name and `=x` made inert never read alike.
    formula = text.startswith(_FORMULA_START + ("'",)) or text.lstrip(" ").startswith(_FORMULA_START)
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    # Invisible and direction-changing characters (zero-width space, right-to-left override, ...) would let one
    # name look like another's in a spreadsheet: show them as escapes.
    text = "".join(f"\\u{ord(c):04x}" if c > "\x7f" and unicodedata.category(c) in _HIDDEN else c for c in text)
    return "'" + text if formula else text


def earlier_rows(out: Path, rows: Sequence[Row]) -> List[List[str]]:
    """The rows of an existing grades CSV at `out` whose submissions `rows` do not grade again, as written (their
    fields are already safe): regrading one student keeps the class's other rows. Nothing from a file that is not
    a grades CSV."""
    try:
        with open(out, newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            if next(reader, None) != COLUMNS:
                return []
            earlier = [fields for fields in reader if len(fields) == len(COLUMNS)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    regraded = {safe_text(row.submission) for row in rows}
    return [fields for fields in earlier if fields[0] not in regraded]


def write_csv(rows: List[Row], out: Path, kept: Sequence[List[str]] = ()) -> None:
    """Replace `out` atomically with the `kept` rows (fields as given) and then `rows`."""
    write_table(itertools.chain([COLUMNS], kept, (row.fields() for row in rows)), out)   # lazily: inside the write


def write_table(table: Iterable[List[str]], out: Path) -> None:
    """Replace `out` atomically with `table`, every field quoted (temp file + fsync + rename); the fields must
    already be safe (`safe_text`). On failure, leave no temp file behind and move an older `out` aside (it would
    otherwise look current), then raise."""
    directory = out.parent if str(out.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=str(directory))
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as file:
            csv.writer(file, quoting=csv.QUOTE_ALL).writerows(table)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if out.exists():
            out.rename(out.with_name(f"{out.stem}.stale-{time.strftime('%Y%m%d-%H%M%S')}{out.suffix}"))
        raise


TABLE_AT_MOST = 20   # submissions listed one per line in the summary; a class gets counts instead


def summary(rows: List[Row], seconds: Dict[str, float]) -> str:
    """What a batch came to, on one screen: for a few submissions a line each, for a class the counts by status,
    the scores' spread and the slowest notebooks; then the rows a person has to look at."""
    by_submission: Dict[str, List[Row]] = {}
    for row in rows:
        by_submission.setdefault(row.submission, []).append(row)
    lines = _table(by_submission) if len(by_submission) <= TABLE_AT_MOST else _counts(rows, by_submission)
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:3]
    if slowest:
        lines.append("slowest: " + ", ".join(f"{safe_text(name)} {time:.1f} s" for name, time in slowest))
    review = [row for row in rows if row.status == "review"]
    if review:
        lines.append(f"{len(review)} question(s) need review by a person (status 'review', 0 points until then):")
        lines += [f"  {safe_text(r.submission)} {r.question}: {safe_text(r.message)[:160]}"
                  for r in review[:TABLE_AT_MOST]]
        if len(review) > TABLE_AT_MOST:
            lines.append(f"  ... and {len(review) - TABLE_AT_MOST} more (python -m grading.review lists them all)")
    return "\n".join(lines)


def _statuses(rows: Sequence[Row]) -> str:
    counts: Dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return ", ".join(f"{status} {count:,}" for status, count in counts.items())


def _score(group: Sequence[Row]) -> str:
    return f"{number(sum(r.points for r in group))}/{number(sum(r.max_points for r in group))}"


def _table(by_submission: Dict[str, List[Row]]) -> List[str]:
    table = [("submission", "exercise", "score", "statuses")]
    table += [(safe_text(name), group[0].exercise or "-", _score(group), _statuses(group))
              for name, group in by_submission.items()]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]


def _counts(rows: List[Row], by_submission: Dict[str, List[Row]]) -> List[str]:
    full = sum(all(r.points >= r.max_points for r in group) for group in by_submission.values())
    lines = [f"{len(by_submission):,} submissions, {len(rows):,} rows: {_statuses(rows)}",
             f"full marks: {full:,} of {len(by_submission):,} submissions"]
    exercises = sorted({r.exercise for r in rows if r.exercise})
    for exercise in exercises:
        totals = sorted(sum(r.points for r in group) for group in by_submission.values()
                        if group[0].exercise == exercise)
        top = max(sum(r.max_points for r in group) for group in by_submission.values() if group[0].exercise == exercise)
        lines.append(f"  {exercise}: {len(totals):,} submissions, median {number(totals[len(totals) // 2])}/"
                     f"{number(top)}")
    return lines


class ProgressDisplay:
    """A batch's progress: a bar on a terminal (tqdm), else one line per finished notebook, so a long batch in a
    log or CI shows it is alive. Called from the grading threads."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.stream, self.total, self.done, self.lock = stream, total, 0, threading.Lock()
        self.seconds: Dict[str, float] = {}
        self.bar = None
        if stream.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="notebook", file=stream, dynamic_ncols=True)

    def __call__(self, name: str, rows: List[Row], seconds: float) -> None:
        with self.lock:
            self.done += 1
            self.seconds[name] = seconds
            if self.bar is not None:
                self.bar.update(1)
            else:
                print(f"[{self.done}/{self.total}] {safe_text(name)}: {_score(rows)} ({_statuses(rows)}) "
                      f"in {seconds:.1f} s", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
