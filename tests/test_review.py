"""`python -m grading.review`: listing the grader's `review` rows with the student's code, recording decisions,
and writing the final CSV (decided rows changed, every other row as the grader wrote it, stale decisions refused).

The review messages are the grader's own: `grading.forbidden` scans the notebook's code cells and `verdict` words
the finding, so the cited cell and line positions are the ones a real grading run would cite.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Dict, List

import nbformat
import pytest

from grading.forbidden import Notebook, verdict
from grading.material import Submission, read_submission
from grading.policy import Policy
from grading.report import COLUMNS, Row, write_csv
from grading.review import main

pytestmark = pytest.mark.grading

ALICE = "subs/alice.ipynb"
BOB = "subs/bob.ipynb"
# Two blank lines first: IPython drops them before the scan parses the cell, so the scan's line 3 is line 5 here.
FLAGGED_CELL = '\n\ndef conv(x):\n    name = "relu"\n    y = getattr(torch, name)(x)\n    return eval("y")\n'


def notebook(path: Path, code: List[str]) -> None:
    """A notebook with a markdown cell before each code cell: the grader counts code cells only."""
    book = nbformat.v4.new_notebook()
    for source in code:
        book.cells += [nbformat.v4.new_markdown_cell("Some text"), nbformat.v4.new_code_cell(source)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(book, str(path))


def review_message(path: Path, names: List[str], alone: str) -> str:
    """What the grader writes for this notebook's answer `names`: the scan's findings, then the tests' points."""
    cells = read_submission(Submission(path), {}).cells
    found = verdict(Notebook(cells).answer(Policy(autograd=True), names).findings)
    assert found is not None and found[0] == "review"
    return f"{found[1]}; tests alone would give {alone}"


