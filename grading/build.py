"""Generate every exercise artefact from its one source: `python -m grading.build [--check] [NAME...]`.

A source, `grading/source/NAME.py`, is a jupytext (percent format) notebook in otter-grader's assign format:
raw cells `# BEGIN QUESTION` (YAML name, points), `# BEGIN SOLUTION`/`# END SOLUTION`, `# BEGIN TESTS`/
`# END TESTS`, `# END QUESTION`; test cells are otter exception-based tests (one `def test_...` each, `# HIDDEN` as
the first line for hidden ones) that call `grading.checks.check`. A question whose tests use `no_library()` may
change the policy's allow-list beside its points (`allow: [torch.nn.functional.unfold]`, `forbid: [torch.einsum]`):
the build writes those names into each of its tests' `no_library(...)` calls, which the student's check and the
grader both read, and says them in the question's handout.

What the grader must know of the course itself is declared once, in `grading/source/course.yaml`: `helpers`, the
modules of the course's own helper package whose functions count inside `no_library()` as a library's convolution
does (written into every `no_library(...)` call as `helpers=`), and `sandbox`, the package the sandbox makes
importable and the environment variable and function that give its data folder (written into every exercise's
material as `sandbox`). The grader names no module of the course. From the sources this module writes

* `exercises/NAME.ipynb`: otter's student notebook (public tests only, in its metadata) + the book's metadata;
* `solutions/NAME.ipynb`: otter's solution notebook, solution markers removed, public tests only;
* `grading/autograder/NAME.json`: every test (public and hidden) and the reference solution's recorded values,
  obtained by running the solution and all tests in the grading sandbox.

`--check` regenerates the notebooks and the test list in memory and fails if any file on disk differs or if the
reference values were recorded from an older source (tests/test_grade_build.py runs it).
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import dataclasses
import hashlib
import importlib.util
import io
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import nbformat
import yaml

from grading.compare import apply_rule, compare, decode
from grading.material import ROOT, SandboxDeclaration, exercise_from_material
from grading.sandbox import Limits, Sandbox, SandboxUnavailable, data_folder

SOURCES = ROOT / "grading" / "source"
COURSE = SOURCES / "course.yaml"
STARTERS = SOURCES / "_starter"
STARTER_LINE = re.compile(r"^# STARTER (\w+)$", flags=re.M)
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
AUTOGRADER = ROOT / "grading" / "autograder"
# otter's settings, the same for every exercise: public tests live in the student notebook's metadata, so a
# student gets one self-contained file; no PDFs, no zip, no test run (the build records the reference instead).
OTTER_CONFIG = """# ASSIGNMENT CONFIG
init_cell: true
check_all_cell: false
export_cell: false
run_tests: false
solutions_pdf: false
generate: false
tests:
  files: false
  ok_format: false"""
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
POLICY_KEYS = ("allow", "forbid")
DOTTED_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NO_LIBRARY_CALL = re.compile(r"\bno_library\((\s*\))?")
MARKER_LINE = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$")
SOLUTION_SUFFIX = re.compile(r"\s*# SOLUTION\s*$")


class BuildError(Exception):
    """A source that cannot become a consistent exercise (the message names the exercise and the problem)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _otter_assign(name: str, source_notebook: nbformat.NotebookNode) -> Tuple[nbformat.NotebookNode, ...]:
    """Run `otter assign` on the source; return its student and autograder notebooks (as dicts)."""
    from otter.assign import main as assign
    with tempfile.TemporaryDirectory(prefix="book-assign-") as tmp:
        master = Path(tmp) / f"{name}.ipynb"
        nbformat.write(source_notebook, master)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assign(str(master), str(Path(tmp) / "dist"), no_pdfs=True, no_run_tests=True)
        student = nbformat.read(Path(tmp) / "dist" / "student" / f"{name}.ipynb", as_version=4)
        autograder = nbformat.read(Path(tmp) / "dist" / "autograder" / f"{name}.ipynb", as_version=4)
    return student, autograder


@dataclass(frozen=True)
class Course:
    """The course's declaration (`grading/source/course.yaml`), checked: what the grader must know of it."""
    helpers: Tuple[str, ...]        # modules whose public functions count inside no_library()
    sandbox: SandboxDeclaration     # what the sandbox binds, and the variable that names the data folder


