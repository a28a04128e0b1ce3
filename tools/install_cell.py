"""Give every chapter and exercise notebook a cell that installs the book's package when it is missing.

A chapter or exercise downloaded from the site, or opened in Colab, runs outside the course repository, where
nothing has installed `book` (d2l's notebooks start with `pip install d2l` for the same reason). The cell is tagged
`remove-cell`, so the site does not show it, and `install-book`, so this tool finds it again: running the tool
twice changes nothing, and it rewrites the cell when the repository URL in _config.yml changes (`make book` runs it).

The cell installs from `$BOOK_SOURCE` when that is set (a local path or any pip-installable URL), else from the
repository URL in _config.yml; notebooks that read MNIST also fetch it (into the user's cache, see `book.data`).
A chapter's cell comes first. An exercise's comes right before otter's set-up cell, which imports `otter` and
`grading.checks`: it installs those too (the wheel holds the grading modules a check cell imports, never the
exercise sources; otter at the version requirements.txt pins) and only looks modules up, so the grader, which
runs every cell but otter's, pays nothing for it. grading/build.py gives each handout this cell when it writes it.
The tool edits nothing else.

Usage: python tools/install_cell.py [--check] [NOTEBOOK ...]   (default: chapters/*.ipynb and exercises/*.ipynb)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "install-book"
CELL_ID = "install-book"
# A chapter that names one of these reads MNIST from disk, so a fresh install must fetch it too.
MNIST_MARKERS = ("load_mnist", "datasets.MNIST")


def repository_source(config_path: Path = ROOT / "_config.yml") -> str:
    """The pip requirement for the course repository named in _config.yml ("" when no URL is set)."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    url = (repository.get("url") or "").strip().rstrip("/")
    if not url:
        return ""
    branch = (repository.get("branch") or "main").strip()
    return f"git+{url}.git@{branch}" if not url.endswith(".git") else f"git+{url}@{branch}"


def otter_requirement(requirements: Path = ROOT / "requirements.txt") -> str:
    """otter-grader as requirements.txt pins it, e.g. `otter-grader==7.0.0`."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if line.split("==")[0].strip() == "otter-grader":
            return line.split("#")[0].strip()
    raise ValueError(f"{requirements} pins no otter-grader: add `otter-grader==VERSION`, which exercises install")


def install_cell_source(source: str, fetch_mnist: bool, exercise: bool = False) -> str:
    """The cell's code: a no-op where the packages are found, else a pip install from $BOOK_SOURCE or `source`."""
    if exercise:
        lines = [
            "# Outside the course repository (an exercise downloaded from the site, Colab), install what its checks use.",
            "# BOOK_SOURCE may name another copy of the repository: a local path or a pip-installable URL.",
            "import importlib.util",
            "if not all(importlib.util.find_spec(name) for name in (\"book\", \"grading\", \"otter\")):",
        ]
        missing, extra = "the `book` and `grading` packages are", f", {json.dumps(otter_requirement())}"
    else:
        lines = [
            "# Outside the course repository (a chapter downloaded from the site, Colab), install the book's helpers.",
            "# BOOK_SOURCE may name another copy of the repository: a local path or a pip-installable URL.",
            "try:",
            "    import book",
            "except ImportError:",
        ]
        missing, extra = "the `book` package is", ""
    lines += [
        "    import importlib, os, subprocess, sys",
        (f"    source = os.environ.get(\"BOOK_SOURCE\") or {json.dumps(source)}" if source else
         "    source = os.environ.get(\"BOOK_SOURCE\")  # _config.yml names no repository yet"),
        "    if not source:",
        f"        raise ModuleNotFoundError(\"{missing} missing: set BOOK_SOURCE to the course \"",
        "                                  \"repository (a local path or git URL) and run this cell again\")",
        f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\", source{extra}], check=True)",
        "    importlib.invalidate_caches()",
    ]
    if not exercise:
        lines.append("    import book")
    if fetch_mnist:
        lines.append("    subprocess.run([sys.executable, \"-m\", \"book.data\", \"fetch\"], check=True)  # MNIST")
    return "\n".join(lines)


def install_cell(source: str, fetch_mnist: bool, exercise: bool = False) -> Dict[str, Any]:
    text = install_cell_source(source, fetch_mnist, exercise)
    return {"cell_type": "code", "execution_count": None, "id": CELL_ID,
            "metadata": {"tags": ["remove-cell", TAG]}, "outputs": [],
            "source": text.splitlines(keepends=True)}


def is_install_cell(cell: Dict[str, Any]) -> bool:
    return cell.get("cell_type") == "code" and TAG in cell.get("metadata", {}).get("tags", [])


def needs_mnist(notebook: Dict[str, Any]) -> bool:
    return any(marker in "".join(cell.get("source", "")) for cell in notebook["cells"]
               if cell.get("cell_type") == "code" and not is_install_cell(cell) for marker in MNIST_MARKERS)


def is_exercise(notebook: Dict[str, Any]) -> bool:
    return "exercise" in notebook.get("metadata", {}).get("book", {})   # set by grading/build.py


def with_install_cell(notebook: Dict[str, Any], source: str) -> Dict[str, Any]:
    """`notebook` with its install cell (inserted, or rewritten in place): a chapter's first, an exercise's right
    before its first code cell (otter's set-up, after the title); other cells untouched."""
    exercise = is_exercise(notebook)
    wanted = install_cell(source, needs_mnist(notebook), exercise)
    cells = [cell for cell in notebook["cells"] if not is_install_cell(cell)]
    at = next((i for i, cell in enumerate(cells) if cell.get("cell_type") == "code"), len(cells)) if exercise else 0
    return {**notebook, "cells": cells[:at] + [wanted] + cells[at:]}


def dumps(notebook: Dict[str, Any]) -> str:
    """The notebook as nbformat writes it (one-space indent, sorted keys, non-ASCII kept), so diffs stay small."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def chapters(root: Path = ROOT) -> List[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


def exercises(root: Path = ROOT) -> List[Path]:
    return sorted((root / "exercises").glob("*.ipynb"))


def update(paths: Sequence[Path], source: str, check: bool) -> List[Path]:
    """The notebooks whose install cell is missing or stale; rewritten unless `check`."""
    stale = []
    for path in paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        updated = with_install_cell(notebook, source)
        if updated != notebook:
            stale.append(path)
            if not check:
                path.write_text(dumps(updated), encoding="utf-8")
    return stale


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb and exercises/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell is missing or stale")
    args = parser.parse_args(argv)
    paths = args.notebooks or chapters() + exercises()
    stale = update(paths, repository_source(), args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if args.check and stale:
        print("run `python tools/install_cell.py` to give these notebooks their install cell", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
