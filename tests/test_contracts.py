"""Every public function of `book`'s helper modules has a contract (tests/contracts.py): the tests that hold it to its
counterpart on valid random inputs, and a table of bad calls it must refuse with the exception class its torch
counterpart raises for the same mistake, in one line that names the argument. A helper added to a module's
`__all__` without a contract fails `test_every_public_function_has_a_contract`.
"""
from __future__ import annotations

import ast
import inspect
import tempfile
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn

from book import conv, cost, data, pool, shapes
from book._args import ArgumentError
from contracts import Bad, Contract, assert_refused_as_torch_refuses, examples

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODULES = {"conv": conv, "pool": pool, "shapes": shapes, "cost": cost, "data": data}
TESTS = Path(__file__).resolve().parent

X4, W4 = torch.zeros(1, 4, 6, 6), torch.zeros(2, 4, 3, 3)     # a batch of 4-channel 6x6 images, 2 3x3 kernels
X3 = X4[0]                                                     # one image (C, H, W)
WT = torch.zeros(4, 2, 3, 3)                                   # a transposed convolution's weight (C_in, C_out, ...)
M, K2 = torch.zeros(6, 6), torch.zeros(3, 3)                   # a matrix and a kernel: d2l's corr2d and pool2d


def image(n) -> torch.Tensor:
    """A (1, 1, h, w) input or kernel of size `n` (an int, or a pair; a size of three values gives a 5D tensor and
    a negative one the error torch raises for it), for a shape function's torch counterpart."""
    return torch.zeros(1, 1, *((n, n) if isinstance(n, int) else n))


def conv_shape(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The output shape torch's convolution gives, for `conv_output_size`'s arguments."""
    return F.conv2d(image(input_size), image(kernel_size), None, stride, padding, dilation).shape


def layer_run(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, dilation=1, groups=1,
              batch_size=1, dtype=torch.float32):
    """`nn.Conv2d(...)` built and run on a batch: the counterpart of `book.cost`'s counts."""
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, dtype=dtype)
    return layer(torch.zeros(batch_size, in_channels, h, w, dtype=dtype)).shape


def conv_cases(ours, theirs, x, w) -> List[Bad]:
    """The mistakes a convolution's caller can make, for `conv2d` (weight (C_out, C_in, ...)) or
    `conv_transpose2d` (weight (C_in, C_out, ...)): the same call to ours and to torch's."""
    cases = [
        ("input is a list", dict(input=x.tolist()), "input"),
        ("weight is a list", dict(weight=w.tolist()), "weight"),
        ("bias is a list", dict(bias=[0.0, 0.0]), "bias"),
        ("stride is a float", dict(stride=1.5), "stride"),
        ("stride is a bool", dict(stride=True), "stride"),
        ("stride has three values", dict(stride=(1, 1, 1)), "stride"),
        ("stride is zero", dict(stride=0), "stride"),
        ("padding is negative", dict(padding=-1), "padding"),
        ("padding is a float", dict(padding=1.5), "padding"),
        ("dilation is zero", dict(dilation=0), "dilation"),
        ("dilation is a float", dict(dilation=1.0), "dilation"),
        ("groups is zero", dict(groups=0), "groups"),
        ("groups is a float", dict(groups=1.0), "groups"),
        ("groups is a bool", dict(groups=True), "groups"),
        ("groups does not divide the channels", dict(groups=3), "groups"),
        ("input is 2D", dict(input=x[0, 0]), "input"),
        ("input is 5D", dict(input=x[None]), "input"),
        ("weight is 3D", dict(weight=w[0]), "weight"),
        ("weight has another dtype", dict(weight=w.double()), "dtype"),
        ("bias has the wrong length", dict(bias=torch.zeros(3)), "bias"),
        ("input has the wrong channel count", dict(input=x[:, :3]), "channels"),
    ]
    base = dict(input=x, weight=w)
    return [Bad(f"{ours.__name__}: {label}", lambda c=change: ours(**{**base, **c}),
                lambda c=change: theirs(**{**base, **c}), names) for label, change, names in cases]


