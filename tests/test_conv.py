"""`book.conv` against PyTorch, NumPy, SciPy and d2l: the notes' worked examples, then property tests.

The property tests draw arbitrary argument combinations, many of them invalid on purpose, and check both halves of
the contract (tests/contracts.py): torch refuses a call exactly when `book.conv` refuses it, with torch's exception
class and a one-line message, and when torch accepts it the results are equal (float64: `assert_close`'s default
tolerances; float32: `assert_close_sums`).
"""
from __future__ import annotations

import json
import math
import warnings
from typing import Dict

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import assume, event, given, settings, strategies as st

from book import conv
from book.bench.__main__ import main as bench_main
from contracts import DEVICES, as_pair, examples, one_mistake, outcome, same_outcome_test, spatial

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def assert_close_sums(actual: torch.Tensor, expected: torch.Tensor, terms: int) -> None:
    """`assert_close` for results that are sums of `terms` products of numbers of order 1.

    In float64 torch's default tolerances hold. In float32 our matmul adds the products in another order than
    torch's kernels do, and every addition may round by half an ulp of the running sum, so the difference grows
    with the reduction length: allow 4 * eps * terms (never less than the float32 defaults). A wrong or missing
    product is an error of order 1 and still fails.
    """
    if actual.dtype == torch.float64:
        torch.testing.assert_close(actual, expected)
        return
    tolerance = 4 * torch.finfo(actual.dtype).eps * terms
    torch.testing.assert_close(actual, expected, rtol=max(1.3e-6, tolerance), atol=max(1e-5, tolerance))


def randn(generator_seed: int, *shape: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    generator = torch.Generator().manual_seed(generator_seed)
    return torch.randn(shape, generator=generator, dtype=dtype).to(device)


# ---------------------------------------------------------------------------------------------------------------
# The notes' worked examples
# ---------------------------------------------------------------------------------------------------------------

def test_corr2d_worked_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    torch.testing.assert_close(conv.corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


def test_corr2d_multi_in_worked_example():
    X = torch.stack([torch.arange(9.0), torch.arange(1.0, 10.0)]).reshape(2, 3, 3)
    K = torch.stack([torch.tensor([[0.0, 1.0], [2.0, 3.0]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]])])
    torch.testing.assert_close(conv.corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))


def test_corr2d_multi_in_out_stacks_shifted_kernels():
    X = torch.stack([torch.arange(9.0), torch.arange(1.0, 10.0)]).reshape(2, 3, 3)
    K = torch.stack([torch.tensor([[0.0, 1.0], [2.0, 3.0]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]])])
    K = torch.stack((K, K + 1, K + 2), 0)
    Y = conv.corr2d_multi_in_out(X, K)
    assert Y.shape == (3, 2, 2)
    torch.testing.assert_close(Y[0], torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    torch.testing.assert_close(Y, F.conv2d(X, K))


def test_edge_detection_finds_both_edges_and_nothing_in_the_transpose():
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    expected = torch.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1.0, -1.0
    torch.testing.assert_close(conv.corr2d(X, K), expected)
    torch.testing.assert_close(conv.corr2d(X.t(), K), torch.zeros((8, 5)))


@pytest.mark.parametrize("kernel_size, padding, stride, expected", [
    ((3, 3), 1, 1, (8, 8)),
    ((5, 3), (2, 1), 1, (8, 8)),
    ((3, 3), 1, 2, (4, 4)),
    ((3, 5), (0, 1), (3, 4), (2, 2)),
])
def test_padding_and_stride_on_8x8(kernel_size, padding, stride, expected):
    layer = torch.nn.Conv2d(1, 1, kernel_size, padding=padding, stride=stride, dtype=torch.float64)
    X = torch.rand((1, 1, 8, 8), dtype=torch.float64)
    Y = conv.conv2d(X, layer.weight.detach(), layer.bias.detach(), stride=stride, padding=padding)
    assert Y.shape[2:] == expected
    torch.testing.assert_close(Y, layer(X).detach())


def test_1x1_convolution_is_a_matrix_product_over_channels():
    X, K = randn(0, 3, 3, 3), randn(1, 2, 3, 1, 1)
    torch.testing.assert_close(conv.corr2d_multi_in_out_1x1(X, K), conv.corr2d_multi_in_out(X, K))


def test_convolution_flips_the_kernel_and_correlation_does_not():
    x, w = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 1.0, 0.5])
    torch.testing.assert_close(conv.convolve1d(x, w, "full"), torch.tensor([0.0, 1.0, 2.5, 4.0, 1.5]))
    X, K = torch.arange(9.0).reshape(3, 3), torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    torch.testing.assert_close(conv.convolve2d(X, K, "valid"), conv.corr2d(X, K.flip(0, 1)))


