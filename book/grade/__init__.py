"""Exercises and their automatic grading.

* `book.grade.checks`: `check` and `no_library`, what every exercise test calls (in a notebook and in the grader);
* `book.grade.build`: `python -m book.grade.build` generates exercises/, solutions/ and grading/autograder/ from
  the single sources in grading/source/ (through otter-grader's `otter assign`);
* `python -m book.grade PATH...`: grades submitted notebooks into a CSV (`book.grade.grader`, `book.grade.sandbox`).
"""