def read_course(path: Path = COURSE) -> Course:
    """The course's declaration; BuildError, naming the field and the fix, for one the grader could not use."""
    where = path.name
    if not path.is_file():
        raise BuildError(f"no course declaration: write {path} beside the exercise sources (its fields: "
                         "instructors.md, Writing or changing an exercise)")
    try:
        declared = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise BuildError(f"{where} is not YAML ({' '.join(str(error).split())}): fix the line it names") from None
    helpers = declared.get("helpers", []) if isinstance(declared, dict) else None
    if not isinstance(helpers, list) or not all(isinstance(h, str) and DOTTED_NAME.match(h) for h in helpers):
        raise BuildError(f"{where}: helpers: give a list of module names, e.g. [mycourse.conv]")
    for name in helpers:
        module = _imported(name, f"{where}: helpers: {name}")
        if not isinstance(getattr(module, "__all__", None), (list, tuple)):
            raise BuildError(f"{where}: helpers: {name} has no __all__: list its public functions in __all__, "
                             "which is what the trace counts")
    sandbox = declared.get("sandbox", {})
    if not isinstance(sandbox, dict) or not all(isinstance(sandbox.get(k, ""), str) for k in SandboxDeclaration.TEXT):
        raise BuildError(f"{where}: sandbox: give a table of names (package, data_variable, data_folder)")
    unknown = sorted(set(sandbox) - set(SandboxDeclaration.__annotations__))
    if unknown:
        raise BuildError(f"{where}: sandbox.{unknown[0]} is not a field: use package, data_variable, data_folder, "
                         "withheld")
    withheld = sandbox.get("withheld", [])
    if not isinstance(withheld, list) or not all(isinstance(path, str) for path in withheld):
        raise BuildError(f"{where}: sandbox.withheld: give a list of paths in the data folder, e.g. "
                         "[labels/test.csv]")
    declaration = SandboxDeclaration(**{**sandbox, "withheld": tuple(withheld)})
    return Course(tuple(helpers), _checked_withheld(_checked_sandbox(declaration, where), where))


def _imported(name: str, field: str):
    try:
        return importlib.import_module(name)
    except (ImportError, ValueError, TypeError) as error:   # TypeError: a relative name such as .conv
        raise BuildError(f"{field} cannot be imported ({error}): name a module that `import` finds in this "
                         "environment (pip install -e . for the course's own package)") from None


def _checked_sandbox(sandbox: SandboxDeclaration, where: str) -> SandboxDeclaration:
    if sandbox.package:
        package = _imported(sandbox.package, f"{where}: sandbox.package: {sandbox.package}")
        if getattr(package, "__file__", None) is None:
            raise BuildError(f"{where}: sandbox.package: {sandbox.package} is not a package with a folder: name the "
                             "course's helper package, e.g. mycourse")
    if sandbox.data_folder and not sandbox.data_variable:
        raise BuildError(f"{where}: sandbox.data_variable is missing: name the environment variable through which "
                         "the package finds its data folder, e.g. COURSE_DATA")
    if sandbox.data_variable and not sandbox.data_folder:
        raise BuildError(f"{where}: sandbox.data_folder is missing: name the function of no arguments that returns "
                         "the data folder, e.g. mycourse.data.data_root")
    if sandbox.data_variable and not VARIABLE_NAME.match(sandbox.data_variable):
        raise BuildError(f"{where}: sandbox.data_variable: {sandbox.data_variable!r} is not an environment "
                         "variable's name: use letters, digits and _")
    if sandbox.data_folder:
        module, _, function = sandbox.data_folder.rpartition(".")
        field = f"{where}: sandbox.data_folder: {sandbox.data_folder}"
        if not DOTTED_NAME.match(module) or not callable(getattr(_imported(module, field), function, None)):
            raise BuildError(f"{field} is not a function: name one of no arguments that returns the data folder, "
                             "e.g. mycourse.data.data_root")
    return sandbox


def _checked_withheld(sandbox: SandboxDeclaration, where: str) -> SandboxDeclaration:
    """Each withheld path names a file inside the data folder: a typo would withhold nothing, silently."""
    if sandbox.withheld and not sandbox.data_folder:
        raise BuildError(f"{where}: sandbox.withheld needs sandbox.data_folder: files are withheld from the data "
                         "folder")
    folder = Path(data_folder(sandbox)).resolve() if sandbox.withheld else None
    for path in sandbox.withheld:
        inside = (folder / path).resolve()
        if Path(path).is_absolute() or folder not in inside.parents or not inside.is_file():
            raise BuildError(f"{where}: sandbox.withheld: {path} is not a file in the data folder {folder}: give "
                             "a path relative to it (fetch the data first)")
    return sandbox


