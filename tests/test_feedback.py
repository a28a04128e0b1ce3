"""Feedback pages for students and the class report, from rows built by hand with the real exercises' names.

Fast checks need no sandbox: one page (and its Markdown) per submission, names one-to-one, nothing of the hidden
material on any page (checked against `load_exercises()` on the real grading/autograder), everything escaped, the
CSV's own message text, and `class_statistics` equal to numbers recomputed here from the CSV the same rows make.
The browser check opens a page and the report in Debian's Chromium at 1280 and 390 px, light and dark, and runs
axe-core on them (with FEEDBACK_SCREENSHOTS=DIR, or BOOK_SCREENSHOTS=1 for test-artifacts/reading/, it also keeps
screenshots for a person to look at).
"""
from __future__ import annotations

import csv
import functools
import html
import http.server
import json
import math
import os
import re
import threading
import urllib.parse
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import numpy as np
import pytest
from hypothesis import given, strategies as st

from grading.classreport import class_statistics, normalise_message, write_report
from grading.compare import decode
from grading.feedback import page_stem, page_stems, write_feedback
from grading.material import Exercise, load_exercises
from grading.report import Row, write_csv

from conftest import ARTIFACTS, watched_page
from test_site import AXE, AXE_JS, DESKTOP, PHONE

pytestmark = pytest.mark.grading
EXERCISES = load_exercises()
SCRIPT = "ValueError: <script>alert('pwned')</script> & <b>bold</b>"
FORMULA = '=HYPERLINK("http://evil.example/x","click me")'
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?!\w|\.\d)")


# ---------------------------------------------------------------------------------------------------------------
# Rows as the judge would write them
# ---------------------------------------------------------------------------------------------------------------

def question_row(submission: str, exercise_id: str, question_name: str,
                 outcomes: Dict[str, Tuple[str, str]] = None, status: str = "", message: str = "") -> Row:
    """A question's row: every test passes unless `outcomes` says otherwise; the status, points and message follow
    the judge's format unless `status` (review, or a hand-made failure) is given."""
    exercise = EXERCISES[exercise_id]
    question = next(q for q in exercise.questions if q.name == question_name)
    outcomes = outcomes or {}
    tests = tuple((t.name, t.hidden, *outcomes.get(t.name, ("passed", ""))) for t in question.tests)
    earned = round(sum(t.points for t in question.tests if outcomes.get(t.name, ("passed",))[0] == "passed"), 6)
    if status:
        points = 0.0 if status == "review" else earned
    elif not outcomes or all(s == "passed" for s, _ in outcomes.values()):
        status, points = "passed", question.points
    else:
        failing = [(name, hidden, s, m) for name, hidden, s, m in tests if s != "passed"]
        status = next(s for s in ("timeout", "error", "failed") if any(f[2] == s for f in failing))
        name, hidden, _, detail = failing[0]
        message = (f"{len(failing)} of {len(tests)} tests not passed; {'hidden' if hidden else 'public'} test "
                   f"{name}: {detail}")
        points = earned
    return Row(submission, exercise_id, question_name, points, question.points, status, message, tests)


def all_questions(submission: str, exercise_id: str, **special: Row) -> List[Row]:
    return [special.get(q.name) or question_row(submission, exercise_id, q.name)
            for q in EXERCISES[exercise_id].questions]


def hidden_line(exercise_id: str, question: str, test: str) -> str:
    source = next(t.source for q in EXERCISES[exercise_id].questions if q.name == question
                  for t in q.tests if t.name == test)
    return max((line.strip() for line in source.splitlines()), key=len)


LEAKED_LINE = hidden_line("02_fc_to_conv", "parameter_counts", "test_megapixel_layers")
LEAKED_VALUE = "200928"                           # a reference value of that hidden test
LEAKED_LIST = "[7, 15, 16, 19, 1, 1, 24, 51]"     # 02's hidden test_strides_and_pooling's reference


