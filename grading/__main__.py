"""`python -m grading PATH... [--out grades.csv] [--timeout S] [--jobs N] [--memory MIB]`: grade submitted notebooks.

PATH is a notebook or a folder searched recursively for *.ipynb (symbolic links inside are reported, never
followed). Each submission runs in a bubblewrap sandbox; where none can be made, the command stops and says why,
and grades without one only with --unsafe-no-sandbox. Writes one CSV row per question of each submission (one `*`
row for a file that cannot be read or recognised) and prints a summary. Exit status 0 whenever grading ran,
whatever the scores; 2 with a one-line message for a usage error or a missing sandbox; 1 if the CSV cannot be
written.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

from grading.grade import check_output_writable, grade
from grading.material import AUTOGRADER, UsageError, find_submissions, load_exercises
from grading.report import display_path, summary, write_csv
from grading.sandbox import Limits, SandboxUnavailable

PROG = "python -m grading"
UNSAFE_WARNING = (f"{PROG}: warning: --unsafe-no-sandbox: submissions run as your user with no isolation; a "
                  "submission can read the solutions and reference values, other submissions and your files, "
                  "change them, use the network and outlive its timeout. Use it only for notebooks you trust.")


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="submitted notebook(s) or folder(s) of them")
    parser.add_argument("--out", default="grades.csv", help="CSV file to write (default: grades.csv)")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall-clock seconds per notebook (default 60)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel (default 1)")
    parser.add_argument("--memory", type=int, default=2048, help="MiB a notebook may allocate (default 2048)")
    parser.add_argument("--material", default=str(AUTOGRADER),
                        help="folder of the grader's tests and reference values (default: grading/autograder)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade without the bubblewrap sandbox (only for submissions you trust)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):   # a file name that is not UTF-8 must not stop the report
        stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    try:
        if args.timeout <= 0 or args.jobs <= 0 or args.memory <= 0:
            raise UsageError("--timeout, --jobs and --memory must be positive")
        out = Path(args.out)
        check_output_writable(out)
        find_submissions(args.paths)   # fail fast on a missing path, before any grading
        exercises = load_exercises(Path(args.material))   # read once, before any submission runs
        if not exercises:
            raise UsageError(f"--material {args.material} holds no exercises (*.json); run python -m grading.build")
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    if args.unsafe_no_sandbox:
        print(UNSAFE_WARNING, file=sys.stderr)
    start = time.monotonic()
    limits = Limits(timeout=args.timeout, memory_mb=args.memory)
    try:
        rows = grade(args.paths, limits, jobs=args.jobs, exercises=exercises, unsafe=args.unsafe_no_sandbox,
                     out=out)
    except SandboxUnavailable as error:
        print(f"{PROG}: error: cannot sandbox submissions: {error}. Grade on Linux with bubblewrap (as root, or "
              "with unprivileged user namespaces enabled), or pass --unsafe-no-sandbox to grade without isolation, "
              "only for submissions you trust", file=sys.stderr)
        return 2
    try:
        write_csv(rows, out)
    except OSError as error:
        print(f"{PROG}: error: cannot write {display_path(out)} ({error.strerror}); an older file of that name "
              "was renamed *.stale-*, so it cannot be mistaken for these grades", file=sys.stderr)
        return 1
    print(summary(rows))
    submissions = len({row.submission for row in rows})
    print(f"graded {submissions} submission(s) in {time.monotonic() - start:.1f} s; wrote {display_path(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