def _read_source(path: Path, course: Course) -> nbformat.NotebookNode:
    import jupytext
    notebook = jupytext.reads(with_starters(path.read_text()), fmt="py:percent")
    notebook.metadata = {"kernelspec": dict(KERNELSPEC)}
    notebook.cells.insert(0, nbformat.v4.new_raw_cell(OTTER_CONFIG))
    return with_question_policies(notebook, path.stem, course.helpers)


def with_question_policies(notebook: nbformat.NotebookNode, exercise: str,
                           helpers: Tuple[str, ...]) -> nbformat.NotebookNode:
    """Move each question's `allow:`/`forbid:` out of its YAML (otter knows no such keys) into its tests'
    `no_library(...)` calls and a sentence after its statement; every `no_library(...)` call also gets the course's
    `helpers`."""
    changes: Dict[str, List[str]] = {}
    where, in_tests, said, used = "", False, True, False
    for cell in notebook.cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(text.split("\n", 1)[1] if "\n" in text else "") or {}
            where = f"{exercise} question {config.get('name', '?')}"
            changes = {key: _policy_names(config.pop(key, []), key, where) for key in POLICY_KEYS}
            changes = {key: names for key, names in changes.items() if names}
            cell.source = "# BEGIN QUESTION\n" + yaml.safe_dump(config, sort_keys=False).strip()
            said, used = not changes, False
        elif cell.cell_type == "raw" and text in ("# BEGIN TESTS", "# END TESTS"):
            in_tests = text == "# BEGIN TESTS"
        elif cell.cell_type == "raw" and text == "# END QUESTION":
            if changes and not used:
                raise BuildError(f"{where}: allow/forbid change what no_library() checks, but no test of it calls "
                                 "no_library()")
            changes = {}
        elif cell.cell_type == "markdown" and not said:
            cell.source = cell.source.rstrip() + "\n\n" + _policy_sentence(changes)
            said = True
        elif cell.cell_type == "code" and in_tests and NO_LIBRARY_CALL.search(cell.source):
            arguments = {**changes, **({"helpers": list(helpers)} if helpers else {})}
            cell.source, used = _with_policy(cell.source, arguments, where) if arguments else cell.source, True
    return notebook


def _policy_names(value: object, key: str, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and DOTTED_NAME.match(v) for v in value):
        raise BuildError(f"{where}: {key}: give a list of dotted names, e.g. [torch.nn.functional.unfold]")
    return value


def _policy_sentence(changes: Dict[str, List[str]]) -> str:
    listed = {key: ", ".join(f"`{name}`" for name in names) for key, names in changes.items()}
    parts = ([f"may also use {listed['allow']}"] if "allow" in listed else []) + \
        ([f"may not use {listed['forbid']}"] if "forbid" in listed else [])
    return "*Beside the list at the top, in this question you " + " and ".join(parts) + ".*"


def _with_policy(test: str, changes: Dict[str, List[str]], where: str) -> str:
    if re.search(r"\bno_library\([^)]*\b(allow|forbid)\s*=", test):
        raise BuildError(f"{where}: a test passes allow= or forbid= to no_library(); say them once, in the "
                         "question's YAML")
    if re.search(r"\bno_library\([^)]*\bhelpers\s*=", test):
        raise BuildError(f"{where}: a test passes helpers= to no_library(); say them once, in course.yaml")
    arguments = ", ".join(f"{key}={tuple(names)!r}" for key, names in changes.items())
    return NO_LIBRARY_CALL.sub(lambda m: f"no_library({arguments})" if m.group(1) else f"no_library({arguments}, ",
                               test)


def with_starters(source: str) -> str:
    """Replace each line `# STARTER name` by `grading/source/_starter/name.py`: starter code written once."""
    def starter(match: re.Match) -> str:
        path = STARTERS / f"{match.group(1)}.py"
        if not path.is_file():
            raise BuildError(f"no starter {match.group(1)!r}: expected {path.relative_to(ROOT)}")
        return path.read_text().strip("\n")
    return STARTER_LINE.sub(starter, source)