def pool_cases(ours, theirs, dilation: bool) -> List[Bad]:
    """The mistakes a pooling caller can make, as `max_pool2d(input, kernel_size, ...)`."""
    cases = [
        ("input is a list", dict(input=X4.tolist()), "input"),
        ("kernel_size is a float", dict(kernel_size=1.5), "kernel_size"),
        ("kernel_size is a bool", dict(kernel_size=True), "kernel_size"),
        ("kernel_size is zero", dict(kernel_size=0), "kernel_size"),
        ("kernel_size has three values", dict(kernel_size=(2, 2, 2)), "kernel_size"),
        ("kernel_size is larger than the input", dict(kernel_size=7), "kernel"),
        ("stride is zero", dict(stride=0), "stride"),
        ("stride is a float", dict(stride=1.5), "stride"),
        ("padding is negative", dict(padding=-1), "padding"),
        ("padding is over half the kernel", dict(padding=2), "padding"),
        ("padding is a float", dict(padding=1.0), "padding"),
        ("ceil_mode is a string", dict(ceil_mode="yes"), "ceil_mode"),
        ("input is 2D", dict(input=X4[0, 0]), "input"),
        ("input is 5D", dict(input=X4[None]), "input"),
    ] + ([("bool input, which torch does not pool", dict(input=X4 > 0), "torch.bool"),
          ("dilation is zero", dict(dilation=0), "dilation"),
          ("dilation is a float", dict(dilation=1.5), "dilation")] if dilation else
         [("int32 input, which torch does not average", dict(input=X4.int()), "int32"),
          ("divisor_override is zero", dict(divisor_override=0), "divisor_override"),
          ("divisor_override is a float", dict(divisor_override=1.5), "divisor_override")])
    base = dict(input=X4, kernel_size=2)
    return [Bad(f"{ours.__name__}: {label}", lambda c=change: ours(**{**base, **c}),
                lambda c=change: theirs(**{**base, **c}), names) for label, change, names in cases]


def size_cases(ours, theirs, base: Dict[str, object], names: List[str]) -> List[Bad]:
    """Wrong types and values of the spatial arguments `names` of a shape function, beside torch's layer call."""
    cases = []
    for name in names:
        good = base.get(name, 1)
        for label, value in [("a float", 1.5), ("a bool", True), ("three values", (good, good, good)),
                             ("negative", -1), ("zero", 0)]:
            label = f"{ours.__name__}: {name} is {label}"
            if name in ("input_size", "kernel_size") and value is True:
                cases.append(_no_torch(lambda n=name: ours(**{**base, n: True}), label, name, TypeError,
                                       "a size of True makes a (1, 1) tensor and nn.Conv2d takes it as 1; the book "
                                       "refuses a bool as torch's functions do for stride=True"))
                continue
            if name in ("padding", "output_padding") and value == 0:
                continue   # no padding is a valid padding
            cases.append(Bad(label, lambda n=name, v=value: ours(**{**base, n: v}),
                             lambda n=name, v=value: theirs(**{**base, n: v}), name))
    return cases


def _grad_of_input(grad_out):
    """torch's gradient of `F.conv2d(X4, W4)` with respect to X4, for the incoming gradient `grad_out`."""
    X = X4.clone().requires_grad_()
    return torch.autograd.grad(F.conv2d(X, W4), X, grad_out)


def _no_torch(ours, label: str, names: str, expected, why: str) -> Bad:
    """A bad call that torch has no counterpart for: `ours` must raise `expected`, for the reason `why`."""
    return Bad(label, ours, None, names, expected, why)


def _bad_idx_file() -> Path:
    """An IDX file whose header promises more data than it holds."""
    path = Path(tempfile.mkdtemp(prefix="contract-")) / "t10k-labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02")
    return path


