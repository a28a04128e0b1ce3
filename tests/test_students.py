"""Whose submission a file is and which copy counts (grading.students), as the grader and the gradebook read it."""
from __future__ import annotations

import pytest

from grading.students import copy_number, student_of, superseded

pytestmark = pytest.mark.grading
IDS = ["01_convolution_math", "02_fc_to_conv"]


@pytest.mark.parametrize("name, number", [("x.ipynb", 0), ("x-1.ipynb", 1), ("x-2.ipynb", 2), ("x (3).ipynb", 3),
                                          ("team-2_01_convolution_math.ipynb", 0)])
def test_a_copy_number_is_what_an_lms_or_a_browser_appends(name: str, number: int) -> None:
    assert copy_number(name) == number


def test_a_resubmission_supersedes_the_earlier_copy_of_the_same_student_and_exercise() -> None:
    paths = ["s/alice/01_convolution_math.ipynb", "s/alice/01_convolution_math-1.ipynb",
             "s/bob_01_convolution_math.ipynb", "s/bob_01_convolution_math (2).ipynb", "s/bob_02_fc_to_conv.ipynb",
             "s/carol/notes.ipynb", "s/dave/01_convolution_math.ipynb"]
    assert superseded(paths, IDS) == {"s/alice/01_convolution_math.ipynb": "s/alice/01_convolution_math-1.ipynb",
                                      "s/bob_01_convolution_math.ipynb": "s/bob_01_convolution_math (2).ipynb"}
    assert [student_of(p, IDS) for p in paths[:5]] == ["alice", "alice", "bob", "bob", "bob"]