def _parse_tests(question: str, test_file: str) -> Tuple[float, List[dict]]:
    """otter's exception-based test file -> (question points, [{name, hidden, points, source}])."""
    tree = ast.parse(test_file)
    points: Optional[float] = None
    tests = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["points"]:
            points = float(ast.literal_eval(node.value))
        if isinstance(node, ast.FunctionDef):
            decorator = node.decorator_list[0]
            options = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
            function = copy.copy(node)
            function.decorator_list = []
            tests.append({"name": node.name, "hidden": bool(options.get("hidden")), "source": ast.unparse(function)})
    if points is None or not tests:
        raise BuildError(f"question {question} has no points or no tests")
    names = [t["name"] for t in tests]
    if len(set(names)) != len(names):
        raise BuildError(f"question {question} has two tests with the same name")
    for test in tests:
        test["points"] = points / len(tests)
    return points, tests


def _cell_id(name: str, kind: str, index: int) -> str:
    return f"{name[:2]}-{kind}-{index:02d}"


def _finish(notebook: nbformat.NotebookNode, name: str, kind: str,
            tests: Optional[dict]) -> nbformat.NotebookNode:
    """Deterministic ids, no outputs or stray metadata, the book's and MyST-NB's metadata, the public tests."""
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = _cell_id(name, kind, index)
        keep = {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags", "deletable", "editable")}
        if kind == "sol":   # otter's tags mean nothing without otter
            keep = {k: v for k, v in keep.items() if k != "tags"}
        cell["metadata"] = keep
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"] = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "book": {"exercise": name, **({"solution": True} if kind == "sol" else {})},
        "mystnb": {"execution_mode": "off"},
    }
    if tests is not None:
        notebook["metadata"]["otter"] = {"OK_FORMAT": False, "tests": tests}
    return notebook