def class_rows() -> List[Row]:
    ex1, ex2 = "01_convolution_math", "02_fc_to_conv"
    alice = "alice/01_convolution_math.ipynb"
    rows = all_questions(
        alice, ex1,
        convolve1d=question_row(alice, ex1, "convolve1d", {
            "test_three_modes_asymmetric_kernels": ("failed", "3 of 11 elements differ, first at index [1]")}),
        output_shape=question_row(alice, ex1, "output_shape",
                                  {"test_many_shapes": ("failed", "wrong value at [0][1]")}),
        corr2d=question_row(alice, ex1, "corr2d", status="review", message=(
            "needs a person: the answer uses code whose target cannot be read from its source (getattr() (code cell "
            "7, line 3)), so a person checks that it does not call what the question forbids; tests alone would "
            "give 2/2")))
    bob = "bob/01_convolution_math.ipynb"
    rows += all_questions(
        bob, ex1,
        convolve1d=question_row(bob, ex1, "convolve1d", {"test_echoes": ("error", SCRIPT),
                                                          "test_integers_and_edge_lengths": ("error", SCRIPT)}),
        filters=question_row(bob, ex1, "filters", {"test_shapes_and_constants": (
            "failed", "expected [0.25, 0.25, 0.25, 0.25] at [2], got [0.5, 0.5]")}, status="failed",
            message=FORMULA))
    carol = "carol/01_convolution_math.ipynb"
    timeouts = {t.name: ("timeout", "the test ran past its time limit (an endless loop?)")
                for t in EXERCISES[ex1].questions[3].tests}
    rows += all_questions(
        carol, ex1, corr2d=question_row(carol, ex1, "corr2d", timeouts),
        convolve2d=question_row(carol, ex1, "convolve2d", {
            "test_flipped_example": ("failed", "expected shape (2, 2), got shape (3, 3)"),
            "test_asymmetric_kernels": ("failed", "expected shape (4, 3), got shape (3, 2)")}))
    rows += all_questions("a/b.ipynb", ex1) + all_questions("a__b.ipynb", ex1)   # "/" -> "__" would merge them
    rows.append(Row("dave/notes.pdf", "", "*", 0.0, 0.0, "invalid", "not a notebook (.pdf): hand in the .ipynb file"))
    rows.append(Row("erin/01_convolution_math.ipynb", "", "*", 0.0, 0.0, "error",
                    "grader error (judge.py:120): KeyError: 'records'"))
    mallory = "mallory/02_fc_to_conv.ipynb"
    rows += all_questions(mallory, ex2, parameter_counts=question_row(mallory, ex2, "parameter_counts", {
        "test_megapixel_layers": ("error", f"AssertionError: {LEAKED_LINE} gave {LEAKED_VALUE}, not {LEAKED_LIST}")}))
    frank = "frank/02_fc_to_conv.ipynb"
    rows += all_questions(frank, ex2, parameter_counts=question_row(frank, ex2, "parameter_counts", {
        "test_small_layers": ("failed", "expected 7850 at [0], got 7840"), "test_megapixel_layers": (
            "failed", "wrong value at [1]")}))
    return rows


@pytest.fixture(scope="module")
def rows() -> List[Row]:
    return class_rows()


@pytest.fixture(scope="module")
def written(rows: List[Row], tmp_path_factory) -> Tuple[List[Path], Path]:
    folder = tmp_path_factory.mktemp("out") / "feedback"
    pages = write_feedback(rows, EXERCISES, folder)
    report = folder.parent / "report.html"
    write_report(rows, EXERCISES, report)
    return pages, report


def page_of(pages: List[Path], submission: str) -> Path:
    return next(p for p in pages if p.name == page_stems([submission])[submission] + ".html")


# ---------------------------------------------------------------------------------------------------------------
# Pages and names
# ---------------------------------------------------------------------------------------------------------------

def test_one_page_and_one_markdown_per_submission(rows: List[Row], written) -> None:
    pages, _ = written
    submissions = list(dict.fromkeys(r.submission for r in rows))
    assert len(pages) == len(submissions) == len(set(pages))
    assert {p.parent for p in pages} == {pages[0].parent}
    assert sorted(pages[0].parent.iterdir()) == sorted(pages + [p.with_name(p.stem + ".md") for p in pages])
    assert pages[0].name == "alice__01_convolution_math.html"


def decode_stem(stem: str) -> str:
    """The inverse of the escaping, written independently: `__` is `/`, `%XX` a byte, anything else itself."""
    out, index = bytearray(), 0
    while index < len(stem):
        if stem.startswith("__", index):
            out += b"/"
            index += 2
        elif stem[index] == "%":
            out.append(int(stem[index + 1:index + 3], 16))
            index += 3
        else:
            out += stem[index].encode()
            index += 1
    return out.decode("utf-8", "surrogatepass")