def test_spread_inserts_stride_minus_one_zeros_as_torch_s_transposed_convolution_does():
    X = torch.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    expected = torch.tensor([[1.0, 0.0, 0.0, 2.0], [0.0] * 4, [3.0, 0.0, 0.0, 4.0]])
    torch.testing.assert_close(conv.spread(X, (2, 3))[0, 0], expected)
    one = torch.ones(1, 1, 1, 1)   # a 1x1 kernel of one: the transposed convolution only spreads its input
    torch.testing.assert_close(conv.spread(X, (2, 3)), F.conv_transpose2d(X, one, stride=(2, 3)))
    assert conv.spread(X, (1, 1)) is X


def test_batched_adds_a_batch_axis_to_chw_only():
    X = torch.zeros(2, 3, 4)
    assert conv.batched(X, "f")[0].shape == (1, 2, 3, 4) and conv.batched(X, "f")[1] is True
    batch = X[None]
    assert conv.batched(batch, "f")[0] is batch and conv.batched(batch, "f")[1] is False
    with pytest.raises(ValueError, match=r"f expects a 3D \(C, H, W\) or 4D"):
        conv.batched(X[0], "f")


# ---------------------------------------------------------------------------------------------------------------
# Invalid arguments: the message names the argument
# ---------------------------------------------------------------------------------------------------------------

X4, W4 = torch.zeros(1, 4, 6, 6), torch.zeros(2, 4, 3, 3)


def test_a_bias_of_another_dtype_is_refused_everywhere():
    """torch refuses it in `conv2d` with int padding but casts it with padding='same'/'valid' and in
    `conv_transpose2d`; the book refuses it consistently rather than copy that accident."""
    assert isinstance(outcome(F.conv2d, input=X4.double(), weight=W4.double(), bias=torch.zeros(2)), RuntimeError)
    for call in (lambda: conv.conv2d(X4.double(), W4.double(), torch.zeros(2)),
                 lambda: conv.conv2d(X4.double(), W4.double(), torch.zeros(2), padding="same"),
                 lambda: conv.conv_transpose2d(X4.double(), W4.transpose(0, 1).double(), torch.zeros(2))):
        with pytest.raises(ValueError, match="bias dtype"):
            call()


