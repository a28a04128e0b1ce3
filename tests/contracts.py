"""What the property tests of `book.conv`, `book.pool`, `book.shapes` and `book.cost` share: the contract with
torch (it refuses a call exactly when we raise a one-line `ValueError`, and otherwise the results are equal), the
argument strategies, and how many examples to draw under the current Hypothesis profile.
"""
from __future__ import annotations

import os
import warnings
from typing import Callable, Dict, List, Optional, Tuple, Union

import pytest
import torch
from hypothesis import event, given, settings, strategies as st

# `full` (the default) draws every example a test asks for; `check` (make check, the fast loop) a tenth of them.
PROFILES = ("full", "check")
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "full")
if PROFILE not in PROFILES:
    raise ValueError(f"HYPOTHESIS_PROFILE must be one of {PROFILES}, got {PROFILE!r}")
CHECK_FRACTION = 10

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                  reason="no CUDA device on this machine"))]
# How torch refuses a call: avg_pool2d on a 2D input, for one, fails with an IndexError.
TORCH_REFUSES = (RuntimeError, ValueError, IndexError)


def examples(full: int) -> int:
    """How many examples a property test draws: `full` under the `full` profile, a tenth (at least 10) under
    `check`. An explicit `max_examples` overrides any profile, so tests pass theirs through this."""
    return full if PROFILE == "full" else max(10, full // CHECK_FRACTION)


def outcome(fn: Callable[..., object], **kwargs) -> object:
    """What `fn(**kwargs)` gives: its result, or the exception it refused the call with."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about 'same' with even kernels; that is not a refusal
        try:
            return fn(**kwargs)
        except TORCH_REFUSES as error:
            return error


def assert_refused_in_one_line(ours: Callable[..., object], **kwargs) -> None:
    """`ours(**kwargs)` raises a `ValueError` whose message is one line."""
    event("torch refuses")
    with pytest.raises(ValueError) as raised:
        ours(**kwargs)
    assert "\n" not in str(raised.value), "error messages are one line"


def assert_same_outcome(ours: Callable[..., torch.Tensor], theirs: Callable[..., torch.Tensor], **kwargs) -> None:
    """torch refuses <=> we raise a one-line ValueError; when torch accepts, the results are equal."""
    expected = outcome(theirs, **kwargs)
    if isinstance(expected, Exception):
        assert_refused_in_one_line(ours, **kwargs)
    else:
        event("torch accepts")
        torch.testing.assert_close(ours(**kwargs), expected)


def same_outcome_test(cases: Dict[str, Tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor],
                                             st.SearchStrategy]], full_examples: int) -> Callable:
    """The contract as a property test, one case `name: (ours, theirs, calls)` at a time: on calls drawn from
    `calls`, `assert_same_outcome(ours, theirs, **call)`. Assign the result to a `test_...` name in a test module."""
    @pytest.mark.parametrize("case", list(cases))   # also gives every case its own Hypothesis database key
    @settings(max_examples=examples(full_examples))
    @given(data=st.data())
    def test(case: str, data: st.DataObject) -> None:
        ours, theirs, calls = cases[case]
        assert_same_outcome(ours, theirs, **data.draw(calls, label="call"))
    return test


def as_pair(value: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    return tuple(value) if isinstance(value, tuple) else (value, value)


def spatial(values: st.SearchStrategy[int]) -> st.SearchStrategy:
    """An int or an (h, w) pair, as every spatial argument of torch accepts."""
    return st.one_of(values, st.tuples(values, values))


def one_mistake(draw, mistakes: List[str], wild: bool = True) -> Optional[str]:
    """Which argument to get wrong (None half the time) when `wild`; one at a time, so no refusal hides another."""
    return draw(st.sampled_from([None] * len(mistakes) + mistakes)) if wild else None
