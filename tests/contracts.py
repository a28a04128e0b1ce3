"""What the tests of `book`'s helpers share: the contract with torch, the argument strategies, and how many examples
to draw under the current Hypothesis profile.

The contract: torch refuses a call exactly when the helper refuses it, with an exception of torch's class
(`TypeError` for a wrong type, `RuntimeError` or `ValueError` for a value or shape) and a one-line message;
when torch accepts the call, the results are equal. Every public function of `book` has a `Contract`
(tests/test_contracts.py lists them): the tests that hold it to its counterpart on valid random inputs, and a
table of bad calls, each beside the torch call that makes the same mistake.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple, Type, Union

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
TORCH_REFUSES = (RuntimeError, ValueError, IndexError, TypeError)
# torch's avg_pool2d and unfold index the missing axis of a 2D input (IndexError) where max_pool2d and conv2d check
# the rank first (RuntimeError); the helpers check the rank first everywhere, so they raise a RuntimeError there.
RANK_ACCIDENTS = {IndexError: RuntimeError}


def torch_class(refusal: BaseException) -> Type[BaseException]:
    """The class a helper must raise where torch refused with `refusal`."""
    return RANK_ACCIDENTS.get(type(refusal), type(refusal))


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


def assert_refused_in_one_line(ours: Callable[..., object], refusal: BaseException, **kwargs) -> BaseException:
    """`ours(**kwargs)` raises an exception of the class torch refused the same call with (`refusal`), and its
    message is one line; returns what it raised."""
    with pytest.raises(torch_class(refusal)) as raised:
        ours(**kwargs)
    assert "\n" not in str(raised.value), "error messages are one line"
    return raised.value


def assert_same_outcome(ours: Callable[..., torch.Tensor], theirs: Callable[..., torch.Tensor], **kwargs) -> None:
    """torch refuses <=> we refuse with torch's exception class in one line; when torch accepts, the results are
    equal."""
    expected = outcome(theirs, **kwargs)
    if isinstance(expected, Exception):
        event(f"torch refuses: {type(expected).__name__}")
        assert_refused_in_one_line(ours, expected, **kwargs)
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


# ---------------------------------------------------------------------------------------------------------------
# Contracts: one per public function of `book`
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    """One bad call: the helper's (`ours`) beside the call of its torch counterpart that makes the same mistake
    (`theirs`). The helper must raise torch's exception class, in one line that contains `names` (the argument).
    Where torch has no such call, `theirs` is None and `expected` is the class, for the reason in `why`."""
    label: str
    ours: Callable[[], object]
    theirs: Optional[Callable[[], object]]
    names: str
    expected: Optional[Type[BaseException]] = None
    why: str = ""

    def __post_init__(self) -> None:
        if (self.theirs is None) == (self.expected is None) or (self.expected is not None and not self.why):
            raise ValueError(f"{self.label}: give either the torch call or the expected class and why")


@dataclass(frozen=True)
class Contract:
    """What `book.<module>.<name>` is held to: its counterpart, the tests (`file::name` under tests/) that compare
    them on valid random inputs, and the bad calls it refuses as the counterpart does."""
    counterpart: str
    valid: Tuple[str, ...]
    bad: Tuple[Bad, ...]


def assert_refused_as_torch_refuses(bad: Bad) -> None:
    """The bad call's torch counterpart refuses it, and the helper refuses it with the same class in one line that
    names the argument."""
    if bad.theirs is None:
        refusal: BaseException = bad.expected("no torch counterpart")
    else:
        refusal = outcome(bad.theirs)
        assert isinstance(refusal, BaseException), f"{bad.label}: torch accepts this call; the table is wrong"
    raised = assert_refused_in_one_line(bad.ours, refusal)
    assert bad.names in str(raised), f"{bad.label}: the message does not name {bad.names!r}: {raised}"