@pytest.mark.parametrize("call, names", [
    (lambda: conv.conv2d(X4, W4, stride=0), "stride"),
    (lambda: conv.conv2d(X4, W4, padding=-1), "padding"),
    (lambda: conv.conv2d(X4, W4, padding="full"), "padding"),
    (lambda: conv.conv2d(X4, W4, padding="same", stride=2), "padding='same'"),
    (lambda: conv.conv2d(X4, W4, dilation=(1, 0)), "dilation"),
    (lambda: conv.conv2d(X4, W4, groups=0), "groups"),
    (lambda: conv.conv2d(X4, torch.zeros(2, 2, 3, 3), groups=3), "groups"),
    (lambda: conv.conv2d(X4, torch.zeros(2, 3, 3, 3)), "input channels"),
    (lambda: conv.conv2d(X4, W4, bias=torch.zeros(3)), "bias"),
    (lambda: conv.conv2d(X4, torch.zeros(2, 4, 7, 3)), "kernel size"),
    (lambda: conv.conv2d(X4[0, 0], W4), "input"),
    (lambda: conv.conv2d(X4, W4[0]), "weight"),
    (lambda: conv.conv_transpose2d(X4, torch.zeros(4, 2, 3, 3), stride=2, output_padding=2), "output_padding"),
    (lambda: conv.conv_transpose2d(X4, torch.zeros(4, 2, 3, 3), padding=5), "padding"),
    (lambda: conv.conv_transpose2d(X4, torch.zeros(3, 2, 3, 3)), "input channels"),
    (lambda: conv.conv2d_backward(X4, W4, torch.zeros(1, 2, 3, 3)), "grad_out"),
    (lambda: conv.convolve1d(torch.ones(3), torch.ones(2), "wide"), "mode"),
    (lambda: conv.convolve2d(torch.ones(2, 5), torch.ones(3, 3), "valid"), "mode='valid'"),
])
def test_invalid_arguments_raise_a_value_error_naming_them(call, names):
    with pytest.raises(ValueError, match=names.replace("(", r"\(").replace(")", r"\)")) as raised:
        call()
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------------------------------------------------------
# Property tests: conv2d
# ---------------------------------------------------------------------------------------------------------------

CONV2D_MISTAKES = ["groups", "in_channels", "out_channels", "input_dims", "weight_dims", "padding", "stride",
                   "dilation", "bias", "weight_dtype"]


