"""`book.pool` against PyTorch: the notes' worked examples, hand-computed ceil_mode edge cases, property tests.

The property tests draw arbitrary pooling calls, half of them with one argument wrong, and check that torch refuses a
call exactly when `book.pool` refuses it, with torch's exception class and one line, and that accepted calls give
equal results (float64, `assert_close`'s default tolerances). Max pooling only compares values, so float32 and
integers must match too.
"""
from __future__ import annotations

from typing import Dict

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, event, given, settings, strategies as st

from book import pool
from contracts import DEVICES, assert_same_outcome, examples, one_mistake, same_outcome_test, spatial

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---------------------------------------------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------------------------------------------

def test_pool2d_worked_examples():
    X = torch.arange(9.0).reshape(3, 3)
    torch.testing.assert_close(pool.pool2d(X, (2, 2)), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    torch.testing.assert_close(pool.pool2d(X, (2, 2), "avg"), torch.tensor([[2.0, 3.0], [5.0, 6.0]]))


def test_max_pool_worked_examples():
    X = torch.arange(16.0).reshape(1, 1, 4, 4)
    torch.testing.assert_close(pool.max_pool2d(X, 3), torch.tensor([[[[10.0]]]]))
    torch.testing.assert_close(pool.max_pool2d(X, 3, padding=1, stride=2), torch.tensor([[[[5.0, 7.0], [13.0, 15.0]]]]))
    torch.testing.assert_close(pool.max_pool2d(X, 3), torch.nn.MaxPool2d(3)(X))
    torch.testing.assert_close(pool.max_pool2d(X, 3, padding=1, stride=2),
                               torch.nn.MaxPool2d(3, padding=1, stride=2)(X))


def test_max_pool_of_negative_numbers_never_picks_the_padding():
    X = -torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    torch.testing.assert_close(pool.max_pool2d(X, 3, padding=1, stride=2),
                               torch.tensor([[[[-1.0, -2.0], [-5.0, -6.0]]]]))


@pytest.mark.parametrize("count_include_pad, expected", [(True, [1.0, 3.0, 2.0]), (False, [1.5, 3.0, 4.0])])
def test_avg_pool_ceil_mode_divisors_worked_by_hand(count_include_pad, expected):
    """Windows of 3 starting at -1, 1, 3 over [1, 2, 3, 4] padded by 1: the last hangs one cell past the padding.

    Sums 3, 9, 4. With count_include_pad the divisors are 3, 3, 2 (padding counts, the overhang never does);
    without, 2, 3, 1.
    """
    X = torch.tensor([[[[1.0, 2.0, 3.0, 4.0]]]])
    args = dict(kernel_size=(1, 3), stride=(1, 2), padding=(0, 1), ceil_mode=True, count_include_pad=count_include_pad)
    torch.testing.assert_close(pool.avg_pool2d(X, **args), torch.tensor([[[expected]]]))
    torch.testing.assert_close(pool.avg_pool2d(X, **args), F.avg_pool2d(X, **args))


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    """n=5, k=3, s=3, p=1: rounding up gives 3 windows, but the third would start at 5, inside the right padding."""
    X = torch.arange(25.0).reshape(1, 1, 5, 5)
    Y = pool.max_pool2d(X, 3, stride=3, padding=1, ceil_mode=True)
    assert Y.shape == (1, 1, 2, 2)
    torch.testing.assert_close(Y, F.max_pool2d(X, 3, stride=3, padding=1, ceil_mode=True))


def test_max_pool_on_integers_equals_torch():
    X = torch.randint(-100, 100, (2, 3, 7, 6))
    torch.testing.assert_close(pool.max_pool2d(X, 3, 2, 1, ceil_mode=True), F.max_pool2d(X, 3, 2, 1, ceil_mode=True))


def test_negative_divisor_override_is_allowed_as_in_torch():
    X = torch.arange(16.0).reshape(1, 1, 4, 4)
    torch.testing.assert_close(pool.avg_pool2d(X, 2, divisor_override=-2), F.avg_pool2d(X, 2, divisor_override=-2))


@pytest.mark.parametrize("call, name", [
    (lambda X: pool.max_pool2d(X, 3, padding=2, dilation=2), "padding"),
    (lambda X: pool.max_pool2d(X, 2, padding=2), "padding"),
    (lambda X: pool.max_pool2d(X, 0), "kernel_size"),
    (lambda X: pool.max_pool2d(X, 2, stride=0), "stride"),
    (lambda X: pool.max_pool2d(X, 2, dilation=0), "dilation"),
    (lambda X: pool.max_pool2d(X, 9), "output size"),
    (lambda X: pool.max_pool2d(X[0, 0], 2), "input"),
    (lambda X: pool.avg_pool2d(X, 2, padding=-1), "padding"),
    (lambda X: pool.avg_pool2d(X, 2, divisor_override=0), "divisor_override"),
    (lambda X: pool.pool2d(X[0, 0], (2, 2), "median"), "mode"),
])
def test_invalid_arguments_raise_a_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name) as raised:
        call(torch.zeros(1, 1, 6, 6))
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------------------------