NAME_CHARS = st.sampled_from(list("ab_/%.-Zé\\ ") + ["\u202e", "\udcff"])


@given(st.lists(NAME_CHARS, min_size=1, max_size=30).map("".join))
def test_page_names_are_reversible_and_safe(name: str) -> None:
    stem = page_stem(name + ".ipynb")
    assert re.fullmatch(r"[A-Za-z0-9._%-]+", stem) and not stem.startswith("."), stem
    assert decode_stem(stem) == name


@pytest.mark.parametrize("first, second", [
    ("a/b.ipynb", "a__b.ipynb"), ("a/_b.ipynb", "a_/b.ipynb"), ("a b.ipynb", "a_b.ipynb"),
    ("x.ipynb", "x"), ("Alice/x.ipynb", "alice/x.ipynb"), ("%41.ipynb", "A.ipynb"),
    ("s/" + "k" * 300 + "1.ipynb", "s/" + "k" * 300 + "2.ipynb")])
def test_names_that_naive_replacement_would_merge_get_different_files(first: str, second: str) -> None:
    stems = page_stems([first, second])
    assert stems[first].casefold() != stems[second].casefold()
    assert all(len(stem) <= 120 for stem in stems.values())


def test_a_link_planted_under_a_page_name_is_replaced_not_followed(rows: List[Row], tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    folder = tmp_path / "feedback"
    folder.mkdir()
    (folder / "alice__01_convolution_math.html").symlink_to(outside)
    write_feedback(rows[:6], EXERCISES, folder)
    assert outside.read_text() == "keep"
    assert not (folder / "alice__01_convolution_math.html").is_symlink()


# ---------------------------------------------------------------------------------------------------------------
# What a page may show
# ---------------------------------------------------------------------------------------------------------------

def distinctive(value) -> Set[str]:
    """Texts that would identify a reference value: the whole list (3+ items), and long numbers."""
    plain = value.tolist() if isinstance(value, np.ndarray) else value
    found = {str(plain)} if isinstance(plain, (list, dict)) and len(plain) >= 3 else set()
    stack = [plain]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, np.ndarray):
            stack += item.tolist()
        elif type(item) is int and abs(item) >= 1000 or type(item) is float and len(repr(item)) >= 6:
            found.add(repr(item))
    return found


def hidden_material(exercises: Dict[str, Exercise]) -> Tuple[Set[str], Set[str]]:
    """(lines of hidden tests' code, texts of hidden tests' reference values that no public reference shares)."""
    lines, values = set(), set()
    for exercise in exercises.values():
        texts: Dict[bool, Set[str]] = {True: set(), False: set()}
        for question in exercise.questions:
            for test in question.tests:
                for record in exercise.reference.get(question.name, {}).get(test.name, []):
                    texts[test.hidden] |= distinctive(decode(record.get("expected", record.get("value"))))
                if test.hidden:
                    lines |= {line.strip() for line in test.source.splitlines() if len(line.strip()) >= 12}
        values |= texts[True] - texts[False]
    return lines, values


def every_output(written) -> Dict[str, str]:
    pages, report = written
    texts = {p.name: p.read_text() for p in pages}
    texts.update({p.stem + ".md": p.with_name(p.stem + ".md").read_text() for p in pages})
    texts["report.html"] = DATA_URI.sub("data:image/png;base64,", report.read_text())   # base64 digits are no numbers
    return texts


def test_no_page_shows_a_hidden_test_source_or_reference_value(written) -> None:
    lines, values = hidden_material(EXERCISES)
    assert LEAKED_LINE in lines and LEAKED_VALUE in values and LEAKED_LIST in values   # the rows do try to leak
    for name, text in every_output(written).items():
        shown = html.unescape(re.sub(r"\\(.)", r"\1", text))   # as read, Markdown escapes and entities undone
        assert not [line for line in lines if line in shown], name
        numbers = set(NUMBER.findall(shown))
        assert not [v for v in values if v in numbers or (not NUMBER.fullmatch(v) and v in shown)], name


