"""`python tools/cache_key.py [--list]`: the key `make book` keeps beside the execution cache, a hash of the files
under `book/` that the chapters' outputs can depend on (with --list, those files instead).

The cache keys each notebook on its own code only, so the Makefile clears it when this key changes. The key covers
every file under `book/` except the benchmark scripts (`book/bench/*.py`) that no chapter imports: those are
commands a maintainer runs (`python -m book.bench conv`), and editing one changes no page. A script a chapter imports
(chapter 7 and Appendix B import `book.bench.lenet`) counts, with what it imports from `book.bench` in turn, and so do
the benchmark records, which chapters read.
"""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import List, Set

ROOT = Path(__file__).resolve().parents[1]
_DOTTED = re.compile(r"\bbook\.bench\.(\w+)")
_FROM = re.compile(r"\bfrom book\.bench import ([\w ,]+)")


def bench_modules_named(text: str) -> Set[str]:
    """Modules of `book.bench` that `text` imports or names (`book.bench.lenet`, `from book.bench import lenet as b`)."""
    names = set(_DOTTED.findall(text))
    for imported in _FROM.findall(text):
        names.update(part.split()[0] for part in imported.split(",") if part.split())
    return names


def imported_bench_scripts(root: Path = ROOT) -> Set[Path]:
    """The `book/bench/*.py` files the chapters import, directly or through one another."""
    scripts = {path.stem: path for path in (root / "book" / "bench").glob("*.py")}
    wanted = {"__init__"} | set().union(*(bench_modules_named(chapter.read_text(encoding="utf-8"))
                                          for chapter in (root / "chapters").glob("*.ipynb")))
    found: Set[str] = set()
    while wanted - found:
        name = (wanted - found).pop()
        found.add(name)
        if name in scripts:
            wanted |= bench_modules_named(scripts[name].read_text(encoding="utf-8"))
    return {scripts[name] for name in found if name in scripts}


def key_files(root: Path = ROOT) -> List[Path]:
    """Every file under `book/` that the chapters' outputs can depend on, sorted."""
    skipped = set((root / "book" / "bench").glob("*.py")) - imported_bench_scripts(root)
    return sorted(path for path in (root / "book").rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts and path not in skipped)


def cache_key(root: Path = ROOT) -> str:
    """16 hex digits that change when any key file's path or contents change."""
    digest = hashlib.sha256()
    for path in key_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(path.relative_to(ROOT).as_posix() for path in key_files()))
    elif sys.argv[1:]:
        sys.exit("usage: python tools/cache_key.py [--list]")
    else:
        print(cache_key())
