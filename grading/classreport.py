"""The class report: one self-contained page of how a whole batch did, for the instructor.

`class_statistics(rows)` computes every number the page shows (so a test can recompute them from the CSV's rows),
and `write_report` renders them: per exercise the distribution of totals, each question's mean and share of full
marks (hardest first), each test's pass rate, the most common failure messages; then the timeouts and errors, the
review queue and the files not graded. Figures are drawn with the book's plotting style (`book.viz.style.BOOK_RC`)
on `matplotlib.figure.Figure` objects saved through the Agg canvas directly, so no backend is switched (that is
unsafe inside IPython), and are inlined as PNG, for a phone's width and a wider page in each colour scheme; each has
alt text stating its data and a table beside it holding the same numbers. Review rows count 0 points, as in the
CSV, until a person decides. Messages pass through `feedback.HiddenGuard` first, as on the students' pages.
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from grading.feedback import (HiddenGuard, csv_text, exercise_title, humanise, page_shell, scroll_box,
                              status_badge, write_atomically)
from grading.material import Exercise
from grading.report import Row, number

__all__ = ["class_statistics", "write_report", "normalise_message", "FULL_MARKS_TOLERANCE"]

FULL_MARKS_TOLERANCE = 1e-6   # points are rounded to 6 decimals by the judge (thirds of a point)
MOST_COMMON = 10
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])")

# Figure colours per scheme: text contrast as the page's; bars 3:1 or more against the background (WCAG 1.4.11),
# Okabe-Ito hues that stay apart for colour-blind readers, and the second series hatched besides.
SCHEME_RC = {
    "light": {"figure.facecolor": "#ffffff", "axes.facecolor": "#ffffff", "savefig.facecolor": "#ffffff",
              "text.color": "#1b1b1f", "axes.labelcolor": "#1b1b1f", "xtick.color": "#1b1b1f",
              "ytick.color": "#1b1b1f", "axes.edgecolor": "#4f5059", "hatch.color": "#ffffff"},
    "dark": {"figure.facecolor": "#16181b", "axes.facecolor": "#16181b", "savefig.facecolor": "#16181b",
             "text.color": "#ebebef", "axes.labelcolor": "#ebebef", "xtick.color": "#ebebef",
             "ytick.color": "#ebebef", "axes.edgecolor": "#b9bac2", "hatch.color": "#16181b"},
}
SERIES = {"light": ("#0072B2", "#B35900"), "dark": ("#56B4E9", "#E69F00")}
HIGHLIGHT = {"light": "#fde9c8", "dark": "#3d3320"}

EXTRA_CSS = """
main { max-width: 64rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.95rem; }
tr.hardest th, tr.hardest td { background: var(--card); font-weight: 600; }
.tag { display: inline-block; border: 1px solid currentColor; border-radius: 0.3rem; padding: 0 0.35rem;
  font-size: 0.85rem; font-weight: 600; color: var(--bad); }
nav ul { padding-left: 1.2rem; }
"""


# ---------------------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------------------

def normalise_message(message: str) -> str:
    """A failure message with each free-standing number replaced by `#`, so "3 of 11 elements differ" and "2 of
    11 elements differ" count as one kind of failure; numbers inside names (`convolve1d`, `float64`) stay."""
    return _NUMBER.sub("#", " ".join(message.split()))


def _histogram(totals: List[float], max_points: float) -> Dict[str, List[float]]:
    """Counts of totals in bands of whole points (wider for large exercises): [0, 1), [1, 2), ... with the last
    band closed, so a full score falls in the top band."""
    width = max(1, math.ceil(max_points / 20))
    top = max(width, math.ceil(max_points / width) * width)
    edges = list(range(0, top + 1, width))
    counts, _ = np.histogram(totals, bins=edges)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def _question_statistics(group: List[Row]) -> Dict[str, Any]:
    max_points = max(row.max_points for row in group)
    points = [row.points for row in group]
    mean = sum(points) / len(points)
    full = sum(row.points >= row.max_points - FULL_MARKS_TOLERANCE for row in group)
    return {"question": group[0].question, "max_points": max_points, "n": len(group), "mean": mean,
            "mean_share": mean / max_points if max_points else 0.0, "full_marks_share": full / len(group),
            "statuses": dict(Counter(row.status for row in group))}


