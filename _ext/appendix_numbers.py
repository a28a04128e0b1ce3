"""Appendices numbered as textbooks number them: Fig. A.1 and (A.1), not Fig. 1.

The chapters sit in a numbered part of the table of contents, so Sphinx numbers their figures and equations per
chapter (Fig. 4.2). An appendix sits in the unnumbered back matter, where Sphinx would number its figures on their
own (Fig. 1), which reads like a first chapter's figure. For each page listed in the `appendices` setting
(docnames, in order), every figure, table, code-block and equation number gets that appendix's letter in front:
the first appendix is A, the second B.
"""
from __future__ import annotations

import string
from typing import Any, Dict, List

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError


def letter_appendix_numbers(app: Sphinx, env: BuildEnvironment) -> List[str]:
    appendices = list(app.config.appendices)
    if len(appendices) > len(string.ascii_uppercase):
        raise ConfigError(f"appendices: {len(appendices)} pages, but only 26 letters; list at most 26")
    for letter, docname in zip(string.ascii_uppercase, appendices):
        if docname not in env.found_docs:
            raise ConfigError(f"appendices: no page {docname!r}; list docnames such as 'chapters/appendix_measurement'")
        for numbers in env.toc_fignumbers.get(docname, {}).values():
            # Sphinx counts on across the unnumbered back matter (appendix B's first figure would be its
            # predecessor's count plus one) and assigns fresh numbers on every build: number each appendix's own
            # figures from 1, in the order Sphinx counted them, unless they already carry the letter.
            fresh = sorted((number, node_id) for node_id, number in numbers.items() if number and number[0] != letter)
            for count, (_, node_id) in enumerate(fresh, start=1):
                numbers[node_id] = (letter, count)
    return []


def setup(app: Sphinx) -> Dict[str, Any]:
    app.add_config_value("appendices", [], "env", types=[list])
    # After Sphinx's own toctree collector (priority 500) has assigned the numbers.
    app.connect("env-get-updated", letter_appendix_numbers, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
