"""`python -m grading.gradebook`: who a submission belongs to, one row per student, combining inputs, the three
formats, and its one-line usage errors. Fast: small grades CSVs written with grading.report, the CLI run
in-process; nothing is graded."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest

from grading.gradebook import (CANVAS_STUDENT_COLUMNS, main, read_grades, student_of, unprotect)
from grading.material import UsageError
from grading.report import Row, safe_text, write_csv

pytestmark = pytest.mark.grading
CONV, FC, POOL = "01_convolution_math", "02_fc_to_conv", "06_pooling"
IDS = {CONV, FC, POOL, "03_padding_stride_dilation"}
Capture = pytest.CaptureFixture[str]


def graded(submission: str, exercise: str, *points: float, out_of: float = 2.0) -> List[Row]:
    """One submission's rows, one question per entry of `points`."""
    return [Row(submission, exercise, f"q{i}", p, out_of, "passed" if p == out_of else "failed", "")
            for i, p in enumerate(points, start=1)]


def invalid(submission: str, message: str = "not valid JSON: not a notebook") -> List[Row]:
    return [Row(submission, "", "*", 0.0, 0.0, "invalid", message)]


def grades_csv(path: Path, *submissions: List[Row]) -> Path:
    write_csv([row for rows in submissions for row in rows], path)
    return path