def _test_statistics(group: List[Row]) -> List[Dict[str, Any]]:
    runs: Dict[Tuple[str, bool], List[str]] = {}
    for row in group:
        for name, hidden, status, _ in row.tests:
            runs.setdefault((name, hidden), []).append(status)
    return [{"question": group[0].question, "test": name, "hidden": hidden, "runs": len(statuses),
             "passed": statuses.count("passed"), "pass_rate": statuses.count("passed") / len(statuses)}
            for (name, hidden), statuses in runs.items()]


def _common_failures(rows: List[Row]) -> List[Dict[str, Any]]:
    counts: Counter = Counter()
    examples: Dict[Tuple[str, str, str], str] = {}
    for row in rows:
        for name, _, status, message in row.tests:
            if status != "passed":
                key = (row.question, name, normalise_message(f"{status}: {message}" if message else status))
                counts[key] += 1
                examples.setdefault(key, csv_text(message))
    return [{"question": q, "test": t, "pattern": p, "count": n, "example": examples[(q, t, p)]}
            for (q, t, p), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MOST_COMMON]]


def _exercise_statistics(group: List[Row]) -> Dict[str, Any]:
    by_question: Dict[str, List[Row]] = {}
    totals: Dict[str, float] = {}
    max_points: Dict[str, float] = {}
    for row in group:
        by_question.setdefault(row.question, []).append(row)
        totals[row.submission] = totals.get(row.submission, 0.0) + row.points
        max_points[row.submission] = max_points.get(row.submission, 0.0) + row.max_points
    exercise_max = max(max_points.values())
    questions = [_question_statistics(rows) for rows in by_question.values()]
    # Hardest first: the lowest mean share of the points, then the fewest full marks; ties keep the book's order.
    hardest_first = sorted(questions, key=lambda q: (q["mean_share"], q["full_marks_share"]))
    return {"submissions": len(totals), "max_points": exercise_max,
            "totals": {name: round(total, 6) for name, total in totals.items()},
            "mean_total": sum(totals.values()) / len(totals),
            "histogram": _histogram([round(t, 6) for t in totals.values()], exercise_max),
            "questions": hardest_first,
            "tests": [test for rows in by_question.values() for test in _test_statistics(rows)],
            "failures": _common_failures(group)}


def _listed(row: Row) -> Dict[str, str]:
    return {"submission": row.submission, "exercise": row.exercise, "question": row.question,
            "status": row.status, "message": csv_text(row.message)}


def class_statistics(rows: Sequence[Row]) -> Dict[str, Any]:
    """Every number of the class report, as plain data: `exercises` maps each exercise id to its statistics
    (`submissions`, `max_points`, `totals` per submission, `mean_total`, `histogram` {edges, counts}, `questions`
    hardest first {question, max_points, n, mean, mean_share, full_marks_share, statuses}, `tests` {question,
    test, hidden, runs, passed, pass_rate}, `failures` {question, test, pattern, count, example}); `problems`
    lists the timeout and error rows, `review` the rows a person must decide, `not_graded` the invalid files."""
    by_exercise: Dict[str, List[Row]] = {}
    for row in rows:
        if row.exercise and row.question != "*":
            by_exercise.setdefault(row.exercise, []).append(row)
    return {"exercises": {exercise: _exercise_statistics(group) for exercise, group in sorted(by_exercise.items())},
            "problems": [_listed(row) for row in rows if row.status in ("timeout", "error")],
            "review": [_listed(row) for row in rows if row.status == "review"],
            "not_graded": [_listed(row) for row in rows if row.status == "invalid"]}


# ---------------------------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------------------------

Draw = Callable[[Figure, str], None]