def contracts() -> Dict[str, Contract]:
    """Every helper's contract, by `module.name`."""
    corr2d_torch = "F.conv2d on the matrix as a (1, 1, H, W) batch"
    textbook = ("test_conv.py::test_textbook_loops_equal_torch", "test_conv.py::test_corr2d_equals_d2l")
    return {
        "conv.corr2d": Contract(corr2d_torch, textbook, (
            Bad("corr2d: X is 3D", lambda: conv.corr2d(X3, K2), lambda: F.conv2d(X3[None, None], K2[None, None]),
                "2D input"),
            Bad("corr2d: the kernel is larger than X", lambda: conv.corr2d(K2, M),
                lambda: F.conv2d(K2[None, None], M[None, None]), "larger"),
            Bad("corr2d: X is a list", lambda: conv.corr2d(M.tolist(), K2),
                lambda: F.conv2d(M.tolist(), K2[None, None]), "X"),
        )),
        "conv.corr2d_multi_in": Contract("F.conv2d on (C, H, W) with one (C, kh, kw) kernel", textbook, (
            Bad("corr2d_multi_in: 2 channels in X, 3 in K", lambda: conv.corr2d_multi_in(X3[:2], W4[0, :3]),
                lambda: F.conv2d(X3[None, :2], W4[:1, :3]), "channels"),
            Bad("corr2d_multi_in: X is 2D", lambda: conv.corr2d_multi_in(M, K2),
                lambda: F.conv2d(M[None], K2[None]), "(C, H, W)"),
            Bad("corr2d_multi_in: K is a list", lambda: conv.corr2d_multi_in(X3, W4[0].tolist()),
                lambda: F.conv2d(X3, W4[0].tolist()), "K"),
        )),
        "conv.corr2d_multi_in_out": Contract("F.conv2d on (C, H, W)", textbook, (
            Bad("corr2d_multi_in_out: K is 3D", lambda: conv.corr2d_multi_in_out(X3, W4[0]),
                lambda: F.conv2d(X3, W4[0]), "(c_o, C, kh, kw)"),
            Bad("corr2d_multi_in_out: channels differ", lambda: conv.corr2d_multi_in_out(X3[:3], W4),
                lambda: F.conv2d(X3[:3], W4), "channels"),
            Bad("corr2d_multi_in_out: the kernel is larger than X",
                lambda: conv.corr2d_multi_in_out(X3, torch.zeros(2, 4, 7, 7)),
                lambda: F.conv2d(X3, torch.zeros(2, 4, 7, 7)), "larger"),
        )),
        "conv.corr2d_multi_in_out_1x1": Contract("F.conv2d with a 1x1 kernel", textbook, (
            Bad("corr2d_multi_in_out_1x1: channels differ",
                lambda: conv.corr2d_multi_in_out_1x1(X3, torch.zeros(2, 3, 1, 1)),
                lambda: F.conv2d(X3, torch.zeros(2, 3, 1, 1)), "(c_o, 4, 1, 1)"),
            _no_torch(lambda: conv.corr2d_multi_in_out_1x1(X3, W4), "corr2d_multi_in_out_1x1: a 3x3 kernel", "1, 1)", ArgumentError,
                      "F.conv2d computes a 3x3 convolution; the 1x1 helper refuses a kernel it cannot compute"),
        )),
        "conv.windows": Contract("F.unfold", ("test_contracts.py::test_windows_are_unfold_columns",), (
            Bad("windows: X is a list", lambda: conv.windows(X4.tolist(), (2, 2)), lambda: F.unfold(X4.tolist(), 2),
                "X"),
            Bad("windows: X is 2D", lambda: conv.windows(M, (2, 2)), lambda: F.unfold(M, 2), "4D"),
            Bad("windows: kernel_size is zero", lambda: conv.windows(X4, 0), lambda: F.unfold(X4, 0), "kernel_size"),
            Bad("windows: kernel_size is a float", lambda: conv.windows(X4, 1.5), lambda: F.unfold(X4, 1.5),
                "kernel_size"),
            Bad("windows: kernel larger than X", lambda: conv.windows(X4, 7), lambda: F.unfold(X4, 7), "larger"),
            Bad("windows: stride is zero", lambda: conv.windows(X4, 2, 0), lambda: F.unfold(X4, 2, stride=0),
                "stride"),
            Bad("windows: dilation is zero", lambda: conv.windows(X4, 2, 1, 0), lambda: F.unfold(X4, 2, dilation=0),
                "dilation"),
        )),
        "conv.batched": Contract("the rank check of F.conv2d", ("test_conv.py::test_batched_adds_a_batch_axis_to_chw_only",
                                                                 "test_contracts.py::test_windows_are_unfold_columns"), (
            Bad("batched: input is 2D", lambda: conv.batched(M, "conv2d"), lambda: F.conv2d(M, W4), "input"),
            Bad("batched: input is a list", lambda: conv.batched(X3.tolist(), "conv2d"),
                lambda: F.conv2d(X3.tolist(), W4), "input"),
        )),
        "conv.spread": Contract("F.conv_transpose2d with a 1x1 kernel of one",
                                ("test_contracts.py::test_spread_is_a_transposed_convolution_with_a_one",), (
            Bad("spread: stride is zero", lambda: conv.spread(image(3), 0),
                lambda: F.conv_transpose2d(image(3), image(1), stride=0), "stride"),
            Bad("spread: stride is a float", lambda: conv.spread(image(3), 1.5),
                lambda: F.conv_transpose2d(image(3), image(1), stride=1.5), "stride"),
            Bad("spread: X is 2D", lambda: conv.spread(M, 2), lambda: F.conv_transpose2d(M, image(1), stride=2), "4D"),
            Bad("spread: X is a list", lambda: conv.spread(image(3).tolist(), 2),
                lambda: F.conv_transpose2d(image(3).tolist(), image(1), stride=2), "X"),
        )),
        "conv.conv2d": Contract("F.conv2d", ("test_conv.py::test_refuses_exactly_what_torch_refuses_and_otherwise_equals_it",
                                             "test_conv.py::test_float32_matches_torch_within_summation_tolerance"), (
            *conv_cases(conv.conv2d, F.conv2d, X4, W4),
            Bad("conv2d: kernel larger than the padded input", lambda: conv.conv2d(X4, torch.zeros(2, 4, 7, 3)),
                lambda: F.conv2d(X4, torch.zeros(2, 4, 7, 3)), "larger"),
            Bad("conv2d: unknown padding string", lambda: conv.conv2d(X4, W4, padding="full"),
                lambda: F.conv2d(X4, W4, padding="full"), "padding"),
            Bad("conv2d: 'same' with a stride", lambda: conv.conv2d(X4, W4, padding="same", stride=2),
                lambda: F.conv2d(X4, W4, padding="same", stride=2), "padding='same'"),
            Bad("conv2d: 'same' with a stride, as nn.Conv2d says", lambda: conv.conv2d(X4, W4, padding="same", stride=2),
                lambda: nn.Conv2d(4, 2, 3, padding="same", stride=2), "padding='same'"),
        )),
        "conv.conv_transpose2d": Contract("F.conv_transpose2d", (
            "test_conv.py::test_refuses_exactly_what_torch_refuses_and_otherwise_equals_it",
            "test_conv.py::test_float32_matches_torch_within_summation_tolerance"), (
            *conv_cases(conv.conv_transpose2d, F.conv_transpose2d, X4, WT),
            Bad("conv_transpose2d: output_padding not below the stride",
                lambda: conv.conv_transpose2d(X4, WT, stride=2, output_padding=2),
                lambda: F.conv_transpose2d(X4, WT, stride=2, output_padding=2), "output_padding"),
            Bad("conv_transpose2d: padding leaves no output", lambda: conv.conv_transpose2d(X4, WT, padding=5),
                lambda: F.conv_transpose2d(X4, WT, padding=5), "padding"),
        )),
        "conv.conv2d_backward": Contract("torch.autograd.grad of F.conv2d",
                                         ("test_conv.py::test_conv2d_backward_equals_autograd",), (
            Bad("conv2d_backward: grad_out of the wrong shape",
                lambda: conv.conv2d_backward(X4, W4, torch.zeros(1, 2, 3, 3)),
                lambda: _grad_of_input(torch.zeros(1, 2, 3, 3)),
                "grad_out"),
            Bad("conv2d_backward: X is a list", lambda: conv.conv2d_backward(X4.tolist(), W4, torch.zeros(1, 2, 4, 4)),
                lambda: F.conv2d(X4.tolist(), W4), "input"),
            Bad("conv2d_backward: grad_out is a list", lambda: conv.conv2d_backward(X4, W4, [[0.0]]),
                lambda: _grad_of_input([[0.0]]), "grad_out"),
            Bad("conv2d_backward: stride is zero", lambda: conv.conv2d_backward(X4, W4, torch.zeros(1, 2, 4, 4), 0),
                lambda: F.conv2d(X4, W4, stride=0), "stride"),
            Bad("conv2d_backward: W is 3D", lambda: conv.conv2d_backward(X4, W4[0], torch.zeros(1, 2, 4, 4)),
                lambda: F.conv2d(X4, W4[0]), "weight"),
        )),
        "conv.convolve1d": Contract("numpy.convolve", ("test_conv.py::test_convolve1d_equals_numpy",), (
            Bad("convolve1d: an unknown mode", lambda: conv.convolve1d(torch.ones(3), torch.ones(2), "wide"),
                lambda: np.convolve(np.ones(3), np.ones(2), "wide"), "mode"),
            Bad("convolve1d: an empty input", lambda: conv.convolve1d(torch.ones(0), torch.ones(2)),
                lambda: np.convolve(np.ones(0), np.ones(2)), "non-empty 1D tensors x and w"),
            Bad("convolve1d: a 2D input", lambda: conv.convolve1d(torch.ones(2, 3), torch.ones(2)),
                lambda: np.convolve(np.ones((2, 3)), np.ones(2)), "1D"),
            Bad("convolve1d: a list, which torch's conv1d refuses", lambda: conv.convolve1d([1.0, 2.0], torch.ones(2)),
                lambda: F.conv1d([1.0, 2.0], torch.ones(1, 1, 2)), "x"),
        )),
        "conv.convolve2d": Contract("scipy.signal.convolve2d",
                                    ("test_conv.py::test_convolve2d_refuses_exactly_what_scipy_refuses_and_otherwise_equals_it",), (
            Bad("convolve2d: 'valid' with neither input larger",
                lambda: conv.convolve2d(torch.ones(2, 5), torch.ones(3, 3), "valid"),
                lambda: scipy.signal.convolve2d(np.ones((2, 5)), np.ones((3, 3)), "valid"), "mode='valid'"),
            Bad("convolve2d: a 3D input", lambda: conv.convolve2d(X3, K2),
                lambda: scipy.signal.convolve2d(X3.numpy(), K2.numpy()), "2D"),
            Bad("convolve2d: a list, which torch's conv2d refuses", lambda: conv.convolve2d(M.tolist(), K2),
                lambda: F.conv2d(M.tolist(), K2[None, None]), "X"),
        )),
        "pool.pool2d": Contract("F.max_pool2d / F.avg_pool2d with stride 1",
                                ("test_pool.py::test_pool2d_loop_equals_torch_with_stride_1",), (
            Bad("pool2d: X is 1D", lambda: pool.pool2d(torch.zeros(6), (1, 1)),
                lambda: F.max_pool2d(torch.zeros(1, 6), (1, 1), 1), "2D input"),
            _no_torch(lambda: pool.pool2d(X3, (2, 2)), "pool2d: X is 3D", "2D input", ArgumentError,
                      "d2l's pool2d pools one matrix; torch would pool each channel of a 3D X"),
            Bad("pool2d: pool_size is a float", lambda: pool.pool2d(M, (1.5, 2)),
                lambda: F.max_pool2d(M[None], (1.5, 2), 1), "pool_size"),
            Bad("pool2d: pool_size is zero", lambda: pool.pool2d(M, (0, 2)),
                lambda: F.max_pool2d(M[None], (0, 2), 1), "pool_size"),
            Bad("pool2d: the window is larger than X", lambda: pool.pool2d(M, (7, 7)),
                lambda: F.max_pool2d(M[None], (7, 7), 1), "pool_size"),
            Bad("pool2d: X is a list", lambda: pool.pool2d(M.tolist(), (2, 2)),
                lambda: F.max_pool2d(M.tolist(), (2, 2), 1), "X"),
            _no_torch(lambda: pool.pool2d(M, (2, 2), "median"), "pool2d: an unknown mode", "mode", ValueError,
                      "torch names its pools by function, not by a mode string"),
        )),
        "pool.max_pool2d": Contract("F.max_pool2d", (
            "test_pool.py::test_refuses_exactly_what_torch_refuses_and_otherwise_equals_it",
            "test_pool.py::test_float32_pooling_matches_torch"), tuple(pool_cases(pool.max_pool2d, F.max_pool2d, True))),
        "pool.avg_pool2d": Contract("F.avg_pool2d", (
            "test_pool.py::test_refuses_exactly_what_torch_refuses_and_otherwise_equals_it",
            "test_pool.py::test_float32_pooling_matches_torch"), tuple(pool_cases(pool.avg_pool2d, F.avg_pool2d, False))),
        "shapes.conv_output_size": Contract("the output shape of F.conv2d", (
            "test_shapes.py::test_conv_output_size_is_the_shape_torch_produces",), (
            *size_cases(shapes.conv_output_size, conv_shape, dict(input_size=8, kernel_size=3),
                        ["input_size", "kernel_size", "stride", "padding", "dilation"]),
            Bad("conv_output_size: kernel larger than the padded input", lambda: shapes.conv_output_size(4, 5),
                lambda: conv_shape(4, 5), "kernel"),
            Bad("conv_output_size: 'same' with a stride", lambda: shapes.conv_output_size(8, 3, 2, "same"),
                lambda: nn.Conv2d(1, 1, 3, 2, "same"), "padding='same'"),
        )),
        "shapes.conv_output_remainder": Contract("the rows F.conv2d leaves unread", (
            "test_shapes.py::test_conv_output_remainder_is_the_output_padding_that_gives_torch_the_input_size_back",), (
            *size_cases(shapes.conv_output_remainder, conv_shape, dict(input_size=8, kernel_size=3),
                        ["kernel_size", "stride", "padding", "dilation"]),
            Bad("conv_output_remainder: kernel larger than the input", lambda: shapes.conv_output_remainder(4, 5),
                lambda: conv_shape(4, 5), "kernel"),
        )),
        "shapes.conv_transpose_output_size": Contract("the output shape of F.conv_transpose2d", (
            "test_shapes.py::test_conv_transpose_output_size_is_the_shape_torch_produces",), (
            *size_cases(shapes.conv_transpose_output_size,
                        lambda input_size, kernel_size, **kw: F.conv_transpose2d(image(input_size), image(kernel_size),
                                                                                 **kw).shape,
                        dict(input_size=4, kernel_size=3, stride=2), ["stride", "padding", "output_padding",
                                                                      "dilation"]),
            Bad("conv_transpose_output_size: output_padding not below the stride",
                lambda: shapes.conv_transpose_output_size(4, 3, 2, output_padding=2),
                lambda: F.conv_transpose2d(image(4), image(3), stride=2, output_padding=2), "output_padding"),
        )),
        "shapes.pool_output_size": Contract("the output shape of F.max_pool2d", (
            "test_shapes.py::test_pool_output_size_is_the_shape_torch_produces",), (
            *size_cases(shapes.pool_output_size,
                        lambda input_size, kernel_size, **kw: F.max_pool2d(image(input_size), kernel_size, **kw).shape,
                        dict(input_size=8, kernel_size=2), ["input_size", "kernel_size", "stride", "padding",
                                                            "dilation"]),
            Bad("pool_output_size: padding over half the kernel", lambda: shapes.pool_output_size(8, 2, padding=2),
                lambda: F.max_pool2d(image(8), 2, padding=2), "padding"),
            Bad("pool_output_size: ceil_mode is a string", lambda: shapes.pool_output_size(8, 2, ceil_mode="yes"),
                lambda: F.max_pool2d(image(8), 2, ceil_mode="yes"), "ceil_mode"),
        )),
        "shapes.trace": Contract("the model's own forward pass", (
            "test_shapes.py::test_trace_records_every_layer_torch_runs_and_refuses_what_torch_refuses",
            "test_shapes.py::test_trace_of_lenet_lists_every_leaf_layer"), (
            Bad("trace: a size is a float", lambda: shapes.trace(nn.Conv2d(3, 4, 3), (1, 3, 8.5, 8)),
                lambda: torch.zeros((1, 3, 8.5, 8)), "input_shape"),
            Bad("trace: the channels do not match", lambda: shapes.trace(nn.Conv2d(3, 4, 3), (1, 2, 8, 8)),
                lambda: nn.Conv2d(3, 4, 3)(torch.zeros(1, 2, 8, 8)), "channels"),
            Bad("trace: a negative size", lambda: shapes.trace(nn.Conv2d(3, 4, 3), (1, 3, -8, 8)),
                lambda: torch.zeros((1, 3, -8, 8)), "negative"),
            _no_torch(lambda: shapes.trace("lenet", (1, 3, 8, 8)), "trace: the model is a string", "nn.Module",
                      TypeError, "torch has no function that traces a model"),
        )),
        "shapes.receptive_field": Contract("autograd's measurement of which inputs reach one output", (
            "test_receptive_field.py::test_receptive_field_matches_autograd_measurement",), (
            Bad("receptive_field: a float kernel", lambda: shapes.receptive_field([(1.5, 1)]),
                lambda: nn.Conv2d(1, 1, 1.5), "kernel_size"),
            Bad("receptive_field: stride zero", lambda: shapes.receptive_field([(3, 0)]),
                lambda: nn.Conv2d(1, 1, 3, stride=0)(image(8)), "stride"),
            _no_torch(lambda: shapes.receptive_field([nn.ReLU()]), "receptive_field: a layer without a kernel",
                      "kernel_size", ValueError, "torch has no receptive-field function; a layer it cannot use is "
                      "a bad value"),
        )),
        "cost.conv2d_macs": Contract("the output nn.Conv2d computes", (
            "test_cost.py::test_forward_count_equals_the_multiply_adds_of_the_direct_loop",),
            tuple(_cost_cases(cost.conv2d_macs))),
        "cost.conv2d_memory": Contract("the tensors of a real nn.Conv2d", (
            "test_cost.py::test_memory_equals_the_bytes_of_a_real_layer",), (
            *_cost_cases(cost.conv2d_memory),
            Bad("conv2d_memory: dtype is a string", lambda: cost.conv2d_memory(4, 2, 3, 8, dtype="float32"),
                lambda: layer_run(4, 2, 3, 8, dtype="float32"), "dtype"),
        )),
        "data.pixel_moments": Contract("torch.bincount over the bytes", ("test_data.py::test_pixel_moments_are_exact",), (
            _no_torch(lambda: data.pixel_moments(torch.rand(4, 4)), "pixel_moments: float pixels", "unsigned bytes",
                      ArgumentError, "torch.bincount raises NotImplementedError for floats, which says torch lacks a "
                      "kernel for them, not that the argument is wrong"),
        )),
        "data.read_idx": Contract("torchvision's read_sn3_pascalvincent_tensor", (
            "test_data.py::test_read_idx_reads_the_header_and_refuses_a_bad_one",), (
            _no_torch(lambda: data.read_idx(_bad_idx_file()), "read_idx: a header that promises too much", "IDX",
                      data.MnistFileError, "torchvision asserts; the book names the file and the fix"),
        )),
        "data.check_file": Contract("torchvision's check_integrity", ("test_data.py::test_genuine_files_pass",
                                                                      "test_data.py::test_a_corrupted_byte_is_caught"), (
            _no_torch(lambda: data.check_file("data/x", "x"), "check_file: not an MNIST file", "MNIST", ValueError,
                      "torchvision checks any file against any md5; the book knows the four MNIST files"),
        )),
        **{f"data.{name}": Contract("torchvision.datasets.MNIST's root", tests, (
            Bad(f"{name}: root is an int", lambda f=name: getattr(data, f)(5), lambda: Path(5), "root"),))
           for name, tests in [
               ("data_root", ("test_data.py::test_data_root_follows_book_data_then_the_checkout",)),
               ("raw_dir", ("test_data.py::test_data_root_follows_book_data_then_the_checkout",)),
               ("verify", ("test_data.py::test_genuine_files_pass",)),
               ("fetch", ("test_data.py::test_fetch_is_idempotent_and_needs_no_npm_when_all_is_in_place",)),
               ("load_mnist", ("test_data.py::test_loaded_tensors_equal_torchvision_mnist",
                               "test_data.py::test_the_training_files_alone_load_without_the_test_set")),
               ("load_test_images", ("test_data.py::test_the_training_files_alone_load_without_the_test_set",))]},
        "data.user_data_dir": Contract("none: it takes no arguments", (
            "test_data.py::test_an_installed_book_keeps_data_in_the_user_cache",), ()),
        "data.checkout_root": Contract("none: it takes no arguments", (
            "test_data.py::test_data_root_follows_book_data_then_the_checkout",), ()),
        "data.MNIST.subset": Contract("torch.randperm and slicing", ("test_data.py::test_subset_is_seeded_and_checks_its_size",), (
            Bad("MNIST.subset: a float size", lambda: _tiny_mnist().subset(train=1.5), lambda: torch.randperm(4)[:1.5],
                "train"),
            Bad("MNIST.subset: a bool size", lambda: _tiny_mnist().subset(train=True),
                lambda: torch.randperm(4, generator=True), "train"),
            _no_torch(lambda: _tiny_mnist().subset(test=0), "MNIST.subset: an empty sample", "test", ValueError,
                      "slicing gives an empty sample silently; a sample of nothing trains nothing"),
        )),
        "data.MNIST.validation_split": Contract("torch.randperm and slicing", (
            "test_data.py::test_a_validation_split_is_two_disjoint_training_samples",), (
            Bad("MNIST.validation_split: a float size", lambda: _tiny_mnist().validation_split(train=1.5, validation=1),
                lambda: torch.randperm(4)[:1.5], "train"),
            _no_torch(lambda: _tiny_mnist().validation_split(train=3, validation=2),
                      "MNIST.validation_split: more than there is", "validation", ValueError,
                      "slicing past the end gives a shorter sample silently; the two would no longer be the sizes "
                      "asked for"),
        )),
    }