@st.composite
def conv2d_calls(draw, wild: bool = True, grouped: bool = True, dtype=torch.float64,
                 device: str = "cpu") -> Dict[str, object]:
    """Keyword arguments for `conv2d`; with `wild`, half the calls get one argument wrong.

    Kernels larger than the (padded) input come up by themselves in wild calls and are filtered out otherwise.
    """
    wrong = one_mistake(draw, CONV2D_MISTAKES, wild)
    groups = draw(st.integers(-1, 0) if wrong == "groups" else st.integers(1, 3 if grouped else 1))
    per_group_in, per_group_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    in_channels = max(groups, 1) * per_group_in + (wrong == "in_channels")
    out_channels = max(groups, 1) * per_group_out + (wrong == "out_channels")
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    size = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    input_shapes = {4: (draw(st.integers(1, 2)), in_channels, *size), 3: (in_channels, *size),
                    2: size, 5: (1, 1, in_channels, *size)}
    input_shape = input_shapes[draw(st.sampled_from([2, 5] if wrong == "input_dims" else [4, 3]))]
    weight_shape = (out_channels, per_group_in, *kernel)[wrong == "weight_dims":]
    padding = draw(spatial(st.just(-1)) if wrong == "padding" else
                   st.one_of(spatial(st.integers(0, 3)), st.sampled_from(["valid", "same"])))
    strides = st.integers(-1, 0) if wrong == "stride" else st.integers(1, 3)
    stride = draw(spatial(strides) if padding != "same" or wrong == "stride" else st.just(1))
    dilation = draw(spatial(st.integers(-1, 0) if wrong == "dilation" else st.integers(1, 3)))
    if not wild:
        assume(fits(size, kernel, padding, dilation))
    bias_shape = draw(st.sampled_from([(out_channels + 1,), (1, out_channels)] if wrong == "bias" else
                                      [None, (out_channels,)]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return dict(input=randn(seed, *input_shape, dtype=dtype, device=device),
                weight=randn(seed + 1, *weight_shape, dtype=other(dtype, wrong == "weight_dtype"), device=device),
                bias=None if bias_shape is None else randn(seed + 2, *bias_shape, dtype=dtype, device=device),
                stride=stride, padding=padding, dilation=dilation, groups=groups)


def other(dtype: torch.dtype, wrong: bool) -> torch.dtype:
    """`dtype`, or when `wrong` the other floating-point precision (torch refuses to mix them)."""
    return ({torch.float64: torch.float32, torch.float32: torch.float64}[dtype]) if wrong else dtype


def fits(size, kernel, padding, dilation) -> bool:
    """Whether the (dilated) kernel fits in the padded input, as torch requires."""
    if padding == "same":
        return True
    pads = (0, 0) if padding == "valid" else as_pair(padding)
    return all(n + 2 * p >= d * (k - 1) + 1 for n, p, d, k in zip(size, pads, as_pair(dilation), kernel))


def conv2d_terms(call: Dict[str, object]) -> int:
    """Products summed into one output of `conv2d`: one per weight of an output channel, plus the bias."""
    return call["weight"][0].numel() + 1


# ---------------------------------------------------------------------------------------------------------------
# Property tests: conv_transpose2d, both against torch, and conv2d_backward
# ---------------------------------------------------------------------------------------------------------------

CONV_TRANSPOSE2D_MISTAKES = ["groups", "in_channels", "stride", "dilation", "padding", "output_padding", "bias",
                             "weight_dtype"]


@st.composite
def conv_transpose2d_calls(draw, wild: bool = True, dtype=torch.float64, device: str = "cpu") -> Dict[str, object]:
    """Keyword arguments for `conv_transpose2d` (weight laid out (C_in, C_out/groups, kh, kw)).

    With `wild`, half the calls get one argument wrong; output_padding >= max(stride, dilation) and padding that
    leaves no output come up by themselves then, and are filtered out otherwise.
    """
    wrong = one_mistake(draw, CONV_TRANSPOSE2D_MISTAKES, wild)
    groups = draw(st.integers(-1, 0) if wrong == "groups" else st.integers(1, 3))
    per_group_in, per_group_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    in_channels = max(groups, 1) * per_group_in
    weight_in = in_channels + (draw(st.sampled_from([-1, 1])) if wrong == "in_channels" else 0)
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    input_shape = ((draw(st.integers(1, 2)),) if draw(st.booleans()) else ()) + (in_channels, *size)
    stride = draw(spatial(st.integers(-1, 0) if wrong == "stride" else st.integers(1, 3)))
    dilation = draw(spatial(st.integers(-1, 0) if wrong == "dilation" else st.integers(1, 3)))
    padding = draw(spatial(st.just(-1) if wrong == "padding" else st.integers(0, 3)))
    output_padding = draw(spatial(st.just(-1) if wrong == "output_padding" else st.integers(0, 2)))
    if not wild:
        s, d, p, op = (as_pair(v) for v in (stride, dilation, padding, output_padding))
        assume(all(o < max(s_, d_) for o, s_, d_ in zip(op, s, d)))
        assume(all((n - 1) * s_ - 2 * p_ + d_ * (k - 1) + o + 1 > 0
                   for n, s_, p_, d_, k, o in zip(size, s, p, d, kernel, op)))
    out_channels = max(groups, 1) * per_group_out
    bias_shape = draw(st.just((out_channels + 1,)) if wrong == "bias" else st.sampled_from([None, (out_channels,)]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return dict(input=randn(seed, *input_shape, dtype=dtype, device=device),
                weight=randn(seed + 1, weight_in, per_group_out, *kernel, dtype=other(dtype, wrong == "weight_dtype"),
                             device=device),
                bias=None if bias_shape is None else randn(seed + 2, *bias_shape, dtype=dtype, device=device),
                stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)


def conv_transpose2d_terms(call: Dict[str, object]) -> int:
    """Products summed into one output of `conv_transpose2d`: an input channel group's kernels, plus the bias."""
    weight = call["weight"]
    return weight.shape[0] // call["groups"] * weight.shape[2] * weight.shape[3] + 1


test_refuses_exactly_what_torch_refuses_and_otherwise_equals_it = same_outcome_test({
    "conv2d": (conv.conv2d, F.conv2d, conv2d_calls()),
    "conv_transpose2d": (conv.conv_transpose2d, F.conv_transpose2d, conv_transpose2d_calls()),
}, full_examples=1250)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("ours, theirs, calls, terms", [
    (conv.conv2d, F.conv2d, conv2d_calls, conv2d_terms),
    (conv.conv_transpose2d, F.conv_transpose2d, conv_transpose2d_calls, conv_transpose2d_terms),
], ids=["conv2d", "conv_transpose2d"])
@settings(max_examples=examples(225))
@given(data=st.data())
def test_float32_matches_torch_within_summation_tolerance(device, ours, theirs, calls, terms, data):
    call = data.draw(calls(wild=False, dtype=torch.float32, device=device), label="call")
    assert_close_sums(ours(**call), theirs(**call), terms(call))


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=examples(400))
@given(data=st.data())
def test_conv2d_backward_equals_autograd(device, data):
    call = data.draw(conv2d_calls(wild=False, grouped=False, device=device))
    X, W = call["input"].requires_grad_(), call["weight"].requires_grad_()
    args = dict(stride=call["stride"], padding=call["padding"], dilation=call["dilation"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Y = F.conv2d(X, W, **args)
    grad_out = torch.randn_like(Y)
    expected_X, expected_W = torch.autograd.grad(Y, (X, W), grad_out)
    kernel = W.shape[-2:]
    if args["padding"] == "same" and any(d * (k - 1) % 2 for d, k in zip(as_pair(args["dilation"]), kernel)):
        event("'same' padding that is not symmetric")
        with pytest.raises(ValueError, match="symmetric"):
            conv.conv2d_backward(X.detach(), W.detach(), grad_out, **args)
        return
    grad_X, grad_W = conv.conv2d_backward(X.detach(), W.detach(), grad_out, **args)
    torch.testing.assert_close(grad_X, expected_X)
    torch.testing.assert_close(grad_W, expected_W)


# ---------------------------------------------------------------------------------------------------------------
# Property tests: the textbook loops and true convolution
# ---------------------------------------------------------------------------------------------------------------

@settings(max_examples=examples(200))
@given(h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 6), kw=st.integers(1, 6),
       c_in=st.integers(1, 3), c_out=st.integers(1, 3), seed=st.integers(0, 2 ** 32 - 1))
def test_textbook_loops_equal_torch(h, w, kh, kw, c_in, c_out, seed):
    X, K = randn(seed, c_in, h, w), randn(seed + 1, c_out, c_in, kh, kw)
    expected = outcome(F.conv2d, input=X, weight=K)
    if isinstance(expected, Exception):
        return  # the kernel is larger than the input; d2l's loops make no promise there
    torch.testing.assert_close(conv.corr2d(X[0], K[0, 0]), F.conv2d(X[:1], K[:1, :1])[0])
    torch.testing.assert_close(conv.corr2d_multi_in(X, K[0]), expected[0])
    torch.testing.assert_close(conv.corr2d_multi_in_out(X, K), expected)
    torch.testing.assert_close(conv.corr2d_multi_in_out_1x1(X, K[:, :, :1, :1]), F.conv2d(X, K[:, :, :1, :1]))


def test_corr2d_equals_d2l():
    d2l = pytest.importorskip("d2l.torch")
    for shape, kernel in [((7, 5), (4, 3)), ((3, 3), (2, 2)), ((6, 8), (1, 2)), ((4, 4), (4, 4))]:
        X, K = randn(0, *shape, dtype=torch.float32), randn(1, *kernel, dtype=torch.float32)
        torch.testing.assert_close(conv.corr2d(X, K), d2l.corr2d(X, K))


@settings(max_examples=examples(300))
@given(n=st.integers(1, 9), m=st.integers(1, 9), mode=st.sampled_from(["full", "same", "valid"]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_convolve1d_equals_numpy(n, m, mode, seed):
    x, w = randn(seed, n), randn(seed + 1, m)
    expected = torch.from_numpy(np.convolve(x.numpy(), w.numpy(), mode))
    torch.testing.assert_close(conv.convolve1d(x, w, mode), expected)


@settings(max_examples=examples(400))
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 6)), kernel=st.tuples(st.integers(1, 6), st.integers(1, 6)),
       mode=st.sampled_from(["full", "same", "valid"]), seed=st.integers(0, 2 ** 32 - 1))
def test_convolve2d_refuses_exactly_what_scipy_refuses_and_otherwise_equals_it(shape, kernel, mode, seed):
    X, K = randn(seed, *shape), randn(seed + 1, *kernel)
    try:
        expected = torch.from_numpy(scipy.signal.convolve2d(X.numpy(), K.numpy(), mode))
    except ValueError:
        event("scipy refuses")
        with pytest.raises(ValueError):
            conv.convolve2d(X, K, mode)
        return
    torch.testing.assert_close(conv.convolve2d(X, K, mode), expected)


# ---------------------------------------------------------------------------------------------------------------
# The benchmark runs end to end
# ---------------------------------------------------------------------------------------------------------------

def test_conv_benchmark_quick_run_prints_a_table_and_json(capsys):
    threads = torch.get_num_threads()
    assert bench_main(["conv", "--quick", "--device", "cpu", "--repeat", "1", "--threads", str(threads + 1)]) == 0
    assert torch.get_num_threads() == threads, "--threads holds for the benchmark's run only"
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("layer")
    report = json.loads(lines[-1])
    assert {"median_ratio_vs_torch", "max_ratio_vs_torch", "device", "torch_threads", "layers"} <= report.keys()
    assert report["device"] == "cpu" and report["max_ratio_vs_torch"] >= report["median_ratio_vs_torch"] > 0
    assert report["torch_threads"] == threads + 1


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_same_padding_splits_an_even_kernel_as_chapter_1_says(k: int) -> None:
    """Chapter 1's table: convolution ('same', as numpy) pads ceil((k-1)/2) before and floor((k-1)/2) after; PyTorch's
    padding='same', a cross-correlation, mirrors it."""
    from book.conv import convolve1d
    x, w = torch.arange(1.0, 9.0), torch.arange(1.0, k + 1.0)
    before, after = math.ceil((k - 1) / 2), (k - 1) // 2
    padded = F.pad(x, (before, after))
    torch.testing.assert_close(convolve1d(x, w, "same"), convolve1d(padded, w, "valid"))
    np.testing.assert_allclose(np.convolve(x.numpy(), w.numpy(), "same"), convolve1d(x, w, "same").numpy())
    torch_same = F.conv1d(x[None, None], w[None, None], padding="same")[0, 0]
    torch.testing.assert_close(torch_same, F.conv1d(F.pad(x, (after, before))[None, None], w[None, None])[0, 0])


@pytest.mark.parametrize("call, error, words", [
    (lambda: conv.corr2d(torch.ones(2, 3, 3), torch.ones(2, 2)), ValueError, "2D input"),
    (lambda: conv.corr2d(torch.ones(2, 2), torch.ones(3, 3)), ValueError, "larger than the input"),
    (lambda: conv.corr2d([[1.0]], torch.ones(1, 1)), TypeError, "expects a tensor"),
    (lambda: conv.corr2d_multi_in(torch.ones(2, 4, 4), torch.ones(3, 2, 2)), ValueError, "2 channels but K has 3"),
    (lambda: conv.corr2d_multi_in(torch.ones(4, 4), torch.ones(2, 2)), ValueError, "(C, H, W)"),
    (lambda: conv.corr2d_multi_in_out(torch.ones(2, 4, 4), torch.ones(2, 2, 2)), ValueError, "(c_o, C, kh, kw)"),
    (lambda: conv.corr2d_multi_in_out_1x1(torch.ones(2, 4, 4), torch.ones(3, 2, 2, 2)), ValueError, "1, 1)"),
])
def test_textbook_helpers_refuse_bad_input_in_one_line(call, error, words: str) -> None:
    """A 2-channel X with a 3-channel K once returned a result (zip dropped the third channel)."""
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value) and "\n" not in str(raised.value)