def _png(draw: Draw, scheme: str, size: Tuple[float, float]) -> Tuple[str, int, int]:
    """The figure `draw` makes, in the book's style and the scheme's colours, as base64 PNG with its pixel size."""
    from book.viz.style import BOOK_RC   # imported here: the book's package is heavy, and only figures need it

    with rc_context({**BOOK_RC, **SCHEME_RC[scheme]}):
        figure = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(figure)   # an Agg canvas of its own: no pyplot, no backend switch
        draw(figure, scheme)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        width, height = (int(round(v)) for v in figure.get_size_inches() * figure.dpi)
    # A chart has a few flat colours and their anti-aliased edges: 256 of them, undithered, look the same and
    # make the page a third of the size (the report carries four PNGs per figure).
    smaller = io.BytesIO()
    Image.open(buffer).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(smaller, "png", optimize=True)
    return base64.b64encode(smaller.getvalue()).decode("ascii"), width, height


PHONE_MEDIA = "(max-width: 40rem)"
PHONE_WIDTH_INCHES = 3.6   # drawn for a phone's width, its text stays legible rather than shrunk to half


def figure_html(draw: Draw, size: Tuple[float, float], alt: str, caption: str) -> str:
    """A figure drawn four times, for a phone's width and a wider page, in each colour scheme (the browser picks
    by the reader's screen and setting), with alt text that states its data and a caption pointing to the table
    that holds the same numbers."""
    sources = []
    for media, figure_size in ((PHONE_MEDIA, (PHONE_WIDTH_INCHES, size[1])), ("", size)):
        for scheme in ("dark", "light"):
            data, width, height = _png(draw, scheme, figure_size)
            condition = " and ".join(filter(None, [media, "(prefers-color-scheme: dark)" if scheme == "dark" else ""]))
            sources.append((condition, f"data:image/png;base64,{data}", width, height))
    *alternatives, (_, fallback, width, height) = sources   # the last, wide and light, is the <img> itself
    picture = "".join(f'<source media="{media}" srcset="{uri}" width="{w}" height="{h}">'
                      for media, uri, w, h in alternatives)
    return (f'<figure><picture>{picture}<img src="{fallback}" width="{width}" height="{height}" '
            f'alt="{html.escape(alt)}"></picture><figcaption>{html.escape(caption)}</figcaption></figure>')


def _band(edges: List[float], index: int) -> str:
    low, high = number(edges[index]), number(edges[index + 1])
    return f"{low} to {high}" if index == len(edges) - 2 else f"{low} to under {high}"


def _draw_histogram(histogram: Dict[str, List[float]]) -> Draw:
    def draw(figure: Figure, scheme: str) -> None:
        ax = figure.add_subplot()
        edges, counts = histogram["edges"], histogram["counts"]
        bars = ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=SERIES[scheme][0],
                      edgecolor=SCHEME_RC[scheme]["axes.facecolor"])
        ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], padding=2)
        ax.set_xticks(edges)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("total points")
        ax.set_ylabel("submissions")
        ax.set_ylim(0, max(counts + [1]) * 1.15)
    return draw


def _draw_questions(questions: List[Dict[str, Any]]) -> Draw:
    """Horizontal bars, hardest question at the top, marked by a band and the word "hardest"."""
    def draw(figure: Figure, scheme: str) -> None:
        ax = figure.add_subplot()
        y = np.arange(len(questions))[::-1].astype(float)
        means = [100 * q["mean_share"] for q in questions]
        fulls = [100 * q["full_marks_share"] for q in questions]
        ax.axhspan(y[0] - 0.5, y[0] + 0.5, color=HIGHLIGHT[scheme], zorder=0)
        mean_bars = ax.barh(y + 0.2, means, height=0.4, color=SERIES[scheme][0], label="mean score (% of points)")
        full_bars = ax.barh(y - 0.2, fulls, height=0.4, color=SERIES[scheme][1], hatch="//",
                            label="full marks (% of students)")
        for bars in (mean_bars, full_bars):
            ax.bar_label(bars, labels=[f"{v:.0f}%" for v in bars.datavalues], padding=3, fontsize=9)
        ax.set_yticks(y, [q["question"] + ("\n(hardest)" if i == 0 else "") for i, q in enumerate(questions)])
        ax.get_yticklabels()[0].set_fontweight("bold")
        ax.set_xlim(0, 115)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("percent")
        narrow = figure.get_figwidth() < 5   # on a phone's figure the legend's two entries go one above the other
        figure.legend(loc="outside upper center", frameon=False, fontsize=9, ncols=1 if narrow else 2)
    return draw