def _cost_cases(ours) -> List[Bad]:
    """The mistakes in describing a layer to `book.cost`, beside `nn.Conv2d` built and run with the same."""
    base = dict(in_channels=4, out_channels=2, kernel_size=3, input_size=8)
    cases = [("in_channels is a float", dict(in_channels=4.0), "in_channels"),
             ("in_channels is negative", dict(in_channels=-1), "in_channels"),
             ("batch_size is negative", dict(batch_size=-1), "batch_size"),
             ("groups is zero", dict(groups=0), "groups"),
             ("groups is a float", dict(groups=2.0), "groups"),
             ("groups does not divide the channels", dict(groups=3), "groups"),
             ("kernel_size is zero", dict(kernel_size=0), "kernel_size"),
             ("kernel_size is a float", dict(kernel_size=1.5), "kernel_size"),
             ("kernel larger than the input", dict(kernel_size=9), "kernel"),
             ("stride is zero", dict(stride=0), "stride"),
             ("stride is a float", dict(stride=1.5), "stride"),
             ("padding is negative", dict(padding=-1), "padding"),
             ("'same' with a stride", dict(padding="same", stride=2), "padding='same'")]
    return [Bad(f"{ours.__name__}: {label}", lambda c=change: ours(**{**base, **c}),
                lambda c=change: layer_run(**{**base, **c}), names) for label, change, names in cases]


