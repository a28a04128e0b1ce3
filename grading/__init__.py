"""Exercises and their automatic grading: instructor tooling, beside its data (`source/`, `autograder/`).

* `grading.checks`: `check` and `no_library`, what every exercise test calls (in a student's notebook and in the
  sandbox, where it is the only module of this package that can be imported);
* `python -m grading PATH...`: grades submitted notebooks into a CSV: `material` reads the tests and the
  submissions, `forbidden` reads each notebook's source, `sandbox` runs it (bubblewrap around `runner`), `judge`
  compares what came back with the reference values, `report` writes the CSV and the summary;
* `python -m grading.build`: generates exercises/, solutions/ and grading/autograder/ from grading/source/;
* `python -m grading.bench`: seconds per submission, and what the sandbox costs.

This file stays empty of imports: a student's notebook imports `grading.checks` through it.
"""