def test_a_leak_in_a_hidden_message_is_replaced(written) -> None:
    pages, _ = written
    text = html.unescape(page_of(pages, "mallory/02_fc_to_conv.ipynb").read_text())
    assert "[a hidden test's code] gave [a hidden value], not [a hidden value]" in text


def test_everything_is_escaped_and_nothing_is_loaded(written) -> None:
    for name, text in every_output(written).items():
        assert "<script" not in text and "<b>" not in text, name
        assert not re.search(r"<(link|iframe|object|embed)\b|@import|url\(", text), name
        if name.endswith(".html"):
            assert re.findall(r'\b(?:src|srcset)="(?!data:image/png;base64,)', text) == [], name
            assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', text)), name
    pages, _ = written
    bob = page_of(pages, "bob/01_convolution_math.ipynb")
    assert html.escape(SCRIPT) in bob.read_text()
    assert "&lt;script&gt;" in bob.with_name(bob.stem + ".md").read_text()


def test_pages_use_the_csv_message_and_show_every_test(rows: List[Row], written, tmp_path: Path) -> None:
    pages, _ = written
    write_csv(rows, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as file:
        csv_messages = [(r["submission"], r["message"]) for r in csv.DictReader(file)]
    assert ("bob/01_convolution_math.ipynb", "'" + FORMULA) in csv_messages   # made inert, and shown so
    for row, (submission, message) in zip(rows, csv_messages):
        page = page_of(pages, submission)
        text = html.unescape(page.read_text())
        markdown = html.unescape(re.sub(r"\\(.)", r"\1", page.with_name(page.stem + ".md").read_text()))
        if row.submission.startswith("mallory") and row.question == "parameter_counts":
            continue   # the leak, replaced (test_a_leak_in_a_hidden_message_is_replaced)
        assert message in text and message in markdown, (submission, message)
        for name, hidden, _status, _ in row.tests:
            assert name in text and ("hidden test" if hidden else "public test") in text


def test_statuses_are_words_and_next_steps_are_said(written) -> None:
    pages, _ = written
    alice = html.unescape(page_of(pages, "alice/01_convolution_math.ipynb").read_text())
    assert "needs review" in alice and "A person reads the lines cited" in alice and "0 points" in alice
    assert "Total: <strong>8.3333 / 12 points" in alice and "Exercise 01: Convolution math" in alice
    assert "Three modes asymmetric kernels" in alice and "✓</span> passed" in alice
    dave = html.unescape(page_of(pages, "dave/notes.pdf").read_text())
    assert "not graded" in dave and "hand in the .ipynb file" in dave and "File > Download" in dave
    erin = html.unescape(page_of(pages, "erin/01_convolution_math.ipynb").read_text())
    assert "not a mark against you" in erin
    for page in pages:
        text = page.read_text()
        assert '<html lang="en">' in text and 'name="viewport"' in text and "prefers-color-scheme: dark" in text
        levels = [int(level) for level in re.findall(r"<h([1-6])\b", text)]
        assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), (page.name, levels)


# ---------------------------------------------------------------------------------------------------------------
# The class report's numbers, recomputed from the CSV
# ---------------------------------------------------------------------------------------------------------------

