"""Feedback for students: one self-contained page per submission, as HTML and as Markdown beside it.

A page shows what the CSV says about the submission, in the CSV's own words (`csv_text`: the exact text of its
`message` column), and adds each test's outcome from `Row.tests`. Nothing on a page comes from the grader's hidden
material: the judge never puts a hidden test's expected value in a message (`compare(..., reveal=False)`) and
replaces any of its code a run managed to raise (`judge._without_hidden_code`); `HiddenGuard` checks once more,
here, so that rows made elsewhere cannot leak either. Every text is escaped: messages come from student code.

The page shell and its styles (`page_shell`, `status_badge`, `write_atomically`) are shared with the class report,
`grading.classreport`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html
import posixpath
import os
import re
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Set, Tuple

from grading.compare import MalformedValue, decode
from grading.material import Exercise
from grading.report import Row, number

__all__ = ["write_feedback", "page_stem", "page_stems", "csv_text", "HiddenGuard", "page_shell", "scroll_box",
           "status_badge", "status_words", "exercise_title", "humanise", "write_atomically", "STATUS"]

# Each status as (icon, word): the word is always shown beside the icon and the colour, so neither a screen
# reader nor a reader who cannot tell red from green depends on them. Tests add `forbidden` and `untraced`.
STATUS: Dict[str, Tuple[str, str]] = {
    "passed": ("✓", "passed"),
    "failed": ("✗", "failed"),
    "error": ("⚠", "error"),
    "timeout": ("◷", "timed out"),
    "review": ("☛", "needs review"),
    "invalid": ("⊘", "not graded"),
    "forbidden": ("⊘", "forbidden code"),
    "untraced": ("☛", "needs review"),
}
TONE = {"passed": "ok", "failed": "bad", "forbidden": "bad", "error": "warn", "timeout": "warn", "invalid": "warn",
        "review": "review", "untraced": "review"}

REVIEW_NOTE = ("A person reads the lines cited above and decides whether the answer calls what the question "
               "forbids; until then this question counts 0 points.")
STATUS_HINTS = {
    "timeout": "Something ran past its time limit: look for an endless loop, or a computation far larger than "
               "the question needs.",
    "error": "The code raised an error, or the notebook stopped before this question's tests ran: run it from "
             "the top (Restart & Run All) and read the first error.",
}
# What to do about a file that was not graded, by a fragment of the reason the grader gave.
INVALID_ADVICE = (
    ("symbolic link", "Hand in the notebook file itself, not a link to it."),
    ("cannot tell which exercise", "Keep the notebook's name from the book (for example "
                                   "01_convolution_math.ipynb) so the grader knows which exercise it answers."),
    ("over the limit", "Hand in only your answers: remove the extra cells and the code you pasted in."),
    ("cannot read", "Hand in the file again; if it still cannot be read, tell your instructor."),
)
INVALID_DEFAULT = ("Hand in the exercise's .ipynb file as Jupyter saves it (File > Download), with your answers "
                   "in it.")
ABOUT_TESTS = ("Public tests show their inputs and expected values; hidden tests show only whether they passed and "
               "what the grader noticed, never their inputs or expected values.")
GRADER_ERROR = ("The grader itself failed on this file: this is not a mark against you. Tell your instructor; "
                "the message above is what they need.")

_SAFE_NAME = frozenset(string.ascii_letters + string.digits + ".-")   # `_` and `/` get rules of their own
MAX_STEM = 120   # file names stay well under the usual 255-byte limit, with room for the suffix
_NUMBER_TEXT = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?!\w|\.\d)")   # as repr() writes one
HASH_MARK = "%h"  # never made by escaping (escapes are `%` and two upper-case hex digits), so it cannot collide


# ---------------------------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------------------------

def _escape_name(text: str) -> str:
    """`text` in `[A-Za-z0-9._%-]`, reversibly: `/` becomes `__`; an `_` stays unless it touches another `_` or a
    `/` (then `%5F`, so that a run of underscores is always a run of separators); a leading `.` (a hidden file) and
    every other character become `%XX` per UTF-8 byte, `%` itself included."""
    out = []
    for index, char in enumerate(text):
        around = text[index - 1:index] + text[index + 1:index + 2]
        if char == "/":
            out.append("__")
        elif char == "_" and not set(around) & {"_", "/"}:
            out.append("_")
        elif char in _SAFE_NAME and not (char == "." and index == 0):
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass")))
    return "".join(out)


def _hashed(encoded: str, submission: str) -> str:
    digest = hashlib.sha256(submission.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return encoded[:MAX_STEM - len(HASH_MARK) - len(digest)] + HASH_MARK + digest


def page_stem(submission: str) -> str:
    """The file name (without suffix) of a submission's page: `alice/01_convolution_math.ipynb` becomes
    `alice__01_convolution_math`. Escaping is reversible, so two submissions never share a name; a name that is
    too long, or is not a notebook's (whose stem could be a notebook's without its `.ipynb`), ends in a hash."""
    notebook = submission.endswith(".ipynb") and len(submission) > len(".ipynb")
    encoded = _escape_name(submission[:-len(".ipynb")] if notebook else submission)
    return encoded if notebook and len(encoded) <= MAX_STEM else _hashed(encoded, submission)


def _within_batch(submissions: List[str]) -> Dict[str, str]:
    """Each path less the folders above the one all of them share (`/home/me/course/submissions/alice/01.ipynb`,
    alone -> `alice/01.ipynb`; beside bob's -> `submissions/alice/01.ipynb`): a page is named for the student, not
    for where the instructor keeps the batch. Dropping a common prefix keeps distinct paths distinct."""
    folders = [posixpath.dirname(s) for s in submissions]
    if not folders or any(f.startswith("/") != folders[0].startswith("/") for f in folders):
        return {s: s for s in submissions}
    above = posixpath.dirname(posixpath.commonpath(folders))
    return {s: s[len(above):].lstrip("/") if above else s for s in submissions}


def page_stems(submissions: Iterable[str]) -> Dict[str, str]:
    """`page_stem` of each path within the batch, except that names equal but for case get hashes: a folder copied
    to a disk that ignores case (macOS, Windows) must not lose one of them."""
    short = _within_batch(list(dict.fromkeys(submissions)))
    stems = {submission: page_stem(name) for submission, name in short.items()}
    by_folded: Dict[str, List[str]] = {}
    for submission, stem in stems.items():
        by_folded.setdefault(stem.casefold(), []).append(submission)
    for clashing in (group for group in by_folded.values() if len(group) > 1):
        for submission in clashing:
            stems[submission] = _hashed(_escape_name(short[submission]), submission)
    return stems


# ---------------------------------------------------------------------------------------------------------------
# What may be shown
# ---------------------------------------------------------------------------------------------------------------

def csv_text(text: str) -> str:
    """`text` exactly as the CSV's message column writes it (one line, control characters escaped, inert in a
    spreadsheet, at most 500 characters): computed by `Row.fields` itself, so the two can never drift apart."""
    return Row("", "", "", 0.0, 0.0, "", text).fields()[-1]


def _flat_values(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        value = list(value.values())
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        for item in value:
            yield from _flat_values(item)
    else:
        yield value


def value_texts(value: Any) -> Set[str]:
    """The texts by which a reference value could be recognised in a message: the whole value when it has at
    least three items, and each number distinctive enough not to turn up by chance (four or more digits, or a
    float written with six or more characters); `0`, `1.5` or `[2]` are everywhere and identify nothing."""
    texts: Set[str] = set()
    plain = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(plain, (list, dict)) and len(plain) >= 3:
        texts.add(str(plain))
    for item in _flat_values(value):
        if type(item) is int and abs(item) >= 1000:
            texts.add(str(item))
        elif type(item) is float and len(repr(item)) >= 6:
            texts.add(repr(item))
    return texts


def _reference_texts(exercise: Exercise, hidden: bool) -> Set[str]:
    texts: Set[str] = set()
    for question in exercise.questions:
        for test in (t for t in question.tests if t.hidden == hidden):
            for record in exercise.reference.get(question.name, {}).get(test.name, []):
                try:
                    texts |= value_texts(decode(record.get("expected", record.get("value"))))
                except MalformedValue:   # the build checked the material; an odd record is simply not guarded
                    continue
    return texts


class HiddenGuard:
    """Replaces, in a text about to be shown, every line of a hidden test's code (as the judge does) and every
    distinctive text of a hidden test's reference values (`value_texts`) that no public test's reference shares.
    A number is replaced only where it stands whole (`200928`, not the start of `2009281`)."""

    def __init__(self, lines: Iterable[str], values: Iterable[str]) -> None:
        values = set(values)
        # Longest first, so a text holding a shorter guarded text is replaced whole.
        self.lines = tuple(sorted(set(lines), key=len, reverse=True))
        self.numbers = frozenset(v for v in values if _NUMBER_TEXT.fullmatch(v))
        self.texts = tuple(sorted(values - self.numbers, key=len, reverse=True))

    @classmethod
    def of(cls, exercises: Dict[str, Exercise]) -> "HiddenGuard":
        lines = {line.strip() for exercise in exercises.values() for question in exercise.questions
                 for test in question.tests if test.hidden
                 for line in test.source.splitlines() if len(line.strip()) >= 12}
        values: Set[str] = set()
        for exercise in exercises.values():
            values |= _reference_texts(exercise, hidden=True) - _reference_texts(exercise, hidden=False)
        return cls(lines, values)

    def __call__(self, text: str) -> str:
        for guarded, placeholder in ((self.lines, "[a hidden test's code]"), (self.texts, "[a hidden value]")):
            for line in guarded:
                if line in text:   # the test first: far cheaper than replace on the many texts that are clean
                    text = text.replace(line, placeholder)
        # Numbers are looked up one by one: a thousand of them in one pattern would cost every message dearly.
        return _NUMBER_TEXT.sub(lambda m: "[a hidden value]" if m.group() in self.numbers else m.group(), text)

    def row(self, row: Row) -> Row:
        """The row with its message and its hidden tests' messages guarded (before any truncation, so that a whole
        line is still there to be found); a public test's message shows only what the student already has."""
        return dataclasses.replace(row, message=self(row.message),
                                   tests=tuple((n, h, s, self(m) if h else m) for n, h, s, m in row.tests))


