"""The exercises are generated, never edited: every generated file matches its source, and nothing secret leaks.

`python -m grading.build --check` regenerates the notebooks and the test lists from grading/source/ (through
otter assign) and compares them with the committed files; the reference values carry the digest of the source they
were recorded from.
"""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

pytestmark = pytest.mark.grading
SOURCES = sorted(p.stem for p in (ROOT / "grading" / "source").glob("*.py"))


def _material(name: str) -> dict:
    return json.loads((ROOT / "grading" / "autograder" / f"{name}.json").read_text())


@pytest.mark.slow
def test_generated_files_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, "-m", "grading.build", "--check"], capture_output=True, text=True,
                            cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", SOURCES)
def test_reference_values_come_from_the_current_source(name: str) -> None:
    import hashlib
    material = _material(name)
    source = (ROOT / "grading" / "source" / f"{name}.py").read_text()
    assert material["source_sha256"] == hashlib.sha256(source.encode()).hexdigest(), \
        f"{name}: run `python -m grading.build {name}`"
    for question in material["questions"]:
        for test in question["tests"]:
            assert test["name"] in material["reference"][question["name"]]


@pytest.mark.parametrize("name", SOURCES)
def test_student_notebook_hides_solutions_and_hidden_tests(name: str) -> None:
    exercise = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    text = nbformat.writes(exercise)
    material = _material(name)
    hidden = [t["name"] for q in material["questions"] for t in q["tests"] if t["hidden"]]
    public = [t["name"] for q in material["questions"] for t in q["tests"] if not t["hidden"]]
    assert hidden and all(f"def {t}(" not in text for t in hidden)
    assert all(f"def {t}(" in text for t in public)   # public tests travel in the metadata, for grader.check
    assert "BEGIN SOLUTION" not in text and "# SOLUTION" not in text and '"reference"' not in text
    assert exercise.metadata["book"] == {"exercise": name}
    assert exercise.metadata["mystnb"] == {"execution_mode": "off"}
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", SOURCES)
def test_solution_notebook_is_clean(name: str) -> None:
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    text = nbformat.writes(solution)
    assert "BEGIN SOLUTION" not in text and "= ..." not in text and "otter" not in text
    assert solution.metadata["book"] == {"exercise": name, "solution": True}


QUESTION_WITH_POLICY = '''# %%
import torch
import torch.nn.functional as F

# %% [raw]
# # BEGIN QUESTION
# name: patches
# points: 2
# allow: [torch.nn.functional.unfold]
# forbid: [torch.einsum]

# %% [markdown]
# ## 1. Patches
#
# Write `patches(X, k)`: the k x k windows of X as columns.

# %% [raw]
# # BEGIN SOLUTION

# %%
def patches(X, k):
    # BEGIN SOLUTION
    return F.unfold(X[None, None], k)[0]
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_patches(patches):
    from grading.checks import check, no_library
    with no_library(autograd=True):
        check(patches(torch.arange(9.0).reshape(3, 3), 2).shape, (4, 4))

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
'''


def test_a_questions_own_allow_and_forbid_reach_its_tests_its_handout_and_both_verdicts(tmp_path) -> None:
    """`allow:`/`forbid:` beside `points:` become the literal arguments of every `no_library(...)` of that
    question's tests: what the student's check reads (the handout's public tests) and what the grader reads (the
    material), so both give the same verdict."""
    from grading.build import generate
    from grading.checks import local_verdict
    from grading.forbidden import Notebook, verdict
    from grading.material import exercise_from_material
    source = tmp_path / "99_demo.py"
    source.write_text(QUESTION_WITH_POLICY)
    exercise, _, material = generate("99_demo", source)
    public = exercise.metadata["otter"]["tests"]["patches"]
    arguments = "no_library(allow=('torch.nn.functional.unfold',), forbid=('torch.einsum',), autograd=True)"
    assert arguments in public and arguments in material["questions"][0]["tests"][0]["source"]
    assert "may also use `torch.nn.functional.unfold` and may not use `torch.einsum`" in nbformat.writes(exercise)
    question = exercise_from_material(material).questions[0]
    assert (question.allow, question.forbid, question.forbids_autograd) == (
        ("torch.nn.functional.unfold",), ("torch.einsum",), True)
    answers = {"unfold": "import torch.nn.functional as F\ndef patches(X, k):\n    return F.unfold(X[None, None], k)[0]",
               "einsum": "import torch\ndef patches(X, k):\n    return torch.einsum('ij->ij', X)",
               "conv2d": "import torch.nn.functional as F\ndef patches(X, k):\n    return F.conv2d(X, X)"}
    expected = {"unfold": None, "einsum": "failed", "conv2d": "failed"}
    for name, code in answers.items():
        local = local_verdict([code], ["patches"], True, question.allow, question.forbid)
        graded = verdict(Notebook([{"id": "c", "source": code}]).answer(question.policy, ["patches"]).findings,
                         cell_label="input")
        assert local == graded and (local and local[0]) == expected[name], (name, local)


@pytest.mark.parametrize("line, change, error", [
    ("# allow: [torch.nn.functional.unfold]", "# allow: torch.nn.functional.unfold", "allow: give a list of dotted"),
    ("# forbid: [torch.einsum]", "# forbid: [torch.einsum, 'not a name']", "forbid: give a list of dotted"),
])
def test_a_malformed_allow_or_forbid_is_a_build_error_naming_the_question(tmp_path, line, change, error) -> None:
    from grading.build import BuildError, generate
    source = tmp_path / "99_demo.py"
    source.write_text(QUESTION_WITH_POLICY.replace(line, change))
    with pytest.raises(BuildError, match=f"99_demo question patches: {error}"):
        generate("99_demo", source)


def test_allow_given_twice_is_a_build_error(tmp_path) -> None:
    from grading.build import BuildError, generate
    source = tmp_path / "99_demo.py"
    source.write_text(QUESTION_WITH_POLICY.replace("no_library(autograd=True)", "no_library(allow=('torch.cat',))"))
    with pytest.raises(BuildError, match="say them once, in the question's YAML"):
        generate("99_demo", source)
