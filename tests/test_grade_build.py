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
    from grading.build import generate, read_course
    from grading.checks import local_verdict
    from grading.forbidden import Notebook, verdict
    from grading.material import exercise_from_material
    source = tmp_path / "99_demo.py"
    source.write_text(QUESTION_WITH_POLICY)
    exercise, _, material = generate("99_demo", source)
    public = exercise.metadata["otter"]["tests"]["patches"]
    arguments = (f"no_library(allow=('torch.nn.functional.unfold',), forbid=('torch.einsum',), "
                 f"helpers={read_course().helpers!r}, autograd=True)")
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


# ---------------------------------------------------------------------------------------------------------------
# The course's declaration (grading/source/course.yaml) is what decides which helpers count and what the sandbox binds
# ---------------------------------------------------------------------------------------------------------------

COURSE_YAML = """helpers: [othercourse.ops]
sandbox:
  package: othercourse
  data_variable: OTHERCOURSE_DATA
  data_folder: othercourse.data.data_root
"""
OTHER_PACKAGE = {
    "__init__.py": "",
    "ops.py": "__all__ = ['blur']\n\n\ndef blur(x):\n    return x * 1.0\n",
    "data.py": "from pathlib import Path\n\n\ndef data_root():\n    return Path(__file__).resolve().parents[1] / "
               "'otherdata'\n",
}
# A question whose test calls a function of the standard library's colorsys inside no_library(): a helper module of
# a course that declares it (and one the sandbox's interpreter imports, as it imports an installed course's package).
QUESTION_CALLING_COLORSYS = """# %% [raw]
# # BEGIN QUESTION
# name: hue
# points: 1

# %% [markdown]
# ## 1. Hue

# %% [raw]
# # BEGIN SOLUTION

# %%
def hue(r, g, b):
    return 0.0  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_hue():
    import colorsys
    from grading.checks import check, no_library
    with no_library():
        check(colorsys.rgb_to_hsv(1.0, 0.0, 0.0)[0], 0.0)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
"""
# The declared package's folder and data folder are there, the data folder under the variable the declaration
# names; the book's are not.
MOUNTS_TEST = """def test_mounts():
    import importlib.util
    import os
    from grading.checks import check
    check([sorted(os.listdir({package!r})), sorted(os.listdir(os.environ['OTHERCOURSE_DATA'])),
           'BOOK_DATA' in os.environ, importlib.util.find_spec('book') is not None])
"""


@pytest.fixture
def other_course(tmp_path, monkeypatch):
    """A course whose helper package is `othercourse` (with its data folder `otherdata`), importable here."""
    package = tmp_path / "othercourse"
    package.mkdir()
    for name, text in OTHER_PACKAGE.items():
        (package / name).write_text(text)
    (tmp_path / "otherdata").mkdir()
    (tmp_path / "otherdata" / "digits.bin").write_bytes(b"\0")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "course.yaml").write_text(COURSE_YAML)
    yield tmp_path
    for name in [n for n in sys.modules if n.split(".")[0] == "othercourse"]:   # the next test's is another folder
        del sys.modules[name]


def test_the_courses_declaration_reaches_every_no_library_call_and_the_material(other_course) -> None:
    from grading.build import generate, read_course
    from grading.material import SandboxDeclaration, exercise_from_material
    course = read_course(other_course / "course.yaml")
    source = other_course / "99_demo.py"
    source.write_text(QUESTION_WITH_POLICY)
    exercise, _, material = generate("99_demo", source, course)
    arguments = ("no_library(allow=('torch.nn.functional.unfold',), forbid=('torch.einsum',), "
                 "helpers=('othercourse.ops',), autograd=True)")
    assert arguments in exercise.metadata["otter"]["tests"]["patches"]
    assert arguments in material["questions"][0]["tests"][0]["source"] and "book" not in json.dumps(material)
    assert exercise_from_material(material).sandbox == SandboxDeclaration(
        "othercourse", "OTHERCOURSE_DATA", "othercourse.data.data_root")


def test_the_declared_helpers_are_what_the_trace_counts(other_course, monkeypatch) -> None:
    """The trace counts the modules it is given, and only those: the book's helpers are the book's declaration."""
    import book.shapes
    import othercourse.ops
    from grading import checks
    trace = checks.OperationTrace(helpers=("othercourse.ops",))
    monkeypatch.setattr(checks, "_trace", trace)   # what a counted helper reports to, as no_library() sets it
    with trace():
        book.shapes.conv_output_size(5, 3)
    with pytest.raises(checks.ForbiddenCall, match="othercourse.ops.blur"):
        with trace():
            othercourse.ops.blur(2)