def read_rows(path: Path) -> List[List[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dict[str, object]:
    """subs/ with two notebooks and grades.csv: alice's q2 and bob's q1 go to review, the rest are ordinary rows
    (one whose field the grader quoted against spreadsheets, which must come back byte for byte)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "tester")
    notebook(tmp_path / ALICE, ["import torch", FLAGGED_CELL])
    notebook(tmp_path / BOB, ["%%time\nimport torch\nf = eval('torch.relu')"])
    alice = review_message(tmp_path / ALICE, ["conv"], "2/4")
    bob = review_message(tmp_path / BOB, ["f"], "3/3")
    rows = [Row(ALICE, "01_conv", "q1", 3, 3, "passed", ""),
            Row(ALICE, "01_conv", "q2", 0, 4, "review", alice),
            Row(ALICE, "01_conv", "q3", 1, 2, "failed", "=HYPERLINK(\"x\") 1 of 2 tests not passed"),
            Row(BOB, "01_conv", "q1", 0, 3, "review", bob),
            Row(BOB, "01_conv", "q2", 4, 4, "passed", "")]
    write_csv(rows, tmp_path / "grades.csv")
    return {"root": tmp_path, "alice": alice, "bob": bob}


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def decisions(root: Path) -> List[dict]:
    return json.loads((root / "grades.decisions.json").read_text())


def test_the_scan_numbers_code_cells_as_the_grader_reads_them(desk) -> None:
    # The message the fixture built cites the second *code* cell (the fourth cell) at the scan's lines 3 and 4.
    assert "getattr() (code cell 2, line 3); eval() (code cell 2, line 4)" in desk["alice"]
    assert "eval() (code cell 1, line 2)" in desk["bob"]   # `%%time` is dropped before the scan numbers lines


def test_list_shows_each_review_row_with_the_flagged_lines_in_context(desk, capsys) -> None:
    code, out, err = run(capsys, "grades.csv", "subs")
    assert code == 0 and err == ""
    assert f"{ALICE}  question q2" in out and f"{BOB}  question q1" in out
    assert "q1 (exercise" not in out.split(BOB)[0]   # alice's passed q1 is not listed
    assert "tests alone would give 2/4" in out and "tests alone would give 3/3" in out
    assert "getattr() (code cell 2, line 3)" in out   # the reason, as the grader gave it
    # The student's own lines, numbered as in their notebook (the two blank lines count), the flagged one marked.
    assert "  code cell 2, line 5:\n" in out
    assert '    > 5 |     y = getattr(torch, name)(x)' in out
    assert '      4 |     name = "relu"' in out and '      3 | def conv(x):' in out
    assert '      6 |     return eval("y")' in out and '      7 |' not in out   # the final newline ends line 6
    assert '    > 6 |     return eval("y")' in out   # the second finding, in its own context
    assert "    > 3 | f = eval('torch.relu')" in out and "      1 | %%time" in out
    assert out.count("decision: none yet") == 2
    assert not (desk["root"] / "grades.final.csv").exists()   # listing writes nothing unless --out is given


def test_code_ipython_rewrote_is_shown_as_the_scan_read_it(tmp_path, capsys, monkeypatch) -> None:
    # Pasted `>>>` prompts: IPython strips them, so the scan's lines are not the notebook's text; the reviewer is
    # shown the code as it was read, and told so, rather than a line that may not be the flagged one.
    monkeypatch.chdir(tmp_path)
    notebook(tmp_path / ALICE, [">>> import torch\n>>> f = eval('torch.relu')"])
    message = review_message(tmp_path / ALICE, ["f"], "1/1")
    write_csv([Row(ALICE, "01_conv", "q1", 0, 1, "review", message),
               Row(ALICE, "01_conv", "q2", 0, 1, "review", message.replace("code cell 1", "code cell 7"))],
              tmp_path / "grades.csv")
    code, out, _ = run(capsys, "grades.csv", "subs")
    assert code == 0
    assert "code cell 1, line 2: (as the grader read it, after IPython rewrote the cell)" in out
    assert "    > 2 | f = eval('torch.relu')" in out
    assert "code cell 7 is not in the notebook now (1 code cells)" in out


def test_accept_records_the_decision_and_gives_the_tests_points(desk, capsys) -> None:
    root = desk["root"]
    code, out, err = run(capsys, "grades.csv", "subs", "--decide", ALICE, "q2", "accept",
                         "--note", "getattr picks relu only")
    assert code == 0, err
    [record] = decisions(root)
    assert {k: record[k] for k in ("submission", "exercise", "question", "decision", "points", "note",
                                   "decided_by", "message_at_decision")} == {
        "submission": ALICE, "exercise": "01_conv", "question": "q2", "decision": "accept", "points": 2.0,
        "note": "getattr picks relu only", "decided_by": "tester", "message_at_decision": desk["alice"]}
    assert record["decided_at"].endswith("+00:00")   # UTC, ISO 8601
    before, after = read_rows(root / "grades.csv"), read_rows(root / "grades.final.csv")
    assert before[0] == after[0] == COLUMNS and len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed == [2]   # alice's q2 only; every other row field for field as the grader wrote it
    assert after[2][:3] == before[2][:3] and after[2][4] == "4"
    assert after[2][3] == "2" and after[2][5] == "failed"   # 2 of 4: partial, so failed with the tests' points
    assert after[2][6] == f"{desk['alice']} | reviewed: accepted by tester: getattr picks relu only"
    assert after[3][6] == "'=HYPERLINK(\"x\") 1 of 2 tests not passed"   # not quoted a second time
    raw_before = (root / "grades.csv").read_bytes().split(b"\r\n")
    raw_after = (root / "grades.final.csv").read_bytes().split(b"\r\n")
    assert [line for i, line in enumerate(raw_before) if i != 2] == [line for i, line in enumerate(raw_after) if i != 2]


def test_accept_with_every_test_passing_makes_the_row_passed(desk, capsys) -> None:
    code, _, err = run(capsys, "grades.csv", "subs", "--decide", BOB, "q1", "accept", "--note", "eval of relu")
    assert code == 0, err
    row = read_rows(desk["root"] / "grades.final.csv")[4]
    assert row[3:6] == ["3", "3", "passed"]


def test_reject_gives_zero(desk, capsys) -> None:
    code, _, err = run(capsys, "grades.csv", "subs", "--decide", BOB, "q1", "reject", "--note", "calls F.relu")
    assert code == 0, err
    row = read_rows(desk["root"] / "grades.final.csv")[4]
    assert row[3:6] == ["0", "3", "failed"]
    assert row[6] == f"{desk['bob']} | reviewed: rejected by tester: calls F.relu"
    assert decisions(desk["root"])[0]["points"] == 0


def test_a_second_decision_supersedes_the_first_and_both_stay(desk, capsys) -> None:
    root = desk["root"]
    assert run(capsys, "grades.csv", "subs", "--decide", ALICE, "q2", "accept", "--note", "first look")[0] == 0
    first = decisions(root)
    assert run(capsys, "grades.csv", "subs", "--decide", ALICE, "q2", "reject", "--note", "second look")[0] == 0
    records = decisions(root)
    assert records[0] == first[0] and [r["decision"] for r in records] == ["accept", "reject"]
    row = read_rows(root / "grades.final.csv")[2]
    assert row[3] == "0" and row[6].endswith("reviewed: rejected by tester: second look")
    _, out, _ = run(capsys, "grades.csv", "subs")
    assert "decision: reject (0 points) by tester" in out and "first look" not in out


def test_a_decision_on_other_evidence_is_stale_and_not_applied(desk, capsys) -> None:
    root = desk["root"]
    assert run(capsys, "grades.csv", "subs", "--decide", ALICE, "q2", "accept", "--note", "fine")[0] == 0
    assert run(capsys, "grades.csv", "subs", "--decide", BOB, "q1", "accept", "--note", "fine")[0] == 0
    # A regrade: alice's message now cites another line; bob's notebook changed but his message did not.
    rows = read_rows(root / "grades.csv")
    rows[2][6] = rows[2][6].replace("line 4", "line 5")
    with open(root / "grades.csv", "w", newline="", encoding="utf-8") as file:
        csv.writer(file, quoting=csv.QUOTE_ALL).writerows(rows)
    notebook(root / BOB, ["%%time\nimport torch\nf = eval('torch.conv2d')"])
    code, out, err = run(capsys, "grades.csv", "subs", "--out", "final.csv")
    assert code == 0
    assert f"stale decision not applied: {ALICE} q2" in err and "message changed" in err
    assert f"stale decision not applied: {BOB} q1" in err and "code changed" in err
    assert read_rows(root / "final.csv") == rows   # nothing applied
    assert "a recorded one is stale" in out


def test_a_regraded_row_that_is_no_longer_review_is_stale(desk, capsys) -> None:
    root = desk["root"]
    assert run(capsys, "grades.csv", "subs", "--decide", ALICE, "q2", "reject", "--note", "no")[0] == 0
    rows = read_rows(root / "grades.csv")
    rows[2][3], rows[2][5] = "4", "passed"
    with open(root / "grades.csv", "w", newline="", encoding="utf-8") as file:
        csv.writer(file, quoting=csv.QUOTE_ALL).writerows(rows)
    code, _, err = run(capsys, "grades.csv", "subs", "--out", "final.csv")
    assert code == 0 and "now passed, not review" in err
    assert read_rows(root / "final.csv") == rows


def test_interactive_uses_the_same_decisions(desk, capsys, monkeypatch) -> None:
    answers = iter(["x", "a", "", "looked at it", "s"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    code, out, err = run(capsys, "grades.csv", "subs", "--interactive")
    assert code == 0, err
    [record] = decisions(desk["root"])
    assert (record["submission"], record["decision"], record["note"]) == (ALICE, "accept", "looked at it")
    assert read_rows(desk["root"] / "grades.final.csv")[2][3] == "2"
    monkeypatch.setattr("builtins.input", lambda prompt="": (_ for _ in ()).throw(EOFError))
    assert run(capsys, "grades.csv", "subs", "--interactive")[0] == 0   # only bob's row is asked, then EOF stops
    assert len(decisions(desk["root"])) == 1


@pytest.mark.parametrize("argv, says", [
    (["missing.csv", "subs"], "no such grades CSV"),
    (["bad.csv", "subs"], "header"),
    (["grades.csv", "nowhere"], "no such file or directory"),
    (["grades.csv", "subs", "--decide", "subs/carol.ipynb", "q2", "accept", "--note", "n"], "no submission"),
    (["grades.csv", "subs", "--decide", ALICE, "q9", "accept", "--note", "n"], "no question 'q9'"),
    (["grades.csv", "subs", "--decide", ALICE, "q1", "accept", "--note", "n"], "status passed, not review"),
    (["grades.csv", "subs", "--decide", ALICE, "q2", "maybe", "--note", "n"], "accept or reject"),
    (["grades.csv", "subs", "--decide", ALICE, "q2", "accept"], "needs --note"),
    (["grades.csv", "subs", "--out", "grades.csv"], "never overwritten"),
    (["grades.csv", BOB, "--decide", ALICE, "q2", "accept", "--note", "n"], "not among PATH"),
    (["grades.csv", "subs", "--list", "--interactive"], "not allowed with"),
    (["grades.csv", "subs", "--decisions", "broken.json"], "decisions file"),
])
def test_bad_input_is_one_line_and_exit_2(desk, capsys, argv, says) -> None:
    root = desk["root"]
    (root / "bad.csv").write_text("name,score\nx,1\n")
    (root / "broken.json").write_text("{not json")
    code, out, err = run(capsys, *argv) if "--interactive" not in argv else _exit_code(capsys, argv)
    assert code == 2
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert (root / "broken.json").read_text() == "{not json"   # a decisions file is never replaced on error
    assert not (root / "grades.decisions.json").exists()


def _exit_code(capsys, argv) -> tuple:
    with pytest.raises(SystemExit) as exited:   # argparse's own usage errors exit from inside parse_args
        main(argv)
    out, err = capsys.readouterr()
    return exited.value.code, out, err
