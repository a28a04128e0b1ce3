"""Whose submission a file is, and which copy of it counts: read from its path as the grader shows it.

Used by the grader (a student's resubmissions, the roster) and by the gradebook; nothing here opens a file.
"""
from __future__ import annotations

import re
from typing import Collection, List

# An LMS download puts the student before the first `_<digits>_`: Canvas `smithalice_12345_67890_<file>` (user id,
# submission id), Moodle `Alice Smith_123_assignsubmission_file_<file>` (participant id).
LMS_PREFIX = re.compile(r"^(.+?)_\d+_")
CANVAS_LATE = re.compile(r"_late$", re.IGNORECASE)   # Canvas marks a late submission `smithalice_late_12345_...`
# What a download or an LMS appends to a file submitted or downloaded again: `-1` (Canvas), ` (1)` (browsers).
COPY_SUFFIX = re.compile(r"(?:-\d+|\s*\(\d+\))+$")
BROWSER_COPY = re.compile(r"(?:\s*\(\d+\))+$")
SEPARATORS = " _-."


def unprotect(text: str) -> str:
    """Undo `safe_text`'s formula protection: it prefixes one `'` exactly when the text looks like a formula or
    already starts with `'`, so a field starting with `'` carries exactly one added quote, and no other field does.
    (Its escapes of control and invisible characters stay: they are the text as the grader could show it.)"""
    return text[1:] if text.startswith("'") else text


def path_parts(submission: str) -> List[str]:
    """The submission's path, formula protection undone, as a list of names (`.` and empty ones dropped)."""
    return [part for part in unprotect(submission).split("/") if part not in ("", ".")]


def file_stem(name: str) -> str:
    return name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name


def exercise_in_name(name: str, exercise_ids: Collection[str]) -> str:
    """The longest of `exercise_ids` that the file name contains, or ""."""
    found = [e for e in exercise_ids if e and e in name]
    return max(found, key=len) if found else ""


def lms_student(text: str) -> str:
    """`text` up to an LMS download's `_<digits>_` (and Canvas's `_late` flag), if it has one."""
    match = LMS_PREFIX.match(text)
    return CANVAS_LATE.sub("", match.group(1)) if match else text


def student_of(submission: str, exercise_ids: Collection[str]) -> str:
    """Whose submission this is, from its path as the grades CSV shows it ("" if the path names no student).

    - Folder per student: `submissions/alice/01_convolution_math.ipynb` -> `alice`. When the file name is just an
      exercise's id (with a copy suffix such as `-1` or ` (1)`), the student is the folder directly containing it.
    - Student in the file name: `submissions/bob_01_convolution_math.ipynb` -> `bob`: the file name with the
      exercise id, copy suffixes and the separators next to them removed (the part before the id; if nothing
      precedes it, the part after it). A name holding no exercise id is the student's whole, less a browser's copy
      suffix: `bob (1).ipynb` -> `bob` (`team-2.ipynb` stays `team-2`).
    - LMS downloads: the part before the first `_<digits>_` is the student, in the file name or in the folder name.
      Canvas names files `lastnamefirstname_12345_67890_01_convolution_math.ipynb` (user id, submission id; a late
      one `lastnamefirstname_late_12345_...`, whose `_late` is dropped) -> `lastnamefirstname`; Moodle names them,
      or their folders, `Alice Smith_123_assignsubmission_file_...` -> `Alice Smith`.

    The exercise id searched for is the longest of `exercise_ids` the file name contains. The CSV's formula
    protection (a leading `'`) is undone first, so `'=x/...` is read as the path `=x/...`. (`entries_of` also
    gives every file in a student's folder to that student, whatever its name: see `class_folders`.)
    """
    parts = path_parts(submission)
    if not parts:
        return ""
    stem = file_stem(parts[-1])
    exercise = exercise_in_name(stem, exercise_ids)
    if not exercise:   # only a browser's ` (1)` goes: `team-1` and `team-2` may well be two students
        return lms_student(BROWSER_COPY.sub("", stem)).strip(SEPARATORS)
    before, _, after = stem.partition(exercise)
    before = before.rstrip(SEPARATORS)
    after = COPY_SUFFIX.sub("", after).lstrip(SEPARATORS)
    if before:
        return lms_student(before + "_").rstrip(SEPARATORS)   # the `_` lets `name_12345_67890` match
    if after:
        return after
    folder = parts[-2] if len(parts) > 1 else ""
    return lms_student(folder).strip(SEPARATORS)


def copy_number(name: str) -> int:
    """Which copy a file name says it is: `x.ipynb` 0, `x-1.ipynb` or `x (1).ipynb` 1, `x-2.ipynb` 2 (an LMS numbers
    a student's resubmissions so, a browser its repeated downloads)."""
    suffix = COPY_SUFFIX.search(file_stem(name))
    numbers = re.findall(r"\d+", suffix.group()) if suffix else []
    return int(numbers[-1]) if numbers else 0


def superseded(paths: List[str], exercise_ids: Collection[str]) -> dict:
    """{earlier copy: the later one that replaces it} among `paths` (display paths): files of one student and one
    exercise, the latest by copy number. Only files whose names say both student and exercise are grouped."""
    groups: dict = {}
    for path in paths:
        name = path_parts(path)[-1] if path_parts(path) else ""
        exercise, student = exercise_in_name(file_stem(name), exercise_ids), student_of(path, exercise_ids)
        if exercise and student:
            groups.setdefault((student, exercise), []).append(path)
    replaced = {}
    for copies in (group for group in groups.values() if len(group) > 1):
        latest = max(copies, key=lambda p: (copy_number(path_parts(p)[-1]), p))
        replaced.update({p: latest for p in copies if p != latest})
    return replaced
