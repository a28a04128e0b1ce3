"""Give every chapter notebook a first cell that installs the `book` package when `import book` fails.

A chapter downloaded from the site, or opened in Colab, runs outside the course repository, where nothing has
installed `book` (d2l's notebooks start with `pip install d2l` for the same reason). The cell is tagged
`remove-cell`, so the site does not show it, and `install-book`, so this tool finds it again: running the tool
twice changes nothing, and it rewrites the cell when the repository URL in _config.yml changes (`make book` runs it).

The cell installs from `$BOOK_SOURCE` when that is set (a local path or any pip-installable URL), else from the
repository URL in _config.yml; chapters that train on MNIST also fetch it. Chapters edit nothing else.

Usage: python tools/install_cell.py [--check] [NOTEBOOK ...]   (default: chapters/*.ipynb)
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


def install_cell_source(source: str, fetch_mnist: bool) -> str:
    """The cell's code: a no-op where `book` imports, else a pip install from $BOOK_SOURCE or `source`."""
    lines = [
        "# Outside the course repository (a chapter downloaded from the site, Colab), install the book's helpers.",
        "# BOOK_SOURCE may name another copy of the repository: a local path or a pip-installable URL.",
        "try:",
        "    import book",
        "except ImportError:",
        "    import importlib, os, subprocess, sys",
        (f"    source = os.environ.get(\"BOOK_SOURCE\") or {json.dumps(source)}" if source else
         "    source = os.environ.get(\"BOOK_SOURCE\")  # _config.yml names no repository yet"),
        "    if not source:",
        "        raise ModuleNotFoundError(\"the `book` package is missing: set BOOK_SOURCE to the course \"",
        "                                  \"repository (a local path or git URL) and run this cell again\")",
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\", source], check=True)",
        "    importlib.invalidate_caches()",
        "    import book",
    ]
    if fetch_mnist:
        lines.append("    subprocess.run([sys.executable, \"-m\", \"book.data\", \"fetch\"], check=True)  # MNIST")
    return "\n".join(lines)


def install_cell(source: str, fetch_mnist: bool) -> Dict[str, Any]:
    text = install_cell_source(source, fetch_mnist)
    return {"cell_type": "code", "execution_count": None, "id": CELL_ID,
            "metadata": {"tags": ["remove-cell", TAG]}, "outputs": [],
            "source": text.splitlines(keepends=True)}


def is_install_cell(cell: Dict[str, Any]) -> bool:
    return cell.get("cell_type") == "code" and TAG in cell.get("metadata", {}).get("tags", [])


def needs_mnist(notebook: Dict[str, Any]) -> bool:
    return any(marker in "".join(cell.get("source", "")) for cell in notebook["cells"]
               if cell.get("cell_type") == "code" and not is_install_cell(cell) for marker in MNIST_MARKERS)


def with_install_cell(notebook: Dict[str, Any], source: str) -> Dict[str, Any]:
    """`notebook` whose first cell is the install cell (inserted, or rewritten in place); other cells untouched."""
    wanted = install_cell(source, needs_mnist(notebook))
    cells = [cell for cell in notebook["cells"] if not is_install_cell(cell)]
    return {**notebook, "cells": [wanted] + cells}


def dumps(notebook: Dict[str, Any]) -> str:
    """The notebook as nbformat writes it (one-space indent, sorted keys, non-ASCII kept), so diffs stay small."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def chapters(root: Path = ROOT) -> List[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


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
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell is missing or stale")
    args = parser.parse_args(argv)
    paths = args.notebooks or chapters()
    stale = update(paths, repository_source(), args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT) if path.is_absolute() else path}")
    if args.check and stale:
        print("run `python tools/install_cell.py` to give these chapters their install cell", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
