"""The exercise sources: shared starter code is written once, and every exercise page links to its chapter."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from grading.build import BuildError, STARTERS, with_starters

pytestmark = pytest.mark.grading
SOURCES = sorted((ROOT / "grading" / "source").glob("[0-9][0-9]_*.py"))


def test_a_starter_line_becomes_the_starter_file() -> None:
    expanded = with_starters("import torch\n\n\n# STARTER corr2d\n\n\nx = 1\n")
    assert (STARTERS / "corr2d.py").read_text().strip("\n") in expanded
    assert "# STARTER" not in expanded and expanded.endswith("\n\n\nx = 1\n")


def test_an_unknown_starter_is_a_clear_build_error() -> None:
    with pytest.raises(BuildError, match="no starter 'nothing'"):
        with_starters("# STARTER nothing\n")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_shared_code_is_not_copied_into_sources(source: Path) -> None:
    text = source.read_text()
    for starter in STARTERS.glob("*.py"):
        distinctive = max(starter.read_text().splitlines(), key=len)   # a docstring, a sentence
        assert distinctive.strip() not in text, f"{source.name} copies {starter.name}; write `# STARTER {starter.stem}`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_exercise_page_opens_with_a_link_to_its_chapter(source: Path) -> None:
    exercise = nbformat.read(ROOT / "exercises" / f"{source.stem}.ipynb", as_version=4)
    first = next(cell for cell in exercise.cells if cell.cell_type == "markdown")
    links = re.findall(r"\]\((\.\./chapters/[^)]+\.ipynb)\)", first.source)
    assert links == [f"../chapters/{source.stem}.ipynb"], first.source[:300]
    assert (ROOT / "chapters" / f"{source.stem}.ipynb").exists()