def _histogram_alt(title: str, stats: Dict[str, Any]) -> str:
    histogram = stats["histogram"]
    bands = "; ".join(f"{_band(histogram['edges'], i)} points: {count}"
                      for i, count in enumerate(histogram["counts"]))
    return (f"Histogram of the totals of {stats['submissions']} submissions for {title}, out of "
            f"{number(stats['max_points'])} points. Submissions per band: {bands}.")


def _questions_alt(title: str, questions: List[Dict[str, Any]]) -> str:
    bars = "; ".join(f"{q['question']}: mean {100 * q['mean_share']:.0f}% of its points, "
                     f"{100 * q['full_marks_share']:.0f}% full marks" for q in questions)
    return f"Bar chart of the questions of {title}, hardest first: {bars}."


# ---------------------------------------------------------------------------------------------------------------
# Tables and the page
# ---------------------------------------------------------------------------------------------------------------

def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (),
           text: Sequence[int] = (), row_classes: Sequence[str] = ()) -> str:
    """A table whose first cell of each row is its header (`scope="row"`); cells are HTML already escaped.
    Columns in `numeric` align right; those in `text` (messages) keep a readable width and wrap anywhere."""
    def cell_class(i: int) -> str:
        return ' class="num"' if i in numeric else ' class="text"' if i in text else ""
    head = "".join(f'<th scope="col"{cell_class(i)}>{html.escape(h)}</th>' for i, h in enumerate(headers))
    body = []
    for index, cells in enumerate(rows):
        css = f' class="{row_classes[index]}"' if index < len(row_classes) and row_classes[index] else ""
        tds = "".join(f"<td{cell_class(i)}>{cell}</td>" for i, cell in enumerate(cells[1:], 1))
        body.append(f'<tr{css}><th scope="row"{cell_class(0)}>{cells[0]}</th>{tds}</tr>')
    return scroll_box(caption, f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
                               f'<tbody>{"".join(body)}</tbody></table>')


def _path(submission: str) -> str:
    """A submission's path as code that may wrap after each `/` (never inside a name)."""
    return "<code>" + "/<wbr>".join(html.escape(part) for part in submission.split("/")) + "</code>"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _totals_section(title: str, stats: Dict[str, Any]) -> str:
    histogram = stats["histogram"]
    rows = [(_band(histogram["edges"], i), str(c)) for i, c in enumerate(histogram["counts"])]
    size = (6.4, 2.8)
    return ("<h3>Totals</h3>"
            f"<p>{stats['submissions']} submissions; mean total {number(round(stats['mean_total'], 2))} of "
            f"{number(stats['max_points'])} points.</p>"
            + figure_html(_draw_histogram(histogram), size, _histogram_alt(title, stats),
                          "Submissions per band of total points (numbers in the table below).")
            + _table(f"Submissions per band of total points, {title}", ["Total points", "Submissions"], rows, (1,)))


def _questions_section(title: str, questions: List[Dict[str, Any]]) -> str:
    rows = []
    for index, q in enumerate(questions):
        tag = ' <span class="tag">hardest</span>' if index == 0 else ""
        name = f"<code>{html.escape(q['question'])}</code>{tag}"
        statuses = " ".join(f"{status_badge(s)}&nbsp;{n}" for s, n in sorted(q["statuses"].items()))
        rows.append((name, f"{number(round(q['mean'], 2))} / {number(q['max_points'])}", _percent(q["mean_share"]),
                     _percent(q["full_marks_share"]), statuses))
    size = (6.4, 1.2 + 0.62 * len(questions))
    return ("<h3>Questions, hardest first</h3>"
            + figure_html(_draw_questions(questions), size, _questions_alt(title, questions),
                          "Mean score and share of full marks per question, hardest first (numbers in the table "
                          "below).")
            + _table(f"Questions of {title}, hardest first", ["Question", "Mean points", "Mean share",
                                                               "Full marks", "Statuses"], rows, (1, 2, 3),
                     row_classes=["hardest"]))