@pytest.mark.slow
def test_the_sandbox_binds_what_the_material_declares_and_counts_the_declared_helpers(sandbox_works,
                                                                                      other_course) -> None:
    """From course.yaml through the build's material to the sandbox: the folders it binds, the variable it sets,
    and the helper modules whose calls the runner's trace counts."""
    from grading.build import generate, read_course
    from grading.material import exercise_from_material
    from grading.sandbox import Limits, Sandbox
    (other_course / "course.yaml").write_text(COURSE_YAML.replace("[othercourse.ops]", "[colorsys]"))
    source = other_course / "99_demo.py"
    source.write_text(QUESTION_CALLING_COLORSYS)
    _, solution, material = generate("99_demo", source, read_course(other_course / "course.yaml"))
    exercise = exercise_from_material(material)
    tests = exercise.jobs() + [{"question": "hue", "name": "test_mounts",
                                "source": MOUNTS_TEST.format(package=str(other_course / "othercourse"))}]
    cells = [{"id": c.id, "source": c.source} for c in solution.cells if c.cell_type == "code"]
    with Sandbox.open(declared=exercise.sandbox) as sandbox:
        assert {str(other_course / "othercourse"), str(other_course / "otherdata")} <= set(sandbox.read_only)
        run = sandbox.run(cells, tests, Limits(timeout=60))
    events = {e["test"]: e for e in run.events if e.get("event") == "test"}
    assert events["test_hue"]["status"] == "forbidden", events
    assert "colorsys.rgb_to_hsv" in events["test_hue"]["message"]
    assert events["test_mounts"]["status"] == "ran", events
    assert events["test_mounts"]["records"][0]["value"] == [["__init__.py", "data.py", "ops.py"], ["digits.bin"],
                                                            False, False]


# What the data folder shows a run: every file under it, and whether the withheld one can be opened.
DATA_VIEW_TEST = """def test_data_view():
    import os
    from grading.checks import check
    folder = os.environ['OTHERCOURSE_DATA']
    files = sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, names in os.walk(folder) for n in names)
    try:
        readable = open(os.path.join(folder, 'labels', 'answers.bin'), 'rb').read() == b'42'
    except OSError:
        readable = False
    check([files, readable])
"""


@pytest.mark.slow
def test_a_withheld_file_exists_only_in_the_reference_run(sandbox_works, other_course) -> None:
    """A graded run cannot see or open what the declaration withholds; the build's reference run reads it, so the
    values its tests record (which the grader judges with) may come from it."""
    from grading.build import read_course
    from grading.sandbox import Limits, Sandbox
    (other_course / "otherdata" / "labels").mkdir()
    (other_course / "otherdata" / "labels" / "answers.bin").write_bytes(b"42")
    (other_course / "otherdata" / "labels" / "shapes.bin").write_bytes(b"7")
    (other_course / "course.yaml").write_text(COURSE_YAML + "  withheld: [labels/answers.bin]\n")
    declared = read_course(other_course / "course.yaml").sandbox
    assert declared.withheld == ("labels/answers.bin",)
    seen = {}
    for reference in (False, True):
        with Sandbox.open(declared=declared, reference=reference) as sandbox:
            run = sandbox.run([], [{"question": "q", "name": "test_data_view", "source": DATA_VIEW_TEST}],
                              Limits(timeout=60))
        event = next(e for e in run.events if e.get("event") == "test")
        assert event["status"] == "ran", event
        seen[reference] = event["records"][0]["value"]
    assert seen[False] == [["digits.bin", "labels/shapes.bin"], False]
    assert seen[True] == [["digits.bin", "labels/answers.bin", "labels/shapes.bin"], True]


# A question whose test reads the declared data folder: it passes only in a sandbox that binds what the course
# declares (the book's sandbox sets no OTHERCOURSE_DATA).
QUESTION_READING_THE_DATA = QUESTION_CALLING_COLORSYS.replace("""def test_hue():
    import colorsys
    from grading.checks import check, no_library
    with no_library():
        check(colorsys.rgb_to_hsv(1.0, 0.0, 0.0)[0], 0.0)""", """def test_hue(hue):
    import os
    from grading.checks import check
    check([hue(1.0, 0.0, 0.0)] + sorted(os.listdir(os.environ['OTHERCOURSE_DATA'])), [0.0, 'digits.bin'])""")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["here", "on a cluster worker"])