def _tiny_mnist() -> data.MNIST:
    images, labels = torch.zeros(4, 1, 28, 28), torch.arange(4)
    return data.MNIST(images, labels, images, labels, data.MNIST_MEAN, data.MNIST_STD)


CONTRACTS = contracts()
BAD = [bad for contract in CONTRACTS.values() for bad in contract.bad]


def _public_functions() -> List[str]:
    """`module.name` of every function in the `__all__` of `book`'s helper modules."""
    return [f"{module_name}.{name}" for module_name, module in MODULES.items() for name in module.__all__
            if inspect.isfunction(getattr(module, name))]


def _resolve(name: str):
    """The function `module.name` (or `module.Class.method`) names."""
    value = MODULES[name.split(".")[0]]
    for part in name.split(".")[1:]:
        value = getattr(value, part)
    return value


def _tests_in(file: str) -> set:
    """The test names a test module defines: its `def test_...` and its `test_... = ...` assignments."""
    tree = ast.parse((TESTS / file).read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return names | {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
                    if isinstance(target, ast.Name)}


def test_every_public_function_has_a_contract() -> None:
    public = _public_functions()
    missing = [name for name in public if name not in CONTRACTS]
    assert not missing, f"public functions without a contract in tests/test_contracts.py: {missing}"
    methods = [name for name in CONTRACTS if name.count(".") == 2]   # a public class's method with checks of its own
    stale = [name for name in CONTRACTS if name not in public + methods or not callable(_resolve(name))]
    assert not stale, f"contracts for functions that are not public (any more): {stale}"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_each_contract_names_tests_that_exist_and_bad_calls_unless_it_takes_no_arguments(name: str) -> None:
    contract = CONTRACTS[name]
    assert contract.valid, f"{name}: no test compares it with {contract.counterpart} on valid inputs"
    for reference in contract.valid:
        file, test = reference.split("::")
        assert test in _tests_in(file), f"{name}: {reference} does not exist"
    takes_arguments = any(p.name != "self" for p in inspect.signature(_resolve(name)).parameters.values())
    assert bool(contract.bad) == takes_arguments, f"{name}: a function that takes arguments needs bad calls"


@pytest.mark.parametrize("bad", BAD, ids=[bad.label for bad in BAD])
def test_a_bad_call_is_refused_as_torch_refuses_it(bad: Bad) -> None:
    assert_refused_as_torch_refuses(bad)


# ---------------------------------------------------------------------------------------------------------------
# Valid random inputs of the building blocks that no other module's tests compare with torch directly
# ---------------------------------------------------------------------------------------------------------------

@settings(max_examples=examples(200))
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7), k=st.tuples(
    st.integers(1, 3), st.integers(1, 3)), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    d=st.tuples(st.integers(1, 2), st.integers(1, 2)), batch=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_windows_are_unfold_columns(n, c, h, w, k, s, d, batch, seed) -> None:
    """`windows` of `batched(X)` reshaped to im2col's columns is `F.unfold`, for (N, C, H, W) and (C, H, W)."""
    X = torch.randn((n, c, h, w) if batch else (c, h, w), generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    try:
        expected = F.unfold(X, k, dilation=d, stride=s)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            conv.windows(conv.batched(X, "windows")[0], k, s, d)
        return
    X4, unbatched = conv.batched(X, "windows")
    assert unbatched == (not batch)
    columns = conv.windows(X4, k, s, d).reshape(X4.shape[0], c * k[0] * k[1], -1)
    torch.testing.assert_close(columns[0] if unbatched else columns, expected)


@settings(max_examples=examples(100))
@given(h=st.integers(1, 5), w=st.integers(1, 5), s=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_spread_is_a_transposed_convolution_with_a_one(h, w, s, seed) -> None:
    X = torch.randn((2, 1, h, w), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    torch.testing.assert_close(conv.spread(X, s), F.conv_transpose2d(X, torch.ones(1, 1, 1, 1, dtype=X.dtype),
                                                                         stride=s))
