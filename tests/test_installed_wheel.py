"""Every chapter runs outside the repository, from the book's wheel, as a reader who downloaded it would run it.

The test builds the wheel from this checkout (`pip wheel`, as the install cells and Colab build it from the
repository's URL), makes a throwaway environment that has every package of `.venv` but not `book`, and copies the
notebooks into a folder outside the checkout. There an exercise's hidden install cell installs the wheel
(BOOK_SOURCE names it; pip may not reach an index) and its otter set-up runs; the wheel is uninstalled again, and
the first chapter's install cell installs it; every chapter then executes in a fresh kernel of that environment,
importing `book` from site-packages: the files a chapter reads (chapter 7's benchmark records) must be in the
wheel, and MNIST is read from the user's cache folder, where `python -m book.data fetch` puts it for an installed
`book` (here the cache holds links to the checkout's verified files, so nothing is downloaded).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from test_notebooks import problems

pytestmark = pytest.mark.slow
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
EXERCISE = ROOT / "exercises" / "01_convolution_math.ipynb"


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of what a clone holds (the packages and their build recipe), built offline."""
    source = tmp_path / "repository"
    for package in ("book", "grading"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(tmp_path / "wheels"), str(source)], check=True)
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    return wheel


def environment_without_book(tmp_path: Path) -> Path:
    """A throwaway venv that sees every package of this one except `book` (and pip installs into itself)."""
    shadow = tmp_path / "site-packages-minus-book"
    shadow.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    for entry in purelib.iterdir():
        if not entry.name.startswith(("__editable__", "cnn_course_book", "book", "grading")):
            (shadow / entry.name).symlink_to(entry)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip()
    (Path(venv_purelib) / "_course_packages.pth").write_text(f"{shadow}\n", encoding="utf-8")
    return venv / "bin" / "python"


def test_the_wheel_holds_what_chapters_read_and_no_exercise_source(tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(build_wheel(tmp_path)).namelist())
    assert {"book/bench/records/lenet.json", "book/bench/records/lenet_ablation.json",
            "book/viz/static/player.js", "grading/checks.py"} <= names
    leaked = sorted(n for n in names if n.startswith(("grading/source/", "grading/autograder/")))
    assert not leaked, f"the wheel ships exercise sources or the grader's reference material: {leaked}"


def test_every_chapter_runs_from_the_installed_wheel_outside_the_checkout(tmp_path: Path, monkeypatch,
                                                                         mnist_dir: Path) -> None:
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    wheel = build_wheel(tmp_path)
    python = environment_without_book(tmp_path)
    cwd = tmp_path / "downloads"   # outside the checkout: nothing here can reach the repository's files
    cwd.mkdir()
    missing = subprocess.run([str(python), "-c", "import book"], capture_output=True, text=True, cwd=cwd)
    assert missing.returncode != 0, "the throwaway environment can already import book"

    # The user's cache folder, holding MNIST as `python -m book.data fetch` leaves it there.
    cache = tmp_path / "cache"
    raw = cache / "cnn-course-book" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (raw / name).symlink_to(mnist_dir / name)
    env = {key: value for key, value in os.environ.items() if key not in ("BOOK_DATA", "BOOK_SOURCE")}
    env.update(XDG_CACHE_HOME=str(cache), PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    kernels = tmp_path / "jupyter" / "kernels" / "no-book"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 without book", "language": "python",
        "env": {"BOOK_SOURCE": str(wheel), "XDG_CACHE_HOME": str(cache), "PIP_NO_INDEX": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    }), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("BOOK_DATA", raising=False)
    monkeypatch.delenv("BOOK_SOURCE", raising=False)

    # An exercise downloaded first: its install cell installs the wheel (otter is already there), and otter's
    # set-up, which imports `grading.checks`, runs from it. Its answers are left to the student: stop there.
    exercise = nbformat.read(EXERCISE, as_version=4)
    otter = next(i for i, cell in enumerate(exercise.cells) if cell.source.startswith("# Initialize Otter"))
    exercise.cells = exercise.cells[:otter + 1] + [nbformat.v4.new_code_cell(
        "import book, grading.checks\nprint(book.__file__, grading.checks.__file__, type(grader).__name__)")]
    nbformat.write(exercise, cwd / EXERCISE.name)
    nbclient.NotebookClient(exercise, kernel_name="no-book", timeout=600,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    printed = exercise.cells[-1].outputs[0].text.split()
    assert all(path.startswith(str(tmp_path / "venv")) for path in printed[:2]), f"not from the wheel: {printed}"
    assert printed[2] == "Notebook", printed
    subprocess.run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "cnn-course-book"], check=True,
                   cwd=cwd, env=env)

    failures = []
    for path in CHAPTERS:
        shutil.copy(path, cwd)
        notebook = nbformat.read(cwd / path.name, as_version=4)
        try:
            nbclient.NotebookClient(notebook, kernel_name="no-book", timeout=900,
                                    resources={"metadata": {"path": str(cwd)}}).execute()
        except nbclient.exceptions.CellExecutionError as error:
            failures.append(f"{path.name}: {str(error).strip().splitlines()[-1]}")
            continue
        failures += [f"{path.name}: {problem}" for problem in problems(notebook)]
    assert not failures, "chapters that fail from the installed wheel:\n" + "\n".join(failures)

    where = subprocess.run([str(python), "-c", "import book.data as d; print(d.__file__); print(d.data_root())"],
                           capture_output=True, text=True, check=True, cwd=cwd, env=env).stdout.split()
    assert where[0].startswith(str(tmp_path / "venv")), f"book was not installed from the wheel: {where[0]}"
    assert where[1] == str(cache / "cnn-course-book"), f"an installed book reads MNIST from {where[1]}"
    fetched = subprocess.run([str(python), "-m", "book.data", "fetch"], capture_output=True, text=True, cwd=cwd,
                             env=env)
    assert fetched.returncode == 0 and str(raw) in fetched.stdout, fetched.stderr