def _tests_section(title: str, tests: List[Dict[str, Any]]) -> str:
    rows = [(f"{html.escape(humanise(t['test']))} <code>{html.escape(t['test'])}</code>",
             f"<code>{html.escape(t['question'])}</code>", "hidden" if t["hidden"] else "public",
             f"{t['passed']} of {t['runs']} ({_percent(t['pass_rate'])})") for t in tests]
    return "<h3>Tests</h3>" + _table(f"Pass rate of each test, {title}", ["Test", "Question", "Kind", "Passed"],
                                     rows, (3,))


def _failures_section(title: str, failures: List[Dict[str, Any]]) -> str:
    if not failures:
        return "<h3>Most common failures</h3><p>No test failed.</p>"
    rows = [(str(f["count"]), f"<code>{html.escape(f['question'])}</code> / {html.escape(humanise(f['test']))}",
             html.escape(f["pattern"]), html.escape(f["example"])) for f in failures]
    return ("<h3>Most common failures</h3><p>Test messages with every number replaced by #, counted over all "
            f"submissions (at most {MOST_COMMON}).</p>"
            + _table(f"Most common failure messages, {title}", ["Count", "Question / test", "Message", "Example"],
                     rows, (0,), (2, 3)))


def _exercise_section(index: int, exercise: str, stats: Dict[str, Any]) -> str:
    title = exercise_title(exercise)
    return (f'<section aria-labelledby="ex{index}"><h2 id="ex{index}">{html.escape(title)}</h2>'
            + _totals_section(title, stats) + _questions_section(title, stats["questions"])
            + _tests_section(title, stats["tests"]) + _failures_section(title, stats["failures"]) + "</section>")


def _listing_section(heading: str, anchor: str, listed: List[Dict[str, str]], empty: str, note: str = "") -> str:
    if not listed:
        return f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{heading}</h2><p>{empty}</p></section>'
    rows = [(_path(item["submission"]), html.escape(item["exercise"] or "-"),
             f"<code>{html.escape(item['question'])}</code>", status_badge(item["status"]),
             html.escape(item["message"])) for item in listed]
    return (f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{heading}</h2>{note}'
            + _table(f"{heading}: {len(listed)} row(s)", ["Submission", "Exercise", "Question", "Status", "Reason"],
                     rows, text=(4,))
            + "</section>")


def render_report(statistics: Dict[str, Any]) -> str:
    exercises = statistics["exercises"]
    contents = "".join(f'<li><a href="#ex{i}">{html.escape(exercise_title(e))}</a></li>'
                       for i, e in enumerate(exercises, 1))
    body = ["<h1>Class report</h1>",
            f"<p>{sum(s['submissions'] for s in exercises.values())} graded submissions in {len(exercises)} "
            f"exercise(s); {len(statistics['review'])} question(s) wait for review, which count 0 points until a "
            f"person decides; {len(statistics['not_graded'])} file(s) not graded.</p>",
            f'<nav aria-label="Contents"><ul>{contents}<li><a href="#problems">Timeouts and errors</a></li>'
            '<li><a href="#review">Review queue</a></li><li><a href="#invalid">Not graded</a></li></ul></nav>']
    body += [_exercise_section(i, e, s) for i, (e, s) in enumerate(exercises.items(), 1)]
    body.append(_listing_section("Timeouts and errors", "problems", statistics["problems"], "None."))
    body.append(_listing_section(
        "Review queue", "review", statistics["review"], "Nothing to review.",
        "<p>For each, a person reads the lines cited and decides whether the answer calls what the question "
        "forbids; until then the question counts 0 points.</p>"))
    body.append(_listing_section("Not graded", "invalid", statistics["not_graded"], "Every file was graded."))
    return page_shell("Class report", "\n".join(body), EXTRA_CSS)


def write_report(rows: Sequence[Row], exercises: Dict[str, Exercise], path: Path) -> None:
    """The class report of `rows` as one self-contained HTML page at `path`, replaced atomically; messages are
    checked against `exercises`' hidden material (`HiddenGuard`) before they are shown."""
    guard = HiddenGuard.of(exercises)
    write_atomically(Path(path), render_report(class_statistics([guard.row(row) for row in rows])))
