"""After the grades, end to end as an instructor runs it: grade with feedback and a report, review, gradebook.

One batch of four students (worked solutions, a catalogued wrong answer, an answer that goes to review) through
the real command lines: every submission gets a feedback page that holds no hidden value, the review desk changes
exactly the row decided, and the Canvas gradebook has one row per student with the final CSV's totals.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT
from test_grade import csv_rows, grade_command
from test_wrong_answers import _catalogue, _with_answer

pytestmark = [pytest.mark.slow, pytest.mark.grading]
FIRST, SECOND = "01_convolution_math", "02_fc_to_conv"
REVIEWED = ("def corr2d(X, K):\n    h, w = K.shape\n    reduce = 'su' + 'm'   # a name made at run time: a person looks\n"
            "    return torch.stack([torch.stack([getattr(X[i:i + h, j:j + w] * K, reduce)()\n"
            "                                     for j in range(X.shape[1] - w + 1)])\n"
            "                        for i in range(X.shape[0] - h + 1)])")


def _solution(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def graded(sandbox_works, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("course")
    submissions = folder / "submissions"
    wrong = next(iter(_catalogue(FIRST)["WRONG"]["corr2d"].values()))
    notebooks = {("alice", FIRST): _solution(FIRST), ("alice", SECOND): _solution(SECOND),
                 ("bob", FIRST): _with_answer(_solution(FIRST), wrong),
                 ("carol", FIRST): _with_answer(_solution(FIRST), REVIEWED)}
    for (student, exercise), notebook in notebooks.items():
        (submissions / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, submissions / student / f"{exercise}.ipynb")
    out = folder / "grades.csv"
    result = grade_command([str(submissions)], out, "--jobs", "2", "--feedback", str(folder / "feedback"),
                           "--report", str(folder / "report.html"))
    assert result.returncode == 0, result.stderr
    return {"folder": folder, "submissions": submissions, "out": out, "rows": csv_rows(out), "stdout": result.stdout}


def _cli(module: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *arguments], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_every_submission_has_a_feedback_page_without_hidden_values(graded) -> None:
    pages = sorted((graded["folder"] / "feedback").glob("*.html"))
    assert len(pages) == 4 and len(list((graded["folder"] / "feedback").glob("*.md"))) == 4
    hidden = []
    for material in (ROOT / "grading" / "autograder").glob("*.json"):
        data = json.loads(material.read_text())
        for question in data["questions"]:
            for test in question["tests"]:
                if test["hidden"]:
                    hidden += [line.strip() for line in test["source"].splitlines()[1:] if len(line.strip()) >= 16]
                    hidden += [json.dumps(r.get("value")) for r in data["reference"][question["name"]][test["name"]]
                               if len(json.dumps(r.get("value"))) >= 12]
    for page in pages:
        text = page.read_text()
        assert not [secret for secret in hidden if secret in text], page.name
    carol = next(p for p in pages if "carol" in p.name)
    assert "needs review" in carol.read_text() and "getattr" in carol.read_text()


def test_the_report_is_written_and_named_in_the_summary(graded) -> None:
    report = (graded["folder"] / "report.html").read_text()
    assert "<img" in report and "Review queue" in report and "http://" not in report.replace("http://www.w3.org", "")
    assert "class report" in graded["stdout"] and "python -m grading.review" in graded["stdout"]


def test_a_review_decision_changes_exactly_its_row_and_the_gradebook_follows(graded) -> None:
    out, folder = graded["out"], graded["folder"]
    [review] = [r for r in graded["rows"] if r["status"] == "review" and r["question"] == "corr2d"]
    decided = _cli("grading.review", str(out), str(graded["submissions"]), "--decide", review["submission"],
                   review["question"], "accept", "--note", "a helper of the student's own, found by name")
    assert decided.returncode == 0, decided.stderr
    final = csv_rows(folder / "grades.final.csv")
    changed = [(before, after) for before, after in zip(graded["rows"], final) if before != after]
    assert len(final) == len(graded["rows"]) and len(changed) == 1
    assert changed[0][1]["status"] == "passed" and changed[0][1]["points"] == review["max_points"]
    book = folder / "gradebook.csv"
    made = _cli("grading.gradebook", str(folder / "grades.final.csv"), "--out", str(book), "--format", "canvas")
    assert made.returncode == 0, made.stderr
    with open(book, newline="", encoding="utf-8") as file:
        table = list(csv.reader(file))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    students = {row[0]: row for row in table[2:]}   # the second row is Canvas's Points Possible
    assert sorted(students) == ["alice", "bob", "carol"]
    column = table[0].index(FIRST)
    for student, row in students.items():
        total = sum(float(r["points"]) for r in final if f"/{student}/" in r["submission"] and r["exercise"] == FIRST)
        assert float(row[column]) == pytest.approx(total), student
    assert students["bob"][table[0].index(SECOND)] == ""   # no submission: an empty cell, not 0
