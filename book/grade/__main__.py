"""`python -m book.grade PATH... [--out grades.csv] [--timeout SECONDS] [--jobs N]`: grade submitted notebooks.

PATH is a notebook or a directory searched recursively for *.ipynb. Writes one CSV row per question of each
submission (one `*` row for a file that cannot be read or recognised) and prints a summary. Exit status 0 whenever
grading ran, whatever the scores; 2 with a one-line message for a usage error.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

from book.grade.grader import (AUTOGRADER, Limits, UsageError, check_output_writable, find_submissions, grade,
                               load_exercises, summary, write_csv)


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m book.grade", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="submitted notebook(s) or folder(s) of them")
    parser.add_argument("--out", default="grades.csv", help="CSV file to write (default: grades.csv)")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall-clock seconds per notebook (default 60)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel (default 1)")
    parser.add_argument("--memory", type=int, default=2048, help="MiB a notebook may allocate (default 2048)")
    parser.add_argument("--material", default=str(AUTOGRADER),
                        help="folder of the grader's tests and reference values (default: grading/autograder)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.timeout <= 0 or args.jobs <= 0 or args.memory <= 0:
            raise UsageError("--timeout, --jobs and --memory must be positive")
        out = Path(args.out)
        check_output_writable(out)
        find_submissions(args.paths)   # fail fast on a missing path, before any grading
        exercises = load_exercises(Path(args.material))   # read once, before any submission runs
        if not exercises:
            raise UsageError(f"--material {args.material} holds no exercises (*.json); run python -m book.grade.build")
    except UsageError as error:
        print(f"python -m book.grade: error: {error}", file=sys.stderr)
        return 2
    start = time.monotonic()
    limits = Limits(timeout=args.timeout, memory_mb=args.memory)   # one torch thread each: see Limits
    rows = grade(args.paths, limits, jobs=args.jobs, exercises=exercises)
    write_csv(rows, out)
    print(summary(rows))
    submissions = len({row.submission for row in rows})
    print(f"graded {submissions} submission(s) in {time.monotonic() - start:.1f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