def read_table(path: Path) -> List[List[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def as_dicts(table: List[List[str]]) -> Dict[str, Dict[str, str]]:
    """The plain gradebook, by student."""
    header, *rows = table
    return {row[0]: dict(zip(header, row)) for row in rows}


def run(capsys: Capture, *argv: str) -> Tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------------------------------------------
# Who a submission belongs to
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("submission, student", [
    ("submissions/alice/01_convolution_math.ipynb", "alice"),          # folder per student
    ("alice/01_convolution_math.ipynb", "alice"),
    ("./submissions/alice/01_convolution_math.ipynb", "alice"),
    ("submissions/alice/01_convolution_math-1.ipynb", "alice"),        # Canvas's resubmission suffix
    ("submissions/alice/01_convolution_math (1).ipynb", "alice"),      # a browser's second download
    ("submissions/alice/01_convolution_math-2 (1).ipynb", "alice"),
    ("/home/ta/batch/Alice Smith/01_convolution_math.ipynb", "Alice Smith"),
    ("submissions/bob_01_convolution_math.ipynb", "bob"),               # student in the file name
    ("submissions/bob-01_convolution_math.ipynb", "bob"),
    ("submissions/bob 01_convolution_math (1).ipynb", "bob"),
    ("submissions/bob_smith_01_convolution_math.ipynb", "bob_smith"),
    ("submissions/01_convolution_math_carol.ipynb", "carol"),           # ... after the exercise id
    ("submissions/dave.ipynb", "dave"),                                 # no exercise id in the name
    ("submissions/dave (2).ipynb", "dave"),
    ("submissions/team-2.ipynb", "team-2"),                             # ... so `-2` is no copy suffix
    ("submissions/lastnamefirstname_12345_67890_01_convolution_math.ipynb", "lastnamefirstname"),   # Canvas
    ("submissions/lastnamefirstname_12345_67890_01_convolution_math-1.ipynb", "lastnamefirstname"),
    ("submissions/lastnamefirstname_late_12345_67890_01_convolution_math.ipynb", "lastnamefirstname"),
    ("submissions/smithjo_12345_67890_homework.ipynb", "smithjo"),      # Canvas, renamed notebook
    ("submissions/Alice Smith_123_assignsubmission_file_01_convolution_math.ipynb", "Alice Smith"),   # Moodle
    ("submissions/Alice Smith_123_assignsubmission_file_/01_convolution_math.ipynb", "Alice Smith"),
    ("submissions/erin/02_fc_to_conv.ipynb", "erin"),                   # another exercise id
    ("submissions/frank/03_padding_stride_dilation.ipynb", "frank"),
    ("'=HYPERLINK(\"evil\")/01_convolution_math.ipynb", "=HYPERLINK(\"evil\")"),   # protection undone
    ("''quoted/01_convolution_math.ipynb", "'quoted"),                  # ... exactly once
    ("01_convolution_math.ipynb", ""),                                  # no folder, no name: nobody
])
def test_student_of_reads_each_layout(submission: str, student: str) -> None:
    assert student_of(submission, IDS) == student


def test_unprotect_undoes_exactly_what_safe_text_adds() -> None:
    for text in ["=1+1", "+x", "-x", "@x", "'x", "''x", " =x", "alice", "a'b", "submissions/=x/01.ipynb"]:
        assert unprotect(safe_text(text)) == text
    assert unprotect("\\t-x") == "\\t-x"   # an escape the grader wrote stays as written


# ---------------------------------------------------------------------------------------------------------------
# One row per student
# ---------------------------------------------------------------------------------------------------------------

def test_one_row_per_student_with_points_totals_and_missing(tmp_path: Path, capsys: Capture) -> None:
    grades = grades_csv(tmp_path / "grades.csv",
                        graded("submissions/alice/01_convolution_math.ipynb", CONV, 2, 1, 0.5),
                        graded("submissions/alice/02_fc_to_conv.ipynb", FC, 2, 2),
                        graded("submissions/bob_01_convolution_math.ipynb", CONV, 0, 2, 2),
                        graded("submissions/bob_02_fc_to_conv.ipynb", FC, 1, 0),
                        graded("submissions/carol/02_fc_to_conv (1).ipynb", FC, 2, 1))
    code, out, err = run(capsys, str(grades), "--out", str(tmp_path / "gradebook.csv"))
    assert code == 0, err
    table = read_table(tmp_path / "gradebook.csv")
    assert table[0] == ["student", CONV, FC, "total", "max_total", "missing", "notes"]
    book = as_dicts(table)
    assert list(book) == ["alice", "bob", "carol"]
    assert [book["alice"][CONV], book["alice"][FC], book["alice"]["total"]] == ["3.5", "4", "7.5"]
    assert [book["bob"][CONV], book["bob"][FC], book["bob"]["total"]] == ["4", "1", "5"]
    assert all(row["max_total"] == "10" for row in book.values())   # 6 + 4: every exercise, submitted or not
    assert book["carol"][CONV] == "" and book["carol"]["missing"] == CONV   # empty, never 0
    assert book["carol"]["total"] == "3" and book["alice"]["missing"] == ""
    assert "3 student(s), 2 exercise(s)" in out


def test_an_unreadable_file_counts_as_a_submission_with_zero_points_and_a_note(tmp_path: Path, capsys: Capture) -> None:
    grades = grades_csv(tmp_path / "grades.csv",
                        graded("submissions/alice/01_convolution_math.ipynb", CONV, 2, 2),
                        invalid("submissions/bob/01_convolution_math.ipynb", "the file is empty"),
                        invalid("submissions/carol/notes.ipynb"))
    code, out, err = run(capsys, str(grades), "--out", str(tmp_path / "book.csv"))
    assert code == 0, err
    book = as_dicts(read_table(tmp_path / "book.csv"))
    assert book["bob"][CONV] == "0" and book["bob"]["missing"] == ""
    assert "invalid" in book["bob"]["notes"] and "the file is empty" in book["bob"]["notes"]
    # A file of no recognisable exercise still shows its student, with a note, and no points anywhere.
    assert book["carol"][CONV] == "" and "unknown exercise: invalid" in book["carol"]["notes"]
    assert "bob: 01_convolution_math: invalid" in out


def test_review_rows_are_noted(tmp_path: Path, capsys: Capture) -> None:
    rows = graded("submissions/alice/01_convolution_math.ipynb", CONV, 2, 2)
    rows.append(Row(rows[0].submission, CONV, "q3", 0.0, 2.0, "review", "untraced call"))
    grades = grades_csv(tmp_path / "grades.csv", rows)
    assert run(capsys, str(grades), "--out", str(tmp_path / "book.csv"))[0] == 0
    alice = as_dicts(read_table(tmp_path / "book.csv"))["alice"]
    assert alice[CONV] == "4" and alice["max_total"] == "6" and "1 question(s) need review" in alice["notes"]


@pytest.mark.parametrize("reverse", [False, True])
def test_two_files_of_one_student_and_exercise_in_one_input_count_once(tmp_path: Path, capsys: Capture,
                                                                       reverse: bool) -> None:
    files = [graded("submissions/alice/01_convolution_math.ipynb", CONV, 1, 1),
             graded("submissions/alice/01_convolution_math (1).ipynb", CONV, 2, 2),
             invalid("submissions/alice/01_convolution_math-2.ipynb")]
    grades = grades_csv(tmp_path / "grades.csv", *(files[::-1] if reverse else files))
    assert run(capsys, str(grades), "--out", str(tmp_path / "book.csv"))[0] == 0
    alice = as_dicts(read_table(tmp_path / "book.csv"))["alice"]
    # Never summed (6 of 4), never the unreadable copy's 0, whatever the files' order.
    assert alice[CONV] == "4" and alice["notes"].count("several files; counted submissions/alice/01_convolution_"
                                                       "math (1).ipynb") == 2


# ---------------------------------------------------------------------------------------------------------------
# Several inputs
# ---------------------------------------------------------------------------------------------------------------

def test_two_batches_combine_into_one_gradebook(tmp_path: Path, capsys: Capture) -> None:
    first = grades_csv(tmp_path / "conv.csv", graded("batch1/alice/01_convolution_math.ipynb", CONV, 2),
                       graded("batch1/bob/01_convolution_math.ipynb", CONV, 1))
    second = grades_csv(tmp_path / "pool.csv", graded("batch2/alice_06_pooling.ipynb", POOL, 2, 2),
                        graded("batch2/dave_06_pooling.ipynb", POOL, 0, 1))
    assert run(capsys, str(first), str(second), "--out", str(tmp_path / "book.csv"))[0] == 0
    table = read_table(tmp_path / "book.csv")
    assert table[0][1:3] == [CONV, POOL]
    book = as_dicts(table)
    assert [book["alice"][CONV], book["alice"][POOL], book["alice"]["total"]] == ["2", "4", "6"]
    assert book["bob"]["missing"] == POOL and book["dave"]["missing"] == CONV and book["dave"][POOL] == "1"


def test_the_later_input_wins(tmp_path: Path, capsys: Capture) -> None:
    batch = grades_csv(tmp_path / "batch.csv", graded("s/alice/01_convolution_math.ipynb", CONV, 0, 0),
                       graded("s/bob/01_convolution_math.ipynb", CONV, 2, 2))
    regrade = grades_csv(tmp_path / "regrade.csv", graded("regrade/alice_01_convolution_math.ipynb", CONV, 2, 1))
    assert run(capsys, str(batch), str(regrade), "--out", str(tmp_path / "book.csv"))[0] == 0
    book = as_dicts(read_table(tmp_path / "book.csv"))
    assert book["alice"][CONV] == "3" and book["bob"][CONV] == "4"
    assert run(capsys, str(regrade), str(batch), "--out", str(tmp_path / "book.csv"))[0] == 0
    assert as_dicts(read_table(tmp_path / "book.csv"))["alice"][CONV] == "0"


def test_a_regrade_of_an_unreadable_file_replaces_its_note(tmp_path: Path, capsys: Capture) -> None:
    batch = grades_csv(tmp_path / "batch.csv", invalid("s/alice/notes.ipynb"),
                       graded("s/bob/01_convolution_math.ipynb", CONV, 1))   # s/ holds student folders
    regrade = grades_csv(tmp_path / "regrade.csv", graded("s/alice/notes.ipynb", CONV, 2))
    assert run(capsys, str(batch), "--out", str(tmp_path / "book.csv"))[0] == 0
    assert "unknown exercise: invalid" in as_dicts(read_table(tmp_path / "book.csv"))["alice"]["notes"]
    assert run(capsys, str(batch), str(regrade), "--out", str(tmp_path / "book.csv"))[0] == 0
    book = as_dicts(read_table(tmp_path / "book.csv"))
    assert list(book) == ["alice", "bob"] and book["alice"][CONV] == "2" and book["alice"]["notes"] == ""


def test_an_exercise_with_only_unreadable_files_takes_its_maximum_from_material(tmp_path: Path,
                                                                                capsys: Capture) -> None:
    material = tmp_path / "material"
    material.mkdir()
    question = {"name": "q1", "points": 5, "tests": []}
    (material / "04_channels.json").write_text(json.dumps({"exercise": "04_channels", "questions": [question]}))
    grades = grades_csv(tmp_path / "grades.csv", graded("s/alice/01_convolution_math.ipynb", CONV, 2),
                        invalid("s/bob/04_channels (1).ipynb"))
    out = tmp_path / "canvas.csv"
    assert run(capsys, str(grades), "--out", str(out), "--format", "canvas", "--material", str(material))[0] == 0
    header, points_possible, alice, bob = read_table(out)
    assert header[5:] == [CONV, "04_channels"] and points_possible[5:] == ["2", "5"]
    assert alice[5:] == ["2", ""] and bob[5:] == ["", "0"]


# ---------------------------------------------------------------------------------------------------------------
# Formats and safety
# ---------------------------------------------------------------------------------------------------------------

def two_students(tmp_path: Path) -> Path:
    return grades_csv(tmp_path / "grades.csv",
                      graded("s/alice/01_convolution_math.ipynb", CONV, 2, 1),
                      graded("s/alice/02_fc_to_conv.ipynb", FC, 1, out_of=3.0),
                      graded("s/bob/02_fc_to_conv.ipynb", FC, 3, out_of=3.0))


def test_canvas_format_has_its_leading_columns_points_possible_and_no_total(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "canvas.csv"
    assert run(capsys, str(two_students(tmp_path)), "--out", str(out), "--format", "canvas")[0] == 0
    header, points_possible, *students = read_table(out)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CONV, FC] == \
        [*CANVAS_STUDENT_COLUMNS, CONV, FC]
    assert points_possible[0].strip() == "Points Possible" and points_possible[1:] == ["", "", "", "", "4", "3"]
    assert students == [["alice", "", "", "alice", "", "3", "1"], ["bob", "", "", "bob", "", "", "3"]]


def test_moodle_format_starts_with_username_and_has_plain_numbers(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "moodle.csv"
    assert run(capsys, str(two_students(tmp_path)), "--out", str(out), "--format", "moodle")[0] == 0
    assert read_table(out) == [["Username", CONV, FC], ["alice", "3", "1"], ["bob", "", "3"]]


def test_every_field_is_quoted(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "book.csv"
    assert run(capsys, str(two_students(tmp_path)), "--out", str(out))[0] == 0
    first_line = out.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith('"student","01_convolution_math"')


@pytest.mark.parametrize("fmt", ["plain", "canvas", "moodle"])
def test_formula_like_student_names_come_out_inert(tmp_path: Path, capsys: Capture, fmt: str) -> None:
    name = '=HYPERLINK("http:evil.example","click")'
    grades = grades_csv(tmp_path / "grades.csv",    # the grader wrote these paths protected: '=..., '@...
                        graded(f"{name}/01_convolution_math.ipynb", CONV, 2),
                        graded(f"{name}/02_fc_to_conv.ipynb", FC, 1),
                        graded("@SUM(1+1)/01_convolution_math.ipynb", CONV, 1))
    assert read_grades(grades)[0].submission.startswith("=")   # protection undone on reading ...
    out = tmp_path / "book.csv"
    assert run(capsys, str(grades), "--out", str(out), "--format", fmt)[0] == 0
    cells = [cell for row in read_table(out) for cell in row]
    assert f"'{name}" in cells and "'@SUM(1+1)" in cells    # ... and applied again on writing, once
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    rows = [row for row in read_table(out) if row[0] == f"'{name}"]
    assert len(rows) == 1   # one student, whose two files both count


# ---------------------------------------------------------------------------------------------------------------
# Usage errors: one line, exit 2, nothing written, no input touched
# ---------------------------------------------------------------------------------------------------------------

def error_of(capsys: Capture, argv: Sequence[str]) -> str:
    with pytest.raises(SystemExit) as raised:   # argparse's own errors exit from within
        code = main(list(argv))
        raise SystemExit(code)
    err = capsys.readouterr().err
    assert raised.value.code == 2 and err.count("\n") == 1, err
    return err


def test_a_missing_input_is_a_usage_error(tmp_path: Path, capsys: Capture) -> None:
    err = error_of(capsys, [str(tmp_path / "nope.csv"), "--out", str(tmp_path / "book.csv")])
    assert "no such file" in err and "nope.csv" in err and not (tmp_path / "book.csv").exists()


@pytest.mark.parametrize("content", ["student,points\nalice,3\n", "", "\ufeffsubmission,exercise\n"])
def test_a_csv_with_the_wrong_header_is_a_usage_error(tmp_path: Path, capsys: Capture, content: str) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(content, encoding="utf-8")
    err = error_of(capsys, [str(wrong), "--out", str(tmp_path / "book.csv")])
    assert "not a grades CSV" in err and "submission,exercise,question" in err


def test_a_malformed_number_is_a_usage_error(tmp_path: Path, capsys: Capture) -> None:
    grades = grades_csv(tmp_path / "grades.csv", graded("s/alice/01_convolution_math.ipynb", CONV, 2))
    grades.write_text(grades.read_text(encoding="utf-8").replace('"2","2"', '"two","2"'), encoding="utf-8")
    assert "line 2: points" in error_of(capsys, [str(grades), "--out", str(tmp_path / "book.csv")])
    with pytest.raises(UsageError):
        read_grades(grades)


def test_out_equal_to_an_input_is_refused_and_the_input_kept(tmp_path: Path, capsys: Capture) -> None:
    grades = grades_csv(tmp_path / "grades.csv", graded("s/alice/01_convolution_math.ipynb", CONV, 2))
    before = grades.read_bytes()
    for out in [str(grades), str(tmp_path / "." / "grades.csv")]:
        err = error_of(capsys, [str(grades), "--out", out])
        assert "is also an input" in err and "gradebook.csv" in err
    (tmp_path / "link.csv").symlink_to(grades)
    assert "is also an input" in error_of(capsys, [str(grades), "--out", str(tmp_path / "link.csv")])
    assert grades.read_bytes() == before


@pytest.mark.parametrize("argv, fragment", [
    (["--format", "excel"], "invalid choice: 'excel'"),
    ([], "--out"),
])
def test_a_bad_option_is_a_one_line_usage_error(tmp_path: Path, capsys: Capture, argv: List[str],
                                                fragment: str) -> None:
    grades = grades_csv(tmp_path / "grades.csv", graded("s/alice/01_convolution_math.ipynb", CONV, 2))
    out = ["--out", str(tmp_path / "book.csv")] if argv else []
    err = error_of(capsys, [str(grades), *out, *argv])
    assert fragment in err and "see --help" in err


def test_out_in_a_missing_directory_is_a_usage_error(tmp_path: Path, capsys: Capture) -> None:
    grades = grades_csv(tmp_path / "grades.csv", graded("s/alice/01_convolution_math.ipynb", CONV, 2))
    assert "does not exist" in error_of(capsys, [str(grades), "--out", str(tmp_path / "no" / "book.csv")])


def test_help_says_the_later_input_wins(capsys: Capture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "later input on the command line wins" in " ".join(capsys.readouterr().out.split())
