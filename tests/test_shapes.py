"""`book.shapes` against the shapes torch's layers actually produce, and the shape trace's table."""
from __future__ import annotations

from typing import Callable, Dict, Optional

import pytest
import torch
import torch.nn.functional as F
from hypothesis import event, given, settings, strategies as st
from torch import nn

from book.shapes import conv_output_remainder, conv_output_size, conv_transpose_output_size, pool_output_size, trace
from contracts import as_pair, assert_refused_in_one_line, examples, one_mistake, outcome, spatial


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def assert_same_size(ours: Callable, run_torch: Callable[[], torch.Tensor], args: Dict[str, object]) -> None:
    """torch refuses <=> we refuse with torch's class in one line; otherwise our size is torch's output size, as an
    int when every argument was an int and as an (h, w) pair when any was a pair."""
    result = outcome(run_torch)
    if isinstance(result, Exception):
        event("torch refuses")
        assert_refused_in_one_line(ours, result, **args)
        return
    event("torch accepts")
    expected = tuple(result.shape[-2:])
    size = ours(**args)
    if any(isinstance(value, tuple) for value in args.values()):
        assert size == expected
    else:
        assert isinstance(size, int) and expected == (size, size)


def zeros(size) -> torch.Tensor:
    """A (1, 1, h, w) tensor: an input of `size`, or a kernel of that size.

    float64, because torch's float32 (oneDNN) transposed convolution sometimes returns an empty tensor where every
    other path refuses an output size of 0 ('Output size is too small'); the book refuses it consistently.
    """
    return torch.zeros((1, 1, *as_pair(size)), dtype=torch.float64)


# ---------------------------------------------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel_size, padding, stride, expected", [
    (3, 1, 1, (8, 8)),
    ((5, 3), (2, 1), 1, (8, 8)),
    (3, 1, 2, (4, 4)),
    ((3, 5), (0, 1), (3, 4), (2, 2)),
])
def test_padding_and_stride_on_8x8(kernel_size, padding, stride, expected):
    assert conv_output_size((8, 8), kernel_size, stride, padding) == expected
    assert nn.Conv2d(1, 1, kernel_size, padding=padding, stride=stride)(zeros(8).float()).shape[2:] == expected


def test_sizes_keep_the_kind_they_are_given():
    assert conv_output_size(8, 3, padding=1) == 8
    assert conv_output_size((8, 8), 3, padding=1) == (8, 8)
    assert conv_output_size(8, (3, 5)) == (6, 4)  # one int cannot hold two sizes
    assert conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8
    assert pool_output_size(4, 3, padding=1, stride=2) == 2
    assert pool_output_size((5, 5), 3, stride=3, padding=1, ceil_mode=True) == (2, 2)


def test_trace_of_the_notes_layer():
    layer = nn.Conv2d(3, 10, 3, padding=1, stride=2)
    shapes = trace(layer, (7, 3, 60, 60))
    assert shapes.output_shape == (7, 10, 30, 30)
    assert [row.weight_shape for row in shapes.rows] == [(10, 3, 3, 3)] == [tuple(layer.weight.shape)]
    assert shapes.total_parameters == 10 * 3 * 3 * 3 + 10
    table = str(shapes)
    assert "(7, 10, 30, 30)" in table and "(10, 3, 3, 3)" in table and "280" in table
    assert "<table>" in shapes._repr_html_() and "(7, 10, 30, 30)" in shapes._repr_html_()


def test_trace_of_lenet_lists_every_leaf_layer():
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, stride=2),
                          nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, stride=2), nn.Flatten(),
                          nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    shapes = trace(lenet, (1, 1, 28, 28))
    assert [row.output_shape for row in shapes.rows] == [
        (1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 10, 10), (1, 16, 5, 5), (1, 400),
        (1, 120), (1, 120), (1, 84), (1, 84), (1, 10)]
    assert shapes.total_parameters == sum(p.numel() for p in lenet.parameters()) == 61_706
    assert [row.name for row in shapes.rows] == [str(i) for i in range(12)]


