"""Judging: from what the sandbox reported, and what the notebook's source shows, to one row per question.

Runs in the grader's process. The sandbox's events are only data: each is type-checked, values are decoded by
`grading.compare` and compared there with the reference values, which never entered the sandbox.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Sequence, Tuple

from grading.compare import MalformedValue, apply_rule, compare, decode
from grading.forbidden import Finding, Notebook
from grading.material import Exercise, Question, Test
from grading.report import Row
from grading.sandbox import SandboxRun


def _judge_test(test: Test, event: Optional[dict], reference: List[dict], run: SandboxRun) -> Tuple[str, str]:
    """(status, message) of one test: passed, failed, error, timeout or forbidden."""
    if run.flooded:   # what was read may be forged, and the real reports that would show it went unread
        return "error", "the notebook flooded the grader's channel with lines: no result of its run can be trusted"
    if event is None:
        if run.timed_out:
            return "timeout", "the notebook ran past its time limit before this test ran"
        return "error", f"the notebook's process ended (exit status {run.returncode}) before this test ran"
    if event.get("duplicate"):
        return "failed", "the result of this test was reported twice (tampering?)"
    status, message = event.get("status"), str(event.get("message", ""))[:300]
    if status in ("timeout", "error", "forbidden", "untraced"):
        return status, message
    records = event.get("records")
    if status != "ran" or type(records) is not list:
        return "failed", "malformed result"
    if len(records) != len(reference):
        return "failed", f"the test checked {len(records)} values, expected {len(reference)}"
    info = ""
    for expected, got in zip(reference, records):
        if type(got) is not dict:
            return "failed", "malformed result"
        if "unsupported" in got:
            return "failed", str(got["unsupported"])[:300]
        try:
            value = decode(got.get("value"))
            if expected.get("rule"):
                # The rule's context is the reference's, recorded when the exercise was built, never the run's.
                ok, note = apply_rule(expected["rule"], value, decode(expected.get("context")))
                info = note if ok else info
            else:
                # The author's literal when the test has one (the build checked the reference matches it).
                target = expected["expected"] if "expected" in expected else expected["value"]
                ok, note = compare(decode(target), value, atol=expected["atol"], rtol=expected["rtol"],
                                   reveal=not test.hidden)
        except MalformedValue as error:
            return "failed", f"malformed result: {error}"
        except Exception as error:   # a value no rule foresaw must cost the test, never crash the batch
            return "failed", f"could not compare the result: {type(error).__name__}: {error}"[:300]
        if not ok:
            return "failed", note
    return "passed", info


def _parameters(question: Question) -> List[str]:
    """The notebook names the question's tests take (the answers they call)."""
    names: List[str] = []
    for test in question.tests:
        for node in ast.parse(test.source).body:
            if isinstance(node, ast.FunctionDef):
                names += [a.arg for a in node.args.args if a.arg != "env"]
    return names


def source_verdicts(notebook: Notebook, exercise: Exercise) -> Dict[str, List[Finding]]:
    """For each question that forbids the library, what the source shows against it (see grading.forbidden)."""
    if not any(q.forbids_library for q in exercise.questions):
        return {}
    return {q.name: notebook.findings(q, _parameters(q)) for q in exercise.questions if q.forbids_library}


def run_verdicts(notebook: Notebook, exercise: Exercise, run: SandboxRun,
                 findings: Dict[str, List[Finding]]) -> Dict[str, List[Finding]]:
    """`findings` plus what the run shows against the source, for each question that forbids the library: a watched
    library (see grading.forbidden.WATCHED_MODULES) loaded although no import names it, or a run whose closing
    report, which lists those libraries, was forged (twice) or suppressed (missing though the tests reported and the
    run was not killed at its time limit), or a cell the scan could not parse that ran all the same."""
    forbidding = [q for q in exercise.questions if q.forbids_library]
    if not forbidding:
        return findings
    done = [e for e in run.events if e.get("event") == "done"]
    loaded = done[0].get("loaded") if len(done) == 1 else []
    if len(done) > 1 or type(loaded) is not list or not all(type(m) is str for m in loaded):
        extra = [Finding("review", "a forged or malformed closing report from the run", 0, 0)]
    else:
        extra = notebook.hidden_loads(loaded)
    # A cell the scan could not parse was skipped as one IPython cannot run either; one that ran all the same was
    # read differently by the shell (a transform the scan does not make) and hid what it holds.
    unparsed = set(notebook.unparsed())
    ran = sorted({e.get("index") for e in run.events if e.get("event") == "cell" and e.get("status") == "ok"
                  and type(e.get("index")) is int} & unparsed)
    extra += [Finding("review", f"code cell {i + 1}, which ran although the scan could not parse it", 0, 0)
              for i in ran[:3]]
    reported = {str(e.get("question")) for e in run.events if e.get("event") == "test"}
    result = dict(findings)
    for question in forbidding:
        mine = list(extra)
        if not done and not run.timed_out and question.name in reported:
            mine.append(Finding("review", "the run ended after the tests without its closing report", 0, 0))
        if mine:
            result[question.name] = list(result.get(question.name, [])) + mine
    return result