def test_grading_binds_what_the_graded_exercises_material_declares(sandbox_works, other_course, tmp_path,
                                                                   where) -> None:
    """`python -m grading --material DIR` and a cluster's workers bind what DIR's material declares, not what the
    course's own grading/autograder/ declares: another course's exercise gets its full marks."""
    import dataclasses

    from grading.build import generate, read_course, record_reference
    from grading.cluster import grader_code, job_data, run_on_worker
    from grading.grade import grade, judge_run, prepare
    from grading.material import exercise_from_material, find_submissions, read_submission
    from grading.sandbox import Limits, SandboxRun
    source = other_course / "99_demo.py"
    source.write_text(QUESTION_READING_THE_DATA)
    _, solution, material = generate("99_demo", source, read_course(other_course / "course.yaml"))
    material["reference"] = record_reference(material, solution, Limits(timeout=60))
    exercises = {"99_demo": exercise_from_material(material)}
    submitted = tmp_path / "submissions" / "99_demo.ipynb"
    submitted.parent.mkdir()
    nbformat.write(solution, submitted)
    limits = Limits(timeout=60)
    if where == "here":
        rows = grade([str(submitted.parent)], limits, exercises=exercises)
    else:
        prepared = prepare(read_submission(find_submissions([str(submitted)])[0], exercises), exercises, limits)
        result = run_on_worker(job_data(prepared.job), [], grader_code(),
                               dataclasses.asdict(exercises["99_demo"].sandbox))
        rows = judge_run(prepared, SandboxRun(**result["run"]))
    assert [(row.question, row.points, row.status) for row in rows] == [("hue", 1.0, "passed")], rows


def test_the_graders_code_names_nothing_the_course_declares() -> None:
    """The trace, the runner and the sandbox learn the course's helper package from its declaration: none of them
    imports it or names its modules or its data variable (a course with another package changes only course.yaml)."""
    import re
    from grading.build import read_course
    course = read_course()
    modules = [re.escape(m) for m in (*course.helpers, course.sandbox.package)]
    used = re.compile("|".join([rf"\b(import|from)\s+{m}\b|(?<![\w.]){m}\.\w" for m in modules] +
                               [rf"\b{re.escape(course.sandbox.data_variable)}\b"]))
    for name in ("forbidden", "checks", "runner", "sandbox", "policy"):
        found = used.search((ROOT / "grading" / f"{name}.py").read_text())
        assert found is None, (name, found)


@pytest.mark.parametrize("change, error", [
    (("othercourse.ops", "othercourse.nosuch"), "helpers: othercourse.nosuch cannot be imported .*: name a module"),
    (("othercourse.ops", "othercourse.data"), "helpers: othercourse.data has no __all__: list its public functions"),
    (("  data_variable: OTHERCOURSE_DATA\n", ""), "sandbox.data_variable is missing: name the environment variable"),
    (("OTHERCOURSE_DATA", "OTHER-DATA"), "sandbox.data_variable: 'OTHER-DATA' is not an environment variable's name"),
    (("package: othercourse", "package: nosuchcourse"), "sandbox.package: nosuchcourse cannot be imported"),
    (("data_root", "no_such_function"), "sandbox.data_folder: othercourse.data.no_such_function is not a function"),
    (("data_folder:", "data_path:"), "sandbox.data_path is not a field: use package, data_variable, data_folder"),
    (("data_root\n", "data_root\n  withheld: labels.bin\n"), "sandbox.withheld: give a list of paths in the data "
                                                          "folder"),
    (("data_root\n", "data_root\n  withheld: [labels.bin]\n"), "sandbox.withheld: labels.bin is not a file in "
                                                            "the data folder .*otherdata: give a path relative"),
    (("data_root\n", "data_root\n  withheld: [../course.yaml]\n"), "sandbox.withheld: "
                                                                         "../course.yaml is not a file in"),
])
def test_a_bad_course_declaration_is_a_one_line_build_error_naming_the_field(other_course, change, error) -> None:
    from grading.build import BuildError, read_course
    path = other_course / "course.yaml"
    path.write_text(COURSE_YAML.replace(*change))
    with pytest.raises(BuildError, match=f"^course.yaml: {error}") as raised:
        read_course(path)
    assert "\n" not in str(raised.value)