# ---------------------------------------------------------------------------------------------------------------
# Property tests: sizes equal the shapes torch produces, and are refused exactly where torch refuses
# ---------------------------------------------------------------------------------------------------------------

def argument(draw, name: str, wrong: Optional[str], good: st.SearchStrategy[int], bad: st.SearchStrategy[int]):
    """A spatial argument (int or pair) drawn from `bad` when it is the one argument this call gets wrong."""
    return draw(spatial(bad if wrong == name else good))


@st.composite
def conv_sizes(draw) -> Dict[str, object]:
    """Arguments of `conv_output_size`; kernels larger than the padded input come up by themselves."""
    wrong = one_mistake(draw, ["input_size", "kernel_size", "stride", "padding", "dilation"])
    args = {name: argument(draw, name, wrong, good, bad) for name, good, bad in [
        ("input_size", st.integers(1, 9), st.integers(-1, 0)), ("kernel_size", st.integers(1, 5), st.integers(-1, 0)),
        ("stride", st.integers(1, 3), st.integers(-1, 0)), ("dilation", st.integers(1, 3), st.integers(-1, 0))]}
    args["padding"] = draw(spatial(st.just(-1)) if wrong == "padding" else
                           st.one_of(spatial(st.integers(0, 3)), st.sampled_from(["same", "valid"])))
    return args


@st.composite
def conv_transpose_sizes(draw) -> Dict[str, object]:
    """Arguments of `conv_transpose_output_size`; output_padding >= max(stride, dilation) and padding that leaves
    no output come up by themselves."""
    wrong = one_mistake(draw, ["input_size", "kernel_size", "stride", "padding", "output_padding", "dilation"])
    return {name: argument(draw, name, wrong, good, bad) for name, good, bad in [
        ("input_size", st.integers(1, 6), st.integers(-1, 0)), ("kernel_size", st.integers(1, 5), st.integers(-1, 0)),
        ("stride", st.integers(1, 3), st.integers(-1, 0)), ("padding", st.integers(0, 3), st.just(-1)),
        ("output_padding", st.integers(0, 2), st.just(-1)), ("dilation", st.integers(1, 3), st.integers(-1, 0))]}


