"""Judging: from what the sandbox reported, and what the notebook's source shows, to one row per question.

Runs in the grader's process. The sandbox's events are only data: each is type-checked, values are decoded by
`grading.compare` and compared there with the reference values, which never entered the sandbox. A question whose
answer's closure is clean is judged only by what its closure's run reported, before any other cell ran; every other
question by what the whole notebook's run reported.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Dict, List, Optional, Tuple

from grading.compare import MalformedValue, apply_rule, compare, decode
from grading.forbidden import Answer, Finding, Notebook, parse, verdict
from grading.material import Exercise, Question, Test
from grading.report import Row
from grading.sandbox import SandboxRun


def _judge_test(test: Test, event: Optional[dict], reference: List[dict], run: SandboxRun,
                trusted: bool) -> Tuple[str, str]:
    """(status, message) of one test: passed, failed, error, timeout or forbidden. `trusted`: reported in the closure
    phase, before any other cell ran (a later flood cannot have forged it)."""
    if run.flooded and not trusted:   # what was read may be forged, and the real reports that would show it went unread
        return "error", "the notebook flooded the grader's channel with lines: no result of its run can be trusted"
    if event is None:
        if run.timed_out:
            return "timeout", "the notebook ran past its time limit before this test ran"
        if run.oversized:
            return "error", "the test's result was too large to read (over 4 MiB): return what the question asks"
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
        if not ok:   # the case's name as the reference recorded it: the submission's run cannot word it
            return "failed", f"{expected['case']}: {note}" if type(expected.get("case")) is str else note
    return "passed", info


def _parameters(question: Question) -> List[str]:
    """The notebook names the question's tests take (the answers they call)."""
    names: List[str] = []
    for test in question.tests:
        for node in parse(test.source).body:
            if isinstance(node, ast.FunctionDef):
                names += [a.arg for a in node.args.args if a.arg != "env"]
    return names


def answers(notebook: Notebook, exercise: Exercise) -> Dict[str, Answer]:
    """For each question that forbids the library, its answer's closure and what the policy finds in it."""
    return {q.name: notebook.answer(q.policy, _parameters(q), q.cell_ids) for q in exercise.questions
            if q.forbids_library}


def split_jobs(notebook: Notebook, exercise: Exercise, found: Dict[str, Answer]) -> Tuple[dict, List[dict]]:
    """(closure, tests): the clean answers' closures with their questions' tests, run first and alone; every other
    question's tests, run after the whole notebook."""
    clean = {name for name, answer in found.items() if answer.clean}
    jobs = exercise.jobs()
    closure = {"cells": notebook.program(found[name] for name in sorted(clean)),
               "tests": [job for job in jobs if job["question"] in clean]}
    return closure, [job for job in jobs if job["question"] not in clean]


def judge(submission: str, exercise: Exercise, run: SandboxRun,
          found: Optional[Dict[str, Answer]] = None) -> List[Row]:
    found = found or {}
    clean = {name for name, answer in found.items() if answer.clean}
    tests: Dict[Tuple[str, str], dict] = {}
    cell_timeouts: Dict[str, List[dict]] = {"closure": [], "notebook": []}
    for phase, events in (("closure", run.closure_events()), ("notebook", run.notebook_events())):
        for event in events:
            if event.get("event") == "test":
                question = str(event.get("question"))
                if (question in clean) != (phase == "closure"):
                    continue   # a report from the other phase can only be forged
                key = (question, str(event.get("test")))
                tests[key] = {"duplicate": True} if key in tests else event
            elif event.get("event") == "cell" and event.get("status") == "timeout" and \
                    event.get("phase") == phase:
                cell_timeouts[phase].append(event)
    failed_cells = [str(e.get("message", ""))[:200] for e in run.notebook_events()
                    if e.get("event") == "cell" and e.get("status") == "error"]
    rows = []
    for question in exercise.questions:
        earned, verdicts = 0.0, []
        for test in question.tests:
            status, message = _judge_test(test, tests.get((question.name, test.name)),
                                          exercise.reference.get(question.name, {}).get(test.name, []), run,
                                          trusted=question.name in clean)
            if status == "error" and "is not defined" in message and failed_cells:
                message = f"{message} ({failed_cells[0]})"   # the cell that should have defined it, and why not
            earned += test.points if status == "passed" else 0.0
            verdicts.append((test, status, message))
        answer = found.get(question.name)
        rows.append(_question_row(submission, exercise, question, earned, verdicts,
                                  cell_timeouts["closure" if question.name in clean else "notebook"],
                                  answer.findings if answer is not None else []))
    return [_without_hidden_code(row, exercise) for row in rows]


def _without_hidden_code(row: Row, exercise: Exercise) -> Row:
    """A message never quotes a hidden test's code (a run can read its tests' source and raise it as an error):
    each of its lines found in a message is replaced by a placeholder."""
    lines = {line.strip() for question in exercise.questions for test in question.tests if test.hidden
             for line in test.source.splitlines() if len(line.strip()) >= 12}

    def redacted(message: str) -> str:
        for line in lines:
            message = message.replace(line, "[a hidden test's code]")
        return message
    return dataclasses.replace(row, message=redacted(row.message),
                               tests=tuple((n, h, s, redacted(m)) for n, h, s, m in row.tests))


def _question_row(submission: str, exercise: Exercise, question: Question, earned: float,
                  verdicts: List[Tuple[Test, str, str]], cell_timeouts: List[dict],
                  findings: List[Finding]) -> Row:
    outcomes = tuple((test.name, test.hidden, status, message) for test, status, message in verdicts)

    def row(points: float, status: str, message: str) -> Row:
        return Row(submission, exercise.id, question.name, points, question.points, status, message, outcomes)

    decided = verdict(findings)
    if decided is not None and decided[0] == "failed":
        return row(0.0, *decided)
    traced = next((m for _, s, m in verdicts if s == "forbidden"), None)
    if traced is not None:
        return row(0.0, "failed", f"forbidden: {traced}")
    untraced = next((m for _, s, m in verdicts if s == "untraced"), None)
    if decided is None and untraced is not None:   # the run's own word, which can only cost its own points
        decided = verdict([Finding("review", untraced, 0, 0)])
    if decided is not None:
        return row(0.0, "review", f"{decided[1]}; tests alone would give {earned:g}/{question.points:g}")
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
