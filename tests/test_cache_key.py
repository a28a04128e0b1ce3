"""tools/cache_key.py: the execution cache's key follows what the chapters' outputs depend on, and nothing else."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import cache_key  # noqa: E402


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the files the key reads: book/ and the chapters."""
    for folder in ("book", "chapters"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_key_leaves_out_only_the_benchmark_scripts_no_chapter_imports() -> None:
    files = {path.relative_to(ROOT).as_posix() for path in cache_key.key_files()}
    assert {"book/bench/__init__.py", "book/bench/lenet.py", "book/bench/records/lenet.json",
            "book/conv.py", "book/viz/draw.py", "book/viz/static/player.js"} <= files
    assert not {"book/bench/conv.py", "book/bench/widget.py", "book/bench/__main__.py"} & files
    everything = {path.relative_to(ROOT).as_posix() for path in (ROOT / "book").rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts}
    assert everything - files == {"book/bench/conv.py", "book/bench/widget.py", "book/bench/__main__.py"}


def test_editing_a_benchmark_script_keeps_the_key_and_editing_a_record_changes_it(checkout: Path) -> None:
    key = cache_key.cache_key(checkout)
    with open(checkout / "book" / "bench" / "widget.py", "a", encoding="utf-8") as script:
        script.write("# a maintainer's edit\n")
    assert cache_key.cache_key(checkout) == key
    with open(checkout / "book" / "bench" / "records" / "lenet.json", "a", encoding="utf-8") as record:
        record.write("\n")
    assert cache_key.cache_key(checkout) != key


def test_a_benchmark_script_counts_once_a_chapter_imports_it(checkout: Path) -> None:
    key = cache_key.cache_key(checkout)
    chapter = next(iter(sorted((checkout / "chapters").glob("*.ipynb"))))
    chapter.write_text(chapter.read_text(encoding="utf-8").replace(
        '"source": [', '"source": ["from book.bench import widget as timing, conv\\n", ', 1), encoding="utf-8")
    assert {checkout / "book" / "bench" / "widget.py", checkout / "book" / "bench" / "conv.py"} <= \
        set(cache_key.key_files(checkout))
    assert cache_key.cache_key(checkout) != key


def test_a_script_a_chapter_imports_brings_in_what_it_imports_from_book_bench(checkout: Path) -> None:
    lenet = checkout / "book" / "bench" / "lenet.py"
    lenet.write_text(lenet.read_text(encoding="utf-8") + "\nfrom book.bench.conv import Layer\n", encoding="utf-8")
    assert checkout / "book" / "bench" / "conv.py" in cache_key.key_files(checkout)