@st.composite
def pool_sizes(draw) -> Dict[str, object]:
    """Arguments of `pool_output_size`; padding above half the kernel is a mistake of its own."""
    wrong = one_mistake(draw, ["input_size", "kernel_size", "stride", "padding", "dilation"])
    args = {name: argument(draw, name, wrong, good, bad) for name, good, bad in [
        ("input_size", st.integers(1, 9), st.integers(-1, 0)), ("kernel_size", st.integers(1, 5), st.integers(-1, 0)),
        ("dilation", st.integers(1, 3), st.integers(-1, 0))]}
    smallest_kernel = max(min(as_pair(args["kernel_size"])), 0)
    args["padding"] = argument(draw, "padding", wrong, st.integers(0, smallest_kernel // 2),
                               st.sampled_from([-1, smallest_kernel // 2 + 1]))
    args["stride"] = draw(spatial(st.integers(-1, 0)) if wrong == "stride" else
                          st.one_of(st.none(), spatial(st.integers(1, 4))))
    args["ceil_mode"] = draw(st.booleans())
    return args


@settings(max_examples=examples(800))
@given(args=conv_sizes())
def test_conv_output_size_is_the_shape_torch_produces(args):
    assert_same_size(conv_output_size, lambda: F.conv2d(zeros(args["input_size"]), zeros(args["kernel_size"]), None,
                                                        args["stride"], args["padding"], args["dilation"]), args)


@settings(max_examples=examples(800))
@given(args=conv_transpose_sizes())
def test_conv_transpose_output_size_is_the_shape_torch_produces(args):
    assert_same_size(conv_transpose_output_size, lambda: F.conv_transpose2d(
        zeros(args["input_size"]), zeros(args["kernel_size"]), None, args["stride"], args["padding"],
        args["output_padding"], 1, args["dilation"]), args)


@settings(max_examples=examples(1000))
@given(args=pool_sizes())
def test_pool_output_size_is_the_shape_torch_produces(args):
    assert_same_size(pool_output_size, lambda: F.max_pool2d(zeros(args["input_size"]), args["kernel_size"],
                                                            args["stride"], args["padding"], args["dilation"],
                                                            args["ceil_mode"]), args)


@settings(max_examples=examples(800))
@given(args=conv_sizes())
def test_conv_output_remainder_is_the_output_padding_that_gives_torch_the_input_size_back(args):
    """torch refuses the convolution <=> we refuse in one line; otherwise the remainder is smaller than the stride,
    and a transposed convolution of the output with it as `output_padding` has the input's size."""
    convolved = outcome(lambda: F.conv2d(zeros(args["input_size"]), zeros(args["kernel_size"]), None,
                                         args["stride"], args["padding"], args["dilation"]))
    if isinstance(convolved, Exception):
        event("torch refuses")
        assert_refused_in_one_line(conv_output_remainder, convolved, **args)
        return
    remainder = conv_output_remainder(**args)
    pairs = any(isinstance(value, tuple) for value in args.values())
    assert isinstance(remainder, tuple) == pairs
    assert all(r < s for r, s in zip(as_pair(remainder), as_pair(args["stride"])))
    if args["padding"] == "same":  # stride 1 only, and torch's transposed convolution takes no 'same'
        assert as_pair(remainder) == (0, 0)
        return
    event("transposed convolution checked")
    padding = 0 if args["padding"] == "valid" else args["padding"]
    restored = F.conv_transpose2d(convolved, zeros(args["kernel_size"]), None, args["stride"], padding,
                                  remainder, 1, args["dilation"])
    assert tuple(restored.shape[-2:]) == as_pair(args["input_size"])


def test_alexnet_first_layer_fits_227_not_224():
    """CS231n: (227 - 11)/4 + 1 = 55 works; the paper's 224 leaves its last column unread, so it gets no gradient."""
    assert conv_output_remainder(227, 11, stride=4) == 0 and conv_output_size(227, 11, stride=4) == 55
    assert conv_output_remainder(224, 11, stride=4) == 1 and conv_output_size(224, 11, stride=4) == 54
    assert conv_output_remainder((224, 227), 11, stride=4) == (1, 0)
    x = torch.ones(1, 1, 224, 224, dtype=torch.float64, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 11, 11, dtype=torch.float64), stride=4).sum().backward()
    unread = (x.grad[0, 0].sum(dim=0) == 0).nonzero().flatten().tolist()
    assert unread == [223]


@st.composite
def conv_stacks(draw):
    """A small nn.Sequential of convolutions, ReLUs and max pools, and an input shape that may not fit it."""
    layers, channels = [], draw(st.integers(1, 3))
    first = channels
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "relu", "pool"]))
        if kind == "conv":
            out = draw(st.integers(1, 3))
            layers.append(nn.Conv2d(channels, out, draw(st.integers(1, 3)), stride=draw(st.integers(1, 2)),
                                    padding=draw(st.integers(0, 1))))
            channels = out
        else:
            layers.append(nn.ReLU() if kind == "relu" else nn.MaxPool2d(draw(st.integers(1, 2))))
    shape = (draw(st.integers(1, 2)), first, draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    return nn.Sequential(*layers), shape


@settings(max_examples=examples(100))
@given(stack=conv_stacks())
def test_trace_records_every_layer_torch_runs_and_refuses_what_torch_refuses(stack):
    model, shape = stack
    with torch.no_grad():
        expected = outcome(lambda: model(torch.zeros(shape)))
    if isinstance(expected, Exception):
        event("torch refuses")
        assert_refused_in_one_line(trace, expected, model=model, input_shape=shape)
        return
    traced = trace(model, shape)
    assert traced.output_shape == tuple(expected.shape) and len(traced.rows) == len(model)
    assert traced.total_parameters == sum(p.numel() for p in model.parameters())
