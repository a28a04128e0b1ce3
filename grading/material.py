"""Reading the material: the grader's tests and reference values, and the submitted notebooks.

Everything here runs in the grader's own process and treats every submitted byte as hostile: a file is opened
without following symbolic links, only if it is a regular file under the size limit, and every field of the JSON is
type-checked before use.
"""
from __future__ import annotations

import ast
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from grading.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = ROOT / "grading" / "autograder"
MAX_NOTEBOOK_BYTES = 20 << 20
# The grader scans a notebook's code before it runs, one submission at a time, and the scan's cost grows with the
# code (seconds per MiB for the worst shapes): a submission's code cells may hold at most this many characters,
# about a hundred times what any worked solution needs, so no file can hold up its classmates' grading.
MAX_CODE_CHARS = 256 << 10
MAX_CODE_CELLS = 2_000   # and each cell costs the scan a little of its own


class UsageError(Exception):
    """A problem with the command line itself (reported in one line, exit status 2)."""


@dataclass(frozen=True)
class Test:
    name: str
    hidden: bool
    points: float
    source: str


@dataclass(frozen=True)
class Question:
    name: str
    points: float
    tests: Tuple[Test, ...]
    cell_ids: Tuple[str, ...]
    forbids_library: bool = False   # a test wraps the student's code in `no_library()`
    forbids_autograd: bool = False  # ... in `no_library(autograd=True)`
    allow: Tuple[str, ...] = ()     # what the question's tests add to the policy's allow-list ...
    forbid: Tuple[str, ...] = ()    # ... and take away from it (`no_library(allow=..., forbid=...)`)

    @property
    def policy(self) -> Policy:
        return Policy(autograd=self.forbids_autograd, allow=self.allow, forbid=self.forbid)


@dataclass(frozen=True)
class SandboxDeclaration:
    """What the course's material says the sandbox must make readable, besides the interpreter and its packages
    (`grading/source/course.yaml`, which `grading.build` writes into every exercise's material as `sandbox`)."""
    package: str = ""        # the course's helper package: the folder importing it by this name finds is bound
    data_variable: str = ""  # the environment variable through which the package finds its data folder ...
    data_folder: str = ""    # ... and the function of no arguments that returns that folder in the grader's process
    # Files of the data folder, relative to it, that a graded run cannot read (test labels a model is judged by);
    # the reference run reads them, so its recorded values, which the grader judges with, may come from them.
    withheld: Tuple[str, ...] = ()

    TEXT = ("package", "data_variable", "data_folder")

    @classmethod
    def from_material(cls, declared: object) -> "SandboxDeclaration":
        withheld = declared.get("withheld", []) if isinstance(declared, dict) else None
        if not isinstance(declared, dict) or not all(type(declared.get(f, "")) is str for f in cls.TEXT) \
                or type(withheld) not in (list, tuple) or not all(type(path) is str for path in withheld):
            raise ValueError("its `sandbox` is not a table of text fields (package, data_variable, data_folder) "
                             "and a list of withheld paths")
        return cls(**{f: declared.get(f, "") for f in cls.TEXT}, withheld=tuple(withheld))


@dataclass(frozen=True)
class Exercise:
    id: str
    questions: Tuple[Question, ...]
    reference: Dict[str, Dict[str, List[dict]]]
    sandbox: SandboxDeclaration = SandboxDeclaration()

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)

    def jobs(self) -> List[dict]:
        return [{"question": q.name, "name": t.name, "source": t.source} for q in self.questions for t in q.tests]


@dataclass(frozen=True)
class Forbids:
    """What a test's `no_library(...)` calls say: whether it forbids the library, autograd too, and the question's
    own changes to the allow-list (literals, so a student's check and the grader read the same)."""
    library: bool = False
    autograd: bool = False
    allow: Tuple[str, ...] = ()
    forbid: Tuple[str, ...] = ()
    helpers: Tuple[str, ...] = ()


def _literal_names(node: ast.AST) -> Tuple[str, ...]:
    value = ast.literal_eval(node)
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ValueError("no_library's allow=, forbid= and helpers= take a tuple of names")
    return tuple(value)


