"""`python -m grading PATH... --out grades.csv [--timeout S] [--jobs N] [--memory MIB] [--feedback DIR]
[--report FILE]`: grade submitted notebooks.

PATH is a notebook or a folder searched recursively (symbolic links inside are reported, never followed; a file
that is not a notebook gets an `invalid` row). Each submission runs in a bubblewrap sandbox; where none can be
made, the command stops and says why, and grades without one only with --unsafe-no-sandbox. Writes one CSV row
per question of each submission (one `*` row for a file that cannot be read or recognised), merged into an existing
grades CSV at --out (the rows of submissions not graded again are kept, unless --replace), and prints a summary.
Exit status 0 whenever grading ran, whatever the scores; 2 with a one-line message for a usage error or a missing
sandbox; 1 if the CSV cannot be written or a cluster's scheduler was lost mid-batch (the journal is kept: --resume).

With --scheduler tcp://HOST:8786 (a running Dask cluster) or --cluster local:N (N worker processes started for the
run) the sandboxed runs happen on the cluster's workers and everything else here (see grading.cluster). Each
finished submission is journalled in OUT.journal.jsonl (removed once the CSV is written); after Ctrl-C (exit 130)
or a crash, the same command with --resume grades only what the journal lacks.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from grading.cluster import ClusterLost, ClusterUnavailable   # dask itself is imported only by a cluster run
from grading.grade import Journal, batch_settings, check_output_writable, grade, journal_path
from grading.material import AUTOGRADER, Exercise, UsageError, find_submissions, load_exercises
from grading.report import ProgressDisplay, Row, display_path, earlier_rows, safe_text, summary, write_csv
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
    parser.add_argument("--out", required=True, help="CSV file to write, e.g. grades.csv beside the submissions")
    parser.add_argument("--replace", action="store_true",
                        help="drop the rows an existing --out holds for submissions not graded in this run")
    parser.add_argument("--feedback", metavar="DIR", help="write one HTML page (and Markdown) per submission here")
    parser.add_argument("--report", metavar="FILE", help="write the class report (one self-contained HTML page)")
    parser.add_argument("--roster", metavar="FILE",
                        help="the class: one student identifier a line (as folder or file names give them); "
                             "the summary lists who has no submission")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall-clock seconds per notebook (default 60)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel (default 1)")
    parser.add_argument("--memory", type=int, default=2048, help="MiB a notebook may allocate (default 2048)")
    parser.add_argument("--material", default=str(AUTOGRADER),
                        help="folder of the grader's tests and reference values (default: grading/autograder)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade without the bubblewrap sandbox (only for submissions you trust)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the Dask cluster of this scheduler, e.g. tcp://HOST:8786 (instead of --jobs)")
    where.add_argument("--cluster", metavar="local:N",
                       help="grade on N worker processes of this machine, started for the run (instead of --jobs)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the rows an interrupted run journalled (OUT.journal.jsonl) for unchanged files")
    return parser


def _usage(args: argparse.Namespace) -> Dict[str, Exercise]:
    """Every check that can fail before grading starts; the exercises' material, read once."""
    if not math.isfinite(args.timeout) or args.timeout <= 0 or args.jobs <= 0 or args.memory <= 0:
        raise UsageError("--timeout, --jobs and --memory must be positive finite numbers")
    check_output_writable(Path(args.out))
    for option in ("feedback", "report"):
        value = getattr(args, option)
        if value is not None and Path(value).resolve() == Path(args.out).resolve():
            raise UsageError(f"--{option} {value} is the --out file; give it a name of its own")
    if args.report is not None:
        check_output_writable(Path(args.report))
    if args.feedback is not None and Path(args.feedback).exists() and not Path(args.feedback).is_dir():
        raise UsageError(f"--feedback {args.feedback} is a file; give a folder for the pages")
    if args.roster is not None and not Path(args.roster).is_file():
        raise UsageError(f"--roster {args.roster} is not a file; give a text file with one student a line")
    if args.unsafe_no_sandbox and (args.scheduler or args.cluster):
        raise UsageError("--unsafe-no-sandbox grades on this machine only; cluster workers always sandbox")
    if args.cluster is not None:
        from grading.cluster import local_workers
        local_workers(args.cluster)
    exercises = load_exercises(Path(args.material))   # read once, before any submission runs
    if not exercises:
        raise UsageError(f"--material {args.material} holds no exercises (*.json); run python -m grading.build")
    return exercises