def judge(submission: str, exercise: Exercise, run: SandboxRun,
          findings: Optional[Dict[str, List[Finding]]] = None) -> List[Row]:
    findings = findings or {}
    tests: Dict[Tuple[str, str], dict] = {}
    cell_timeouts: List[dict] = []
    for event in run.events:
        if event.get("event") == "test":
            key = (str(event.get("question")), str(event.get("test")))
            tests[key] = {"duplicate": True} if key in tests else event
        elif event.get("event") == "cell" and event.get("status") == "timeout":
            cell_timeouts.append(event)
    rows = []
    for question in exercise.questions:
        earned, verdicts = 0.0, []
        for test in question.tests:
            status, message = _judge_test(test, tests.get((question.name, test.name)),
                                          exercise.reference.get(question.name, {}).get(test.name, []), run)
            earned += test.points if status == "passed" else 0.0
            verdicts.append((test, status, message))
        rows.append(_question_row(submission, exercise, question, earned, verdicts, cell_timeouts,
                                  findings.get(question.name, [])))
    return rows


def _question_row(submission: str, exercise: Exercise, question: Question, earned: float,
                  verdicts: List[Tuple[Test, str, str]], cell_timeouts: List[dict],
                  findings: List[Finding]) -> Row:
    def row(points: float, status: str, message: str) -> Row:
        return Row(submission, exercise.id, question.name, points, question.points, status, message)

    # Forbidden use, by the source or by the trace, costs the whole question: the answer is not the student's own.
    source = [f for f in findings if f.kind in ("forbidden", "autograd")]
    if source:
        what = "autograd" if source[0].kind == "autograd" else "a library operation"
        listed = "; ".join(dict.fromkeys(f.describe() for f in source[:4]))
        return row(0.0, "failed", f"forbidden: the answer uses {what} ({listed}), which this question asks you "
                                  "to write yourself")
    traced = next((m for _, s, m in verdicts if s == "forbidden"), None)
    if traced is not None:
        return row(0.0, "failed", f"forbidden: {traced}")
    untraced = next((m for _, s, m in verdicts if s == "untraced"), None)
    if untraced is not None:   # the run's own word, which can only cost its own points
        findings = list(findings) + [Finding("review", untraced, 0, 0)]
    review = [f for f in findings if f.kind == "review"]
    if review:
        listed = "; ".join(f.describe() for f in review[:3]) + ("; ..." if len(review) > 3 else "")
        return row(0.0, "review", f"needs a person: the notebook uses code whose target cannot be read from its "
                                  f"source, or that the trace cannot follow ({listed}), so library use cannot be ruled out; tests alone would give "
                                  f"{earned:g}/{question.points:g}")
    statuses = [status for _, status, _ in verdicts]
    if all(status == "passed" for status in statuses):
        return row(question.points, "passed", "; ".join(message for _, _, message in verdicts if message))
    status = next(s for s in ("timeout", "error", "failed") if s in statuses)
    test, _, message = next(v for v in verdicts if v[1] != "passed")
    kind = "hidden" if test.hidden else "public"
    failed = sum(s != "passed" for s in statuses)
    message = f"{failed} of {len(statuses)} tests not passed; {kind} test {test.name}: {message}"
    owned = {cell_id for q in exercise.questions for cell_id in q.cell_ids}
    mine = [c for c in cell_timeouts if c.get("id") in question.cell_ids or c.get("id") not in owned]
    if mine:
        status = "timeout"
        message = f"{mine[0].get('message', 'a cell ran past its time limit')}; {message}"
    return row(round(earned, 6), status, message)
