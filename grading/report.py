"""Reporting: the CSV (written atomically, every field made safe) and the summary printed at the end.

Every text that reaches the CSV or the terminal came, directly or not, from a submission: a file name that is not
UTF-8, a message holding a lone surrogate, a control character or a spreadsheet formula must neither break the
writer nor do anything when the file is opened. OWASP's guidance on CSV injection is followed: every field quoted,
and a field that begins with `=`, `+`, `-`, `@`, tab or carriage return prefixed with a single quote.
"""
from __future__ import annotations

import csv
import os
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

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


def write_csv(rows: List[Row], out: Path) -> None:
    """Replace `out` atomically with the rows (temp file + rename); on failure, leave no temp file behind and
    move an older `out` aside (it would otherwise look current), then raise."""
    directory = out.parent if str(out.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=str(directory))
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, quoting=csv.QUOTE_ALL)
            writer.writerow(COLUMNS)
            writer.writerows(row.fields() for row in rows)
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


def summary(rows: List[Row]) -> str:
    """One line per submission: exercise, score, and how many questions ended in each status; then the rows a
    person has to look at."""
    by_submission: Dict[str, List[Row]] = {}
    for row in rows:
        by_submission.setdefault(row.submission, []).append(row)
    table = [("submission", "exercise", "score", "statuses")]
    for name, group in by_submission.items():
        counts: Dict[str, int] = {}
        for row in group:
            counts[row.status] = counts.get(row.status, 0) + 1
        score = f"{number(sum(r.points for r in group))}/{number(sum(r.max_points for r in group))}"
        table.append((safe_text(name), group[0].exercise or "-", score,
                      ", ".join(f"{k} {v}" for k, v in counts.items())))
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]
    review = [row for row in rows if row.status == "review"]
    if review:
        lines.append(f"{len(review)} question(s) need review by a person (status 'review', 0 points until then):")
        lines += [f"  {safe_text(r.submission)} {r.question}: {safe_text(r.message)[:200]}" for r in review]
    return "\n".join(lines)