POOL_MISTAKES = ["kernel_size", "stride", "padding", "dilation", "input_dims"]


@st.composite
def pool_calls(draw, wild: bool = True, max_pool: bool = True, dtype=torch.float64,
               device: str = "cpu") -> Dict[str, object]:
    """Keyword arguments for `max_pool2d` (or `avg_pool2d`); with `wild`, half the calls get one argument wrong.

    Padding above half the kernel is one of the mistakes; kernels larger than the padded input and ceil_mode
    windows come up by themselves.
    """
    wrong = one_mistake(draw, POOL_MISTAKES if max_pool else POOL_MISTAKES[:3] + ["input_dims", "divisor"], wild)
    kernel = draw(spatial(st.integers(-1, 0) if wrong == "kernel_size" else st.integers(1, 4)))
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)

    def paddings(k_: int) -> st.SearchStrategy[int]:
        """torch pads by at most half the kernel (rounded down), and never by a negative amount."""
        return st.sampled_from([-1, k_ // 2 + 1]) if wrong == "padding" else st.integers(0, max(k_ // 2, 0))
    padding = draw(st.one_of(paddings(min(k)), st.tuples(paddings(k[0]), paddings(k[1]))))
    stride = draw(spatial(st.integers(-1, 0)) if wrong == "stride" else
                  st.one_of(st.none(), spatial(st.integers(1, 3))))
    size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    shape = {4: (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size), 3: (draw(st.integers(1, 3)), *size),
             2: size, 5: (1, 1, 1, *size)}[draw(st.sampled_from([2, 5] if wrong == "input_dims" else [4, 3]))]
    seed = draw(st.integers(0, 2 ** 32 - 1))
    generator = torch.Generator().manual_seed(seed)
    call = dict(input=torch.randn(shape, generator=generator, dtype=dtype).to(device), kernel_size=kernel,
                stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
    if max_pool:
        call["dilation"] = draw(spatial(st.integers(-1, 0) if wrong == "dilation" else st.integers(1, 3)))
    else:
        call["count_include_pad"] = draw(st.booleans())
        call["divisor_override"] = draw(st.just(0) if wrong == "divisor" else
                                        st.one_of(st.none(), st.integers(-3, -1), st.integers(1, 5)))
    return call


test_refuses_exactly_what_torch_refuses_and_otherwise_equals_it = same_outcome_test({
    "max_pool2d": (pool.max_pool2d, F.max_pool2d, pool_calls()),
    "avg_pool2d": (pool.avg_pool2d, F.avg_pool2d, pool_calls(max_pool=False)),
}, full_examples=1200)


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=examples(200))
@given(data=st.data())
def test_float32_pooling_matches_torch(device, data):
    """Max pooling picks an element, so it is exact; an average of at most 16 terms stays within float32 defaults."""
    call = data.draw(pool_calls(wild=False, dtype=torch.float32, device=device))
    try:
        expected = F.max_pool2d(**call)
    except RuntimeError:
        event("kernel larger than the input")
        return
    torch.testing.assert_close(pool.max_pool2d(**call), expected, rtol=0, atol=0)
    avg_call = {key: value for key, value in call.items() if key != "dilation"}
    torch.testing.assert_close(pool.avg_pool2d(**avg_call), F.avg_pool2d(**avg_call))


@settings(max_examples=examples(300))
@given(data=st.data())
def test_int64_average_pooling_rounds_toward_zero_as_torch_does(data):
    call = data.draw(pool_calls(max_pool=False), label="call")
    call["input"] = (call["input"] * 10).round().long()
    assert_same_outcome(pool.avg_pool2d, F.avg_pool2d, **call)


@settings(max_examples=examples(200))
@given(h=st.integers(1, 6), w=st.integers(1, 6), ph=st.integers(1, 6), pw=st.integers(1, 6),
       mode=st.sampled_from(["max", "avg"]), seed=st.integers(0, 2 ** 32 - 1))
def test_pool2d_loop_equals_torch_with_stride_1(h, w, ph, pw, mode, seed):
    assume(ph <= h and pw <= w)  # else no window fits; d2l's loop makes no promise there
    X = torch.randn((h, w), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    reference = F.max_pool2d if mode == "max" else F.avg_pool2d
    torch.testing.assert_close(pool.pool2d(X, (ph, pw), mode), reference(X[None], (ph, pw), stride=1)[0])


@pytest.mark.parametrize("args, error", [
    ((torch.ones(2, 4, 4), (2, 2)), ValueError),    # once an empty tensor
    ((torch.ones(2, 2), (3, 3)), ValueError),
    ((torch.ones(4, 4), (1.5, 2)), TypeError),
    ((torch.ones(4, 4), 2), TypeError),
    (([[1.0, 2.0]], (1, 1)), TypeError),
])
def test_pool2d_refuses_bad_input_in_one_line(args, error) -> None:
    with pytest.raises(error) as raised:
        pool.pool2d(*args)
    assert "\n" not in str(raised.value)