def _strip_markers(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            lines = [SOLUTION_SUFFIX.sub("", line) for line in cell.source.split("\n") if not MARKER_LINE.match(line)]
            cell["source"] = "\n".join(lines)
    return notebook


def _without_otter(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A worked solution needs no checker: the grading tests prove it scores full marks (and otter costs seconds)."""
    notebook.cells = [c for c in notebook.cells if not (c.cell_type == "code" and _is_otter_cell(c.source))]
    return notebook


def _title_first(student: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Open on the exercise's title, not on otter's set-up cell, and keep that plumbing off the published page."""
    cells = student.cells
    if len(cells) > 1 and cells[0].cell_type == "code" and _is_otter_cell(cells[0].source):
        setup = cells.pop(0)
        setup.metadata.setdefault("tags", []).append("remove-cell")
        cells.insert(1, setup)
    return student


def _found_when_renamed(student: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """otter's checks read the notebook's own file: a browser's download may have renamed it (`NAME (1).ipynb`,
    `Copy of NAME.ipynb`), so the set-up cell asks `notebook_path` which file this kernel runs."""
    for cell in student.cells:
        if cell.cell_type == "code" and cell.source.startswith("# Initialize Otter"):
            cell.source = cell.source.replace(f'otter.Notebook("{name}.ipynb")',
                                              f'otter.Notebook(notebook_path("{name}"))')
            cell.source = cell.source.replace("import otter\n", "import otter\nfrom grading.checks import notebook_path\n")
    return student


def _with_install_cell(student: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A handout downloaded from the site runs where nothing installed `book`, `grading` or otter: it gets the
    install cell of tools/install_cell.py (which `make book` runs, to follow repository.url) before otter's set-up.
    Added after the ids are numbered, so every other cell keeps its id."""
    spec = importlib.util.spec_from_file_location("install_cell", ROOT / "tools" / "install_cell.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return nbformat.reads(tool.dumps(tool.with_install_cell(student, tool.repository_source())), as_version=4)


def _human(test_name: str) -> str:
    return test_name.removeprefix("test_").replace("_", " ")


def _with_what_hidden_tests_check(public: Dict[str, str], every: Dict[str, str]) -> Dict[str, str]:
    """Each question's public tests, the last one telling a student whose public tests pass what the grader's
    hidden tests also check (their names, never their inputs or values), so "passed" promises no more than it can."""
    result = {}
    for question, test_file in public.items():
        hidden = [t["name"] for t in _parse_tests(question, every[question])[1] if t["hidden"]]
        rules = "; ".join(_human(n) for n in hidden)
        message = (f"These are the public tests only. When graded, {len(hidden)} hidden test(s) also check: {rules}"
                   if hidden else "The graded tests are these public ones.")
        if "no_library(" in every[question]:
            message += ("; and that the answer, and what it calls, uses only what the question allows (grading "
                        "reads your definitions, not the rest of the notebook).")
        decorators = list(re.finditer(r"^@test_case\((.*)\)$", test_file, re.MULTILINE))
        if not decorators:
            raise BuildError(f"question {question}'s public test file has no @test_case line")
        last = decorators[-1]
        result[question] = (test_file[:last.start()] + f"@test_case({last.group(1)}, success_message={message!r})" +
                            test_file[last.end():])
    return result


def _is_otter_cell(source: str) -> bool:
    return bool(re.fullmatch(r'\s*grader\.check\("\w+"\)\s*', source)) or source.startswith("# Initialize Otter")


def _question_cells(student: nbformat.NotebookNode, questions: List[str]) -> Dict[str, List[str]]:
    """The ids of the code cells that belong to each question: those before its `grader.check` cell."""
    owned: Dict[str, List[str]] = {}
    pending: List[str] = []
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        match = re.fullmatch(r'\s*grader\.check\("(\w+)"\)\s*', cell.source)
        if match and match.group(1) in questions:
            owned[match.group(1)] = pending
            pending = []
        elif "otter" not in cell.source:
            pending.append(cell.id)
    if set(owned) != set(questions):
        raise BuildError(f"questions without a check cell: {sorted(set(questions) - set(owned))}")
    return owned


def generate(name: str, path: Optional[Path] = None,
             course: Optional[Course] = None) -> Tuple[nbformat.NotebookNode, nbformat.NotebookNode, dict]:
    """The student notebook, the solution notebook and the grader's material (without reference values), from
    `path` (default: grading/source/NAME.py) and the course's declaration (default: grading/source/course.yaml)."""
    path = path or SOURCES / f"{name}.py"
    course = course or read_course()
    student, autograder = _otter_assign(name, _read_source(path, course))
    all_tests = autograder["metadata"]["otter"]["tests"]
    public_tests = student["metadata"].get("otter", {}).get("tests", {})
    exercise = _with_install_cell(_finish(_title_first(_found_when_renamed(student, name)), name, "ex",
                                          _with_what_hidden_tests_check(public_tests, all_tests)))
    solution = _finish(_without_otter(_strip_markers(copy.deepcopy(autograder))), name, "sol", None)
    questions = []
    cells = _question_cells(exercise, list(all_tests))   # in the notebook's order
    for question in cells:
        points, tests = _parse_tests(question, all_tests[question])
        questions.append({"name": question, "points": points, "cell_ids": cells[question], "tests": tests})
    material = {"exercise": name, "source": f"grading/source/{name}.py",
                "source_sha256": _digest(path.read_text()), "questions": questions,
                "sandbox": {key: value for key, value in dataclasses.asdict(course.sandbox).items() if value}}
    _check_no_leaks(name, exercise, material, autograder)
    return exercise, solution, material


def _check_no_leaks(name: str, exercise: nbformat.NotebookNode, material: dict,
                    autograder: nbformat.NotebookNode) -> None:
    """No hidden test and no solution line may reach the student's notebook."""
    text = nbformat.writes(exercise)
    for question in material["questions"]:
        if len([t for t in question["tests"] if not t["hidden"]]) == 0:
            raise BuildError(f"{name} {question['name']}: give it at least one public test for immediate feedback")
        for test in question["tests"]:
            if test["hidden"] and f"def {test['name']}(" in text:
                raise BuildError(f"{name}: hidden test {test['name']} leaked into the exercise")
    block = re.compile(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", flags=re.S)
    given = {line.strip() for cell in autograder.cells for line in block.sub("", cell.source).split("\n")}
    for cell in autograder.cells:
        for solution in block.findall(cell.source):
            for line in solution.strip().split("\n"):
                if len(line.strip()) > 12 and line.strip() not in given and line.strip() in text:
                    raise BuildError(f"{name}: the solution line {line.strip()!r} leaked into the exercise")


def record_reference(material: dict, solution: nbformat.NotebookNode, limits: Limits) -> dict:
    """Run the solution and every test in the sandbox; keep what each test recorded; fail if any test fails."""
    exercise = exercise_from_material(material)
    cells = [{"id": c.id, "source": c.source} for c in solution.cells if c.cell_type == "code"]
    run = _reference_run(cells, exercise.jobs(), limits, exercise.sandbox)
    problems = [f"{e['message']}" for e in run.events if e.get("event") == "cell" and e["status"] != "ok"]
    reference: Dict[str, Dict[str, list]] = {}
    for event in run.events:
        if event.get("event") != "test":
            continue
        if event["status"] != "ran":
            problems.append(f"{event['question']}/{event['test']}: {event['status']}: {event['message']}")
            continue
        for record in event["records"]:
            problems += _record_problems(event, record)
        reference.setdefault(event["question"], {})[event["test"]] = event["records"]
    expected = {(t["question"], t["name"]) for t in exercise.jobs()}
    missing = expected - {(q, t) for q, tests in reference.items() for t in tests}
    if missing and not problems:
        problems.append(f"tests never reported: {sorted(missing)} (log: {run.log_tail[-500:]})")
    if problems:
        raise BuildError(f"{material['exercise']}: the reference solution does not pass: " + " | ".join(problems))
    return reference


def _reference_run(cells: List[dict], jobs: List[dict], limits: Limits, declared: SandboxDeclaration):
    """The worked solution is the book's own code: run it in the sandbox where one can be made, else unsandboxed,
    so that an author on macOS can still build (grading itself never falls back silently). It reads the data folder's
    withheld files too: what its tests record from them is what the grader judges with."""
    try:
        sandbox = Sandbox.open(declared=declared, reference=True)
    except SandboxUnavailable:
        sandbox = Sandbox.open(unsafe=True, declared=declared, reference=True)
    with sandbox:
        return sandbox.run(cells, jobs, limits)


def _record_problems(event: dict, record: dict) -> List[str]:
    where = f"{event['question']}/{event['test']}"
    if "unsupported" in record:
        return [f"{where}: {record['unsupported']}"]
    value = decode(record["value"])
    if record.get("rule"):
        ok, message = apply_rule(record["rule"], value, decode(record.get("context")))
    elif "expected" in record:
        ok, message = compare(decode(record["expected"]), value, record["atol"], record["rtol"], reveal=True)
    else:
        return []
    return [] if ok else [f"{where}: {message}"]


def _dump(material: dict) -> str:
    return json.dumps(material, indent=1, sort_keys=True) + "\n"


def names(selected: Optional[List[str]] = None) -> List[str]:
    available = sorted(p.stem for p in SOURCES.glob("*.py"))
    unknown = sorted(set(selected or []) - set(available))
    if unknown:
        raise BuildError(f"no source for {unknown}; sources are {available}")
    return selected or available


def build(name: str, limits: Limits) -> None:
    exercise, solution, material = generate(name)
    material["reference"] = record_reference(material, solution, limits)
    EXERCISES.mkdir(exist_ok=True)
    SOLUTIONS.mkdir(exist_ok=True)
    AUTOGRADER.mkdir(parents=True, exist_ok=True)
    nbformat.write(exercise, EXERCISES / f"{name}.ipynb")
    nbformat.write(solution, SOLUTIONS / f"{name}.ipynb")
    (AUTOGRADER / f"{name}.json").write_text(_dump(material))


def stale_files(name: str) -> List[str]:
    """Generated files that differ from what the source gives now (reference values: by the source's digest)."""
    exercise, solution, material = generate(name)
    stale = []
    for path, notebook in ((EXERCISES / f"{name}.ipynb", exercise), (SOLUTIONS / f"{name}.ipynb", solution)):
        if not path.exists() or path.read_text() != nbformat.writes(notebook) + "\n":
            stale.append(str(path.relative_to(ROOT)))
    material_path = AUTOGRADER / f"{name}.json"
    on_disk = json.loads(material_path.read_text()) if material_path.exists() else {}
    on_disk.pop("reference", None)
    if on_disk != json.loads(_dump(material)):
        stale.append(str(material_path.relative_to(ROOT)))
    return stale


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.build", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="exercise names (default: every source in grading/source/)")
    parser.add_argument("--check", action="store_true", help="fail if a generated file is out of date")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for each reference run")
    args = parser.parse_args(argv)
    try:
        selected = names(args.names)
        if args.check:
            stale = [path for name in selected for path in stale_files(name)]
            if stale:
                print(f"out of date (run `python -m grading.build`): {', '.join(stale)}", file=sys.stderr)
                return 1
            print(f"up to date: {', '.join(selected)}")
            return 0
        for name in selected:
            build(name, Limits(timeout=args.timeout))
            print(f"built {name}")
    except BuildError as error:
        print(f"python -m grading.build: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
