"""`python -m grading.release DIR` (`make student`): the course as students get it, with no answers in it.

The repository holds the worked solutions, the exercise sources (solutions inside), the hidden tests with their
reference values and the test suite's catalogues of answers: all of it is the instructor's. The student copy is
what a student needs to read, run and check: the chapters, the exercise notebooks, the `book` package, the part of
`grading` a notebook's check cells import, and what `make lab` needs to set itself up. Everything is listed here
by name (an allow-list), so a file added to the repository later stays out until someone decides it belongs.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional

from grading.material import ROOT

# Folders copied whole (what git tracks in them), and single files.
FOLDERS = ("book", "chapters", "exercises", "_static", "_ext", "binder")
FILES = ("requirements.txt", "constraints.txt", "pyproject.toml", "Makefile", "tools/check_python.py",
         "tools/install_cell.py", "tools/vendor_npm.sh", "_config.yml", "_toc.yml", "intro.md", "setup.md",
         "instructors.md", "notation.md", "glossary.md", "references.md", "references.bib", "exercises.md",
         ".gitignore")
# What a student's check cell imports: `check` and `no_library` (checks), the comparisons it makes locally
# (compare), and the same closure and allow-list the grader applies (forbidden, policy).
GRADING = ("__init__.py", "checks.py", "compare.py", "forbidden.py", "policy.py")
README = """# Convolutional Neural Networks, from the Mathematics Up: the student copy

`make lab` sets everything up the first time (a `.venv`, the pinned packages, MNIST) and opens JupyterLab on the
chapters. Chapters are in `chapters/`, exercises in `exercises/`: write your answers, run each question's
`grader.check(...)` cell, and hand in the `.ipynb` file. Your instructor grades it with hidden tests as well.
"""


def tracked(folder: str) -> Iterator[str]:
    """The files git tracks under `folder` (never build output or a local `.venv`)."""
    listing = subprocess.run(["git", "ls-files", "-z", "--", folder], cwd=ROOT, capture_output=True, check=True)
    yield from (name for name in listing.stdout.decode().split("\0") if name)


def release_files() -> List[str]:
    files = [name for folder in FOLDERS for name in tracked(folder)]
    files += [name for name in FILES if (ROOT / name).is_file()]
    files += [f"grading/{name}" for name in GRADING]
    return sorted(set(files))


def release(destination: Path) -> List[str]:
    """Write the student copy into `destination`, which must not exist yet or be empty; returns what it wrote."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise FileExistsError(f"{destination} exists and is not an empty folder: give a new one, so nothing of "
                              "yours is overwritten")
    files = release_files()
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (destination / "README.md").write_text(README)
    return files + ["README.md"]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.release", description=__doc__.split("\n")[0])
    parser.add_argument("destination", help="a new folder for the student copy")
    args = parser.parse_args(argv)
    try:
        written = release(Path(args.destination))
    except (FileExistsError, subprocess.CalledProcessError) as error:
        print(f"python -m grading.release: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote the student copy ({len(written)} files) to {args.destination}: no solutions, no hidden tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