def forbidden_by(test_source: str) -> Forbids:
    """What the test forbids, read from its `no_library(...)` calls."""
    from grading.forbidden import parse   # ast.parse under the grader's lock: the sandbox calls this from its threads

    found = Forbids()
    for node in ast.walk(parse(test_source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "no_library":
            keywords = {k.arg: k.value for k in node.keywords}
            autograd = "autograd" in keywords and bool(ast.literal_eval(keywords["autograd"]))
            names = {key: _literal_names(keywords[key]) if key in keywords else ()
                     for key in ("allow", "forbid", "helpers")}
            found = Forbids(True, found.autograd or autograd, found.allow + names["allow"],
                            found.forbid + names["forbid"], found.helpers + names["helpers"])
    return found


def helper_modules(tests: Sequence[dict]) -> Tuple[str, ...]:
    """The helper modules the tests' `no_library(helpers=...)` calls name, in order: what the runner's trace counts
    from before any of the submission's code runs."""
    return tuple(dict.fromkeys(name for test in tests for name in forbidden_by(test["source"]).helpers))


def exercise_from_material(material: dict) -> Exercise:
    questions = []
    for q in material["questions"]:
        tests = tuple(Test(t["name"], bool(t["hidden"]), float(t["points"]), t["source"]) for t in q["tests"])
        forbids = [forbidden_by(t.source) for t in tests]
        questions.append(Question(q["name"], float(q["points"]), tests, tuple(q.get("cell_ids", ())),
                                  any(f.library for f in forbids), any(f.autograd for f in forbids),
                                  tuple(dict.fromkeys(n for f in forbids for n in f.allow)),
                                  tuple(dict.fromkeys(n for f in forbids for n in f.forbid))))
    return Exercise(material["exercise"], tuple(questions), material.get("reference", {}),
                    SandboxDeclaration.from_material(material.get("sandbox", {})))


def load_exercises(directory: Path = AUTOGRADER) -> Dict[str, Exercise]:
    """Every exercise's tests and reference values, read into memory before any submission runs."""
    exercises = {}
    if not Path(directory).is_dir():
        raise UsageError(f"no such folder of grader material: {directory}")
    for path in sorted(Path(directory).glob("*.json")):
        try:
            exercise = exercise_from_material(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError, SyntaxError) as error:
            raise UsageError(f"{path} is not grader material ({type(error).__name__}: {error})") from None
        exercises[exercise.id] = exercise
    return exercises


def sandbox_declaration(directory: Path = AUTOGRADER) -> SandboxDeclaration:
    """What the material in `directory` says the sandbox must bind: one declaration for the whole course (none where
    there is no material); UsageError when two exercises say different things."""
    return declared_sandbox(load_exercises(directory) if Path(directory).is_dir() else {})


def declared_sandbox(exercises: Dict[str, Exercise]) -> SandboxDeclaration:
    """The one sandbox the loaded `exercises` declare (an exercise that declares none needs nothing more, and binds
    nothing); UsageError when two exercises declare different ones."""
    declared = {exercise.sandbox: name for name, exercise in exercises.items()
                if exercise.sandbox != SandboxDeclaration()}
    if len(declared) > 1:
        raise UsageError(f"the exercises' material declares different sandboxes ({' and '.join(declared.values())}"
                         "): rebuild every exercise from one course.yaml (python -m grading.build)")
    return next(iter(declared), SandboxDeclaration())


# ---------------------------------------------------------------------------------------------------------------
# Submissions
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Submission:
    path: Path
    exercise: Optional[Exercise] = None
    cells: List[dict] = field(default_factory=list)
    problem: str = ""


def find_submissions(paths: Sequence[str]) -> List[Submission]:
    """Every file under each folder (and each file given), in a stable order, without following links: each
    *.ipynb to grade; any other file (a .pdf, a .py handed in by mistake) with a `problem`, so it gets an `invalid`
    row; hidden files (`.DS_Store`) and `.ipynb_checkpoints` are skipped.

    A symbolic link or a special file inside a folder becomes a Submission with a `problem`, so it gets its own
    `invalid` row and is never read: a link named like a classmate's file must not borrow, or hide, their grade.
    """
    found: List[Submission] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for directory, subdirectories, files in os.walk(path, followlinks=False):
                subdirectories[:] = sorted(d for d in subdirectories if d != ".ipynb_checkpoints"
                                           or os.path.islink(os.path.join(directory, d)))
                for name in sorted(subdirectories):
                    if os.path.islink(os.path.join(directory, name)):
                        found.append(Submission(Path(directory, name), problem="symbolic link, not graded"))
                for name in sorted(files):
                    full = Path(directory, name)
                    if full.is_symlink():
                        found.append(Submission(full, problem="symbolic link, not graded"))
                    elif name.endswith(".ipynb"):
                        found.append(Submission(full))
                    elif not name.startswith("."):   # a hand-in in the wrong form is listed, never dropped
                        kind = full.suffix or "a file without an extension"
                        found.append(Submission(full, problem=f"not a notebook ({kind}): hand in the .ipynb file"))
        elif os.path.lexists(path):
            found.append(Submission(path))
        else:
            raise UsageError(f"no such file or directory: {given}")
    unique: Dict[str, Submission] = {}
    for submission in found:   # the same file named twice on the command line is graded once
        unique.setdefault(os.path.normpath(os.path.abspath(submission.path)), submission)
    return list(unique.values())


def _read_bytes(path: Path) -> bytes:
    """The file's bytes: opened without following a link, a regular file only, at most MAX_NOTEBOOK_BYTES."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"the file is {info.st_size:,} bytes, over the {MAX_NOTEBOOK_BYTES:,}-byte limit")
        return file.read(MAX_NOTEBOOK_BYTES + 1)


def read_submission(submission: Submission, exercises: Dict[str, Exercise]) -> Submission:
    """Parse the notebook and work out which exercise it answers; `problem` says why when it cannot."""
    if submission.problem:
        return submission
    path = submission.path
    try:
        text = _read_bytes(path).decode("utf-8")
        if not text.strip():
            submission.problem = "the file is empty"
            return submission
        notebook = json.loads(text)
    except OSError as error:
        submission.problem = f"cannot read the file: {type(error).__name__}: {error.strerror}"
        return submission
    except UnicodeDecodeError:
        submission.problem = "not UTF-8 text: not a notebook"
        return submission
    except ValueError as error:   # json.JSONDecodeError, or _read_bytes's own refusals
        reason = str(error) if "file" in str(error) else f"not valid JSON ({error}): not a notebook"
        submission.problem = reason
        return submission
    except RecursionError:
        submission.problem = "not valid JSON (nested too deeply): not a notebook"
        return submission
    cells = notebook.get("cells") if type(notebook) is dict else None
    if type(cells) is not list:
        submission.problem = "not a Jupyter notebook (no list of cells)"
        return submission
    for cell in cells:
        if type(cell) is dict and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if type(source) is list and all(type(s) is str for s in source) else source
            if type(source) is str:
                cell_id = cell.get("id") if type(cell.get("id")) is str else None
                submission.cells.append({"id": cell_id, "source": source})
    code = sum(len(cell["source"]) for cell in submission.cells)
    if code > MAX_CODE_CHARS or len(submission.cells) > MAX_CODE_CELLS:
        submission.problem = (f"its {len(submission.cells):,} code cells hold {code:,} characters, over the limit "
                              f"of {MAX_CODE_CELLS:,} cells and {MAX_CODE_CHARS:,} characters for a submission (the "
                              "worked solutions need under 40 cells and 3,000 characters): not graded")
        submission.cells = []
        return submission
    exercise_id, how = _exercise_id(notebook, path, exercises)
    if exercise_id is None:
        submission.problem = how
    else:
        submission.exercise = exercises[exercise_id]
    return submission


def _exercise_id(notebook: dict, path: Path, exercises: Dict[str, Exercise]) -> Tuple[Optional[str], str]:
    metadata = notebook.get("metadata")
    book = metadata.get("book") if type(metadata) is dict else None
    claimed = book.get("exercise") if type(book) is dict else None
    if type(claimed) is str and claimed in exercises:
        return claimed, "metadata"
    if path.stem in exercises:
        return path.stem, "file name"
    matches = [e for e in exercises if e in path.name]
    if len(matches) == 1:
        return matches[0], "file name"
    said = "its metadata names an exercise that does not exist, and " if claimed is not None else ""
    return None, (f"cannot tell which exercise this answers: {said}the file name matches none of "
                  f"{', '.join(sorted(exercises))}")
