"""Fail fast, in one line, when the interpreter cannot run the pinned stack (d2l 1.0.3 pins numpy 1.23.5)."""
import sys

SUPPORTED = ((3, 10), (3, 11))

if sys.version_info[:2] not in SUPPORTED:
    found = "%d.%d" % sys.version_info[:2]
    sys.exit("error: Python %s found, but this book needs Python 3.10 or 3.11 (d2l 1.0.3 pins numpy 1.23.5); "
             "run with PYTHON=python3.11 make ..." % found)
