"""Helpers for the CNN course book: every chapter imports these instead of defining its own.

`book.conv`, `book.pool`, `book.shapes` and `book.cost` load with the package; the heavier modules
(`book.viz`, `book.data`, `book.train`, `book.bench`) load on first use. Grading is instructor tooling and
lives in its own package, `grading`.
"""
import importlib

from book import conv, cost, pool, shapes

__all__ = ["conv", "cost", "pool", "shapes", "viz", "data", "train", "bench"]
_LAZY = {"viz", "data", "train", "bench"}


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f"book.{name}")
    raise AttributeError(f"module 'book' has no attribute {name!r}")