def test_class_statistics_equal_an_independent_computation(rows: List[Row], tmp_path: Path) -> None:
    write_csv(rows, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as file:
        table = [r for r in csv.DictReader(file) if r["question"] != "*"]
    stats = class_statistics(rows)
    assert sorted(stats["exercises"]) == sorted({r["exercise"] for r in table})
    for exercise, computed in stats["exercises"].items():
        mine = [r for r in table if r["exercise"] == exercise]
        totals: Dict[str, float] = {}
        for r in mine:
            totals[r["submission"]] = totals.get(r["submission"], 0.0) + float(r["points"])
        assert computed["totals"] == pytest.approx(totals, abs=1e-3)
        top = EXERCISES[exercise].max_points
        expected_counts = [0] * math.ceil(top)
        for total in totals.values():
            expected_counts[min(int(total + 1e-3), len(expected_counts) - 1)] += 1
        assert computed["histogram"]["counts"] == expected_counts
        for q in computed["questions"]:
            points = [float(r["points"]) for r in mine if r["question"] == q["question"]]
            top_q = float(next(r["max_points"] for r in mine if r["question"] == q["question"]))
            assert q["mean"] == pytest.approx(sum(points) / len(points), abs=1e-3)
            assert q["full_marks_share"] == pytest.approx(sum(p >= top_q - 1e-3 for p in points) / len(points))
        shares = [q["mean_share"] for q in computed["questions"]]
        assert shares == sorted(shares), "the hardest question is not first"
        for t in computed["tests"]:
            outcomes = [s for r in rows if r.exercise == exercise and r.question == t["question"]
                        for name, _, s, _ in r.tests if name == t["test"]]
            assert t["pass_rate"] == pytest.approx(outcomes.count("passed") / len(outcomes))
    assert [(r["submission"], r["question"]) for r in stats["review"]] == \
        [("alice/01_convolution_math.ipynb", "corr2d")]
    assert {r["status"] for r in stats["problems"]} == {"timeout", "error"}
    assert [r["submission"] for r in stats["not_graded"]] == ["dave/notes.pdf"]


def test_failure_messages_are_grouped_by_their_words() -> None:
    assert normalise_message("3 of 11 elements differ, first at index [1]") == \
        "# of # elements differ, first at index [#]"
    assert normalise_message("convolve1d got a float64 array of shape (2, 3)") == \
        "convolve1d got a float64 array of shape (#, #)"
    stats = class_statistics(class_rows())["exercises"]["01_convolution_math"]
    corr2d_timeouts = [f for f in stats["failures"] if f["question"] == "corr2d"]
    assert corr2d_timeouts and all(f["count"] == 1 and f["pattern"].startswith("timeout:") for f in corr2d_timeouts)
    # corr2d: 0 (review) + 0 (timeout) + 3 x 2 of 2 points = 60% of its points, the lowest mean share.
    assert stats["questions"][0]["question"] == "corr2d" and stats["questions"][0]["mean_share"] == 0.6


def test_report_lists_the_queues_and_describes_each_figure(written) -> None:
    _, report = written
    text = html.unescape(report.read_text())
    # Four figures, each for a phone and a wider page in light and dark: the <img> and three <source>s.
    assert text.count("<img ") == 4 and text.count("<source ") == 12
    assert text.count('media="(max-width: 40rem) and (prefers-color-scheme: dark)"') == 4
    alts = re.findall(r'alt="([^"]+)"', report.read_text())
    assert len(alts) == 4 and all("hardest first" in a or "Histogram" in a for a in alts)
    assert "Histogram of the totals of 5 submissions for Exercise 01: Convolution math" in text
    for needle in ("Review queue", "getattr()", "Timeouts and errors", "the test ran past its time limit",
                   "dave/<wbr>notes.pdf", "hardest</span>", "<caption>"):
        assert needle in text, needle


# ---------------------------------------------------------------------------------------------------------------
# In a browser: axe-core at a desktop's and a phone's width, light and dark
# ---------------------------------------------------------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(written) -> Iterator[str]:
    """The output folder on a loopback port, for the length of the module."""
    _, report = written
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(report.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def screenshot_folder() -> Path:
    if os.environ.get("FEEDBACK_SCREENSHOTS"):
        return Path(os.environ["FEEDBACK_SCREENSHOTS"])
    return ARTIFACTS / "reading" if os.environ.get("BOOK_SCREENSHOTS") == "1" else None


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("which", ["feedback", "report"])
def test_axe_finds_no_serious_violation(browser, served: str, written, which: str, width: int, scheme: str) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not vendored: run make _build/axe/axe.min.js (make test does)")
    pages, report = written
    path = report.name if which == "report" else f"feedback/{page_of(pages, 'alice/01_convolution_math.ipynb').name}"
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                  device_scale_factor=1)
    try:
        page = watched_page(context)
        page.goto(f"{served}/{urllib.parse.quote(path)}", wait_until="load")
        assert not page.problems, f"{path}: {page.problems}"
        wide = page.evaluate("document.scrollingElement.scrollWidth")
        assert wide <= width, f"{path} is {wide} px wide at {width} px: it scrolls sideways"
        shots = screenshot_folder()
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{which}__{width}_{scheme}.png"), full_page=True)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_JS)
    finally:
        context.close()
    blocking = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert not blocking, f"{path} at {width} px, {scheme}: axe-core found\n" + "\n".join(map(json.dumps, blocking))