# ---------------------------------------------------------------------------------------------------------------
# The content of a page, the same for HTML and Markdown
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeView:
    name: str
    hidden: bool
    status: str
    message: str   # a public test's own message; a hidden test's, as the grader gave it, guarded once more


@dataclass(frozen=True)
class QuestionView:
    name: str
    points: float
    max_points: float
    status: str
    message: str   # the CSV's message
    note: str      # what happens next, for review, invalid and error rows
    tests: Tuple[OutcomeView, ...]


@dataclass(frozen=True)
class SubmissionView:
    submission: str
    exercise: str
    questions: Tuple[QuestionView, ...]

    @property
    def graded(self) -> bool:
        return any(q.max_points > 0 for q in self.questions)

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def max_points(self) -> float:
        return sum(q.max_points for q in self.questions)


def exercise_title(exercise_id: str) -> str:
    """`01_convolution_math` -> `Exercise 01: Convolution math`."""
    if not exercise_id:
        return "Unknown exercise"
    number_part, _, words = exercise_id.partition("_")
    if number_part.isdigit() and words:
        return f"Exercise {number_part}: {words.replace('_', ' ').capitalize()}"
    return exercise_id.replace("_", " ").capitalize()


def humanise(test_name: str) -> str:
    """`test_three_modes_asymmetric_kernels` -> `Three modes asymmetric kernels`."""
    words = re.sub(r"^test_", "", test_name).replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else test_name