def _roster_check(roster: Path, rows: List[Row], exercises: Dict[str, Exercise]) -> str:
    """Who on the roster handed nothing in, and whose submissions name no one on it (a typo, a late joiner)."""
    from grading.students import student_of
    listed = {line.strip() for line in roster.read_text(encoding="utf-8", errors="replace").splitlines()
              if line.strip() and not line.lstrip().startswith("#")}
    found = {student_of(row.submission, exercises) for row in rows if row.submission.endswith(".ipynb")} - {""}
    missing, unknown = sorted(listed - found), sorted(found - listed)
    lines = [f"roster: {len(listed) - len(missing):,} of {len(listed):,} students handed something in"]
    if missing:
        lines.append(f"  no submission ({len(missing):,}): " + ", ".join(safe_text(m) for m in missing))
    if unknown:
        lines.append(f"  not on the roster ({len(unknown):,}): " + ", ".join(safe_text(u) for u in unknown))
    return "\n".join(lines)


def _grade_batch(args: argparse.Namespace, limits: Limits, exercises: Dict[str, Exercise],
                 progress: ProgressDisplay, journal: Journal) -> List[Row]:
    """On a Dask cluster (--scheduler, --cluster), or on this machine's --jobs threads."""
    out = Path(args.out)
    if args.scheduler is not None or args.cluster is not None:
        from grading.cluster import grade_with
        return grade_with(args.scheduler, args.cluster, args.paths, limits, exercises, out, progress, journal)
    return grade(args.paths, limits, jobs=args.jobs, exercises=exercises, unsafe=args.unsafe_no_sandbox,
                 out=out, progress=progress, journal=journal)


def _kept(journal: Journal) -> str:
    return (f"{journal.recorded + journal.reused:,} graded submission(s) are kept in {display_path(journal.path)}: "
            "run the same command with --resume to grade only the rest")


def main(argv: Optional[List[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):   # a file name that is not UTF-8 must not stop the report
        stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    out, limits = Path(args.out), Limits(timeout=args.timeout, memory_mb=args.memory)
    try:
        exercises = _usage(args)
        submissions = find_submissions(args.paths)   # fail fast on a missing path, before any grading
        journal = Journal(journal_path(out), batch_settings(exercises, limits), resume=args.resume)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    if args.unsafe_no_sandbox:
        print(UNSAFE_WARNING, file=sys.stderr)
    start = time.monotonic()
    progress = ProgressDisplay(len(submissions), sys.stderr)
    try:
        rows = _grade_batch(args, limits, exercises, progress, journal)
    except SandboxUnavailable as error:
        print(f"{PROG}: error: cannot sandbox submissions: {error}. Grade on Linux with bubblewrap (as root, or "
              "with unprivileged user namespaces enabled), or pass --unsafe-no-sandbox to grade without isolation, "
              "only for submissions you trust", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.close()
        print(f"{PROG}: interrupted; {_kept(journal)}", file=sys.stderr)
        return 130   # 128 + SIGINT, as a shell reports it
    except ClusterLost as error:
        progress.close()
        print(f"{PROG}: error: {error}; {_kept(journal)} once the cluster is back", file=sys.stderr)
        return 1
    except ClusterUnavailable as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    finally:
        progress.close()
        journal.close()
    kept = [] if args.replace else earlier_rows(out, rows)
    try:
        write_csv(rows, out, kept)
    except OSError as error:
        print(f"{PROG}: error: cannot write {display_path(out)} ({error.strerror}); an older file of that name "
              "was renamed *.stale-*, so it cannot be mistaken for these grades", file=sys.stderr)
        return 1   # the journal stays: --resume rebuilds the rows without grading again
    journal.remove()
    written = [f"wrote {display_path(out)}" + (f" (kept {len(kept):,} rows of submissions not graded again; "
                                               "--replace drops them)" if kept else "")]
    if args.feedback is not None:
        from grading.feedback import write_feedback
        pages = write_feedback(rows, exercises, Path(args.feedback))
        written.append(f"{len(pages):,} feedback page(s) in {display_path(Path(args.feedback))}")
    if args.report is not None:
        from grading.classreport import write_report
        write_report(rows, exercises, Path(args.report))
        written.append(f"class report {display_path(Path(args.report))}")
    print(summary(rows, progress.seconds))
    if args.roster is not None:
        print(_roster_check(Path(args.roster), rows, exercises))
    resumed = f" (resumed: {journal.reused:,} from the journal)" if args.resume else ""
    print(f"graded {len(submissions):,} submission(s){resumed} in {time.monotonic() - start:.1f} s; "
          + "; ".join(written))
    if any(row.status == "review" for row in rows):
        print(f"review them: python -m grading.review {display_path(out)} {' '.join(args.paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