def _note(row: Row) -> str:
    if row.status == "review":
        return REVIEW_NOTE
    if row.status == "invalid":
        return next((advice for fragment, advice in INVALID_ADVICE if fragment in row.message), INVALID_DEFAULT)
    if row.question == "*" and row.status == "error":
        return GRADER_ERROR
    return STATUS_HINTS.get(row.status, "")


def question_view(row: Row, guard: HiddenGuard) -> QuestionView:
    """One row as shown: the CSV's message (guarded: a no-op on the judge's rows, which are already clean) and each
    test's outcome; a public test's message may show its inputs and expected value, which the student has."""
    row = guard.row(row)
    tests = tuple(OutcomeView(name, hidden, status, csv_text(message))
                  for name, hidden, status, message in row.tests)
    return QuestionView(row.question, row.points, row.max_points, row.status, csv_text(row.message), _note(row),
                        tests)


def submission_views(rows: Sequence[Row], guard: HiddenGuard) -> List[SubmissionView]:
    """The rows grouped by submission, in the order the grader wrote them."""
    grouped: Dict[str, List[Row]] = {}
    for row in rows:
        grouped.setdefault(row.submission, []).append(row)
    return [SubmissionView(name, next((r.exercise for r in group if r.exercise), ""),
                           tuple(question_view(r, guard) for r in group))
            for name, group in grouped.items()]


# ---------------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------------

# Colours meet WCAG AA (4.5:1 for text) on their backgrounds in both schemes; status is never colour alone.
CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1b1f; --muted: #4f5059; --line: #c9cbd1;
  --card: #f4f5f7; --link: #0b50c4; --ok: #0a652c; --bad: #a3161b; --warn: #864400; --review: #5a2a85; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181b; --fg: #ebebef; --muted: #b9bac2; --line: #454850; --card: #202328; --link: #9ec3ff;
    --ok: #7fdc9c; --bad: #ffa3a3; --warn: #ffc266; --review: #d6bcff; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 50rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.5rem 0 0.75rem; }
h2 { font-size: 1.25rem; line-height: 1.3; margin: 2rem 0 0.5rem; padding-top: 1rem;
  border-top: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
a { color: var(--link); }
p, li, dd, dt, figcaption { overflow-wrap: break-word; word-break: break-word; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em;
  overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.total { font-size: 1.15rem; }
.message { background: var(--card); border-left: 4px solid var(--line); padding: 0.5rem 0.75rem; margin: 0.5rem 0;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9rem;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.note { border: 1px solid var(--line); border-radius: 0.4rem; padding: 0.5rem 0.75rem; }
.status { display: inline-block; border: 1px solid currentColor; border-radius: 999px; padding: 0 0.55rem;
  font-weight: 600; white-space: nowrap; }
.icon { display: inline-block; min-width: 1.1em; text-align: center; }
.tone-ok { color: var(--ok); } .tone-bad { color: var(--bad); } .tone-warn { color: var(--warn); }
.tone-review { color: var(--review); }
.table-scroll { overflow-x: auto; }
.table-scroll:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; max-width: calc(100vw - 2rem); }
th, td { text-align: left; padding: 0.4rem 0.4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td code, th code { overflow-wrap: normal; }   /* a name in a table stays whole; the table scrolls instead */
table.summary td .status { white-space: normal; }   /* on a phone, a badge's words wrap, not a name's letters */
td.text { min-width: 14rem; overflow-wrap: anywhere; }
thead th { border-bottom: 2px solid var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.tests { margin: 0.5rem 0; padding: 0; }
dl.tests > div { border-top: 1px solid var(--line); padding: 0.5rem 0; }
dl.tests dt { font-weight: 600; }
dl.tests dd { margin: 0.15rem 0 0 0; }
.kind { font-size: 0.9rem; color: var(--muted); }
"""


def page_shell(title: str, body: str, extra_css: str = "") -> str:
    """A whole page around `body` (already HTML): language, viewport for phones, inline styles for both colour
    schemes; nothing loaded from anywhere, no script. `title` is plain text."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="color-scheme" content="light dark">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}{extra_css}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def scroll_box(label: str, table: str) -> str:
    """A table in a box that scrolls sideways when the table is wider than a phone: a named region and a tab stop,
    so that a keyboard can scroll it too (WCAG 2.1.1; axe's scrollable-region-focusable)."""
    return (f'<div class="table-scroll" role="region" aria-label="{html.escape(label)}" tabindex="0">'
            f"{table}</div>")


def status_words(status: str) -> str:
    """The status as plain text, icon and word (for Markdown)."""
    icon, word = STATUS.get(status, ("•", status))
    return f"{icon} {word}"


def status_badge(status: str) -> str:
    """The status as a word with its icon (hidden from screen readers: the word says it) in the status's colour."""
    icon, word = STATUS.get(status, ("•", status))
    return (f'<span class="status tone-{TONE.get(status, "warn")}"><span class="icon" aria-hidden="true">'
            f"{icon}</span> {html.escape(word)}</span>")


def _points(points: float, max_points: float) -> str:
    return f"{number(points)} / {number(max_points)}"


def _summary_table(view: SubmissionView) -> str:
    rows = "".join(
        f'<tr><th scope="row"><a href="#q{index}"><code>{html.escape(q.name)}</code></a></th>'
        f'<td class="num">{_points(q.points, q.max_points)}</td><td>{status_badge(q.status)}</td></tr>'
        for index, q in enumerate(view.questions, 1))
    return scroll_box("Points per question", '<table class="summary"><caption>Points per question</caption>'
                      '<thead><tr><th scope="col">Question</th><th scope="col" class="num">Points</th>'
                      f'<th scope="col">Status</th></tr></thead><tbody>{rows}</tbody></table>')


def _test_html(test: OutcomeView) -> str:
    kind = "hidden test" if test.hidden else "public test"
    message = f'<dd class="message">{html.escape(test.message)}</dd>' if test.message else ""
    return (f"<div><dt>{html.escape(humanise(test.name))} <code class=\"muted\">{html.escape(test.name)}</code></dt>"
            f'<dd><span class="kind">{kind}</span> {status_badge(test.status)}</dd>{message}</div>')


def _question_html(index: int, question: QuestionView) -> str:
    title = "The file" if question.name == "*" else f"Question <code>{html.escape(question.name)}</code>"
    score = f"<strong>{_points(question.points, question.max_points)}</strong> points " if question.max_points else ""
    parts = [f'<section aria-labelledby="q{index}"><h2 id="q{index}">{title}</h2>',
             f"<p>{score}{status_badge(question.status)}</p>"]
    if question.message:
        parts.append(f'<p class="message">{html.escape(question.message)}</p>')
    if question.note:
        parts.append(f'<p class="note">{html.escape(question.note)}</p>')
    if question.tests:
        passed = sum(t.status == "passed" for t in question.tests)
        parts.append(f"<h3>Tests: {passed} of {len(question.tests)} passed</h3>")
        parts.append('<dl class="tests">' + "".join(_test_html(t) for t in question.tests) + "</dl>")
    return "".join(parts) + "</section>"


def _total_text(view: SubmissionView) -> str:
    return f"{_points(view.points, view.max_points)} points" if view.graded else "not graded"


def render_html(view: SubmissionView) -> str:
    title = exercise_title(view.exercise) if view.exercise else "Your submission"
    body = [f"<h1>Feedback: {html.escape(title)}</h1>",
            f'<p class="muted">Submission: <code>{html.escape(view.submission)}</code></p>',
            f'<p class="total">Total: <strong>{_total_text(view)}</strong></p>']
    if view.graded:
        body.append(_summary_table(view))
    body += [_question_html(index, q) for index, q in enumerate(view.questions, 1)]
    if any(q.tests for q in view.questions):
        body.append(f'<p class="muted">{html.escape(ABOUT_TESTS)}</p>')
    return page_shell(f"Feedback: {title} ({view.submission})", "\n".join(body))


# ---------------------------------------------------------------------------------------------------------------
# Markdown (for an LMS comment box): the same content
# ---------------------------------------------------------------------------------------------------------------

# Emphasis, code, links (`[` starts one; `(` only follows it), tables and strikethrough; `<` and `>` are entities
# after html.escape. Syntax that only counts at the start of a line is `_MARKDOWN_BLOCK`'s.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MARKDOWN_BLOCK = re.compile(r"^(\s*(?:\d+)?)([#+=.)-])")   # `# h`, `- item`, `1. item` -> `\#`, `\-`, `1\.`


def markdown_text(text: str) -> str:
    """Shown as typed in any Markdown renderer: HTML disarmed (`<` becomes `&lt;`), Markdown syntax escaped, also
    a heading, list or rule marker at its start (a message is quoted as a block of its own)."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _MARKDOWN_BLOCK.sub(r"\1\\\2", text)


def _question_markdown(question: QuestionView) -> List[str]:
    title = "The file" if question.name == "*" else f"Question {markdown_text(question.name)}"
    score = f"**{_points(question.points, question.max_points)}** points, " if question.max_points else ""
    lines = [f"## {title}", "", score + status_words(question.status), ""]
    if question.message:
        lines += [f"> {markdown_text(question.message)}", ""]
    if question.note:
        lines += [markdown_text(question.note), ""]
    if question.tests:
        passed = sum(t.status == "passed" for t in question.tests)
        lines += [f"### Tests: {passed} of {len(question.tests)} passed", ""]
        for test in question.tests:
            kind = "hidden test" if test.hidden else "public test"
            line = f"- **{markdown_text(humanise(test.name))}** ({kind}): {status_words(test.status)}"
            lines.append(line + (f": {markdown_text(test.message)}" if test.message else ""))
        lines.append("")
    return lines


def render_markdown(view: SubmissionView) -> str:
    title = exercise_title(view.exercise) if view.exercise else "Your submission"
    lines = [f"# Feedback: {markdown_text(title)}", "", f"Submission: {markdown_text(view.submission)}", "",
             f"Total: **{_total_text(view)}**", ""]
    if view.graded:
        lines += ["| Question | Points | Status |", "| --- | ---: | --- |"]
        lines += [f"| {markdown_text(q.name)} | {_points(q.points, q.max_points)} | {status_words(q.status)} |"
                  for q in view.questions]
        lines.append("")
    for question in view.questions:
        lines += _question_markdown(question)
    if any(q.tests for q in view.questions):
        lines.append(markdown_text(ABOUT_TESTS))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------

def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: a reader never sees half a
    page, and a symbolic link planted under the page's name is replaced, never followed out of the folder."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_feedback(rows: Sequence[Row], exercises: Dict[str, Exercise], folder: Path) -> List[Path]:
    """One page per submission in `folder` (created if missing): `NAME.html` and `NAME.md` beside it, NAME from
    `page_stems`. Replaces only pages of those names; returns the HTML pages in the rows' order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    guard = HiddenGuard.of(exercises)
    views = submission_views(rows, guard)
    stems = page_stems(view.submission for view in views)
    pages = []
    for view in views:
        page = folder / f"{stems[view.submission]}.html"
        if page.parent != folder or page.name in ("", ".", ".."):   # the escaping makes this impossible
            raise ValueError(f"refusing to write feedback outside {folder}: {page}")
        write_atomically(page, render_html(view))
        write_atomically(folder / f"{stems[view.submission]}.md", render_markdown(view))
        pages.append(page)
    return pages
