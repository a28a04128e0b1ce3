"""`book.cost` against brute force: multiply-adds counted one by one in a direct convolution loop, bytes counted on
the tensors of a real `nn.Conv2d`, and the notes' worked example."""
from __future__ import annotations

from typing import Dict, Tuple

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn

from book.cost import conv2d_macs, conv2d_memory
from contracts import as_pair, examples


def counted_conv2d(X: torch.Tensor, W: torch.Tensor, stride, padding, dilation, groups) -> Tuple[torch.Tensor, int]:
    """The direct convolution loop, one multiply-add at a time; returns its output and how many it did.

    Taps that land on the zero padding are multiplied too, as in im2col and in torch's kernels.
    """
    (sh, sw), (ph, pw), (dh, dw) = as_pair(stride), as_pair(padding), as_pair(dilation)
    n, c_in, h, w = X.shape
    c_out, c_in_per_group, kh, kw = W.shape
    out_h, out_w = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    x, k = F.pad(X, (pw, pw, ph, ph)).tolist(), W.tolist()
    Y, count = torch.zeros((n, c_out, out_h, out_w), dtype=X.dtype), 0
    for b in range(n):
        for o in range(c_out):
            first_channel = o // (c_out // groups) * c_in_per_group
            for y in range(out_h):
                for z in range(out_w):
                    total = 0.0
                    for c in range(c_in_per_group):
                        for i in range(kh):
                            for j in range(kw):
                                total += x[b][first_channel + c][y * sh + i * dh][z * sw + j * dw] * k[o][c][i][j]
                                count += 1
                    Y[b, o, y, z] = total
    return Y, count


def test_notes_example_a_billion_multiply_adds_two_billion_flops():
    """c_i = c_o = 100, a 5x5 kernel and a 64x64 output: 100 * 100 * 25 * 4096 = 1.024e9 multiply-adds, which are
    2.048e9 floating-point operations (the notes call the multiply-adds '1 GFLOP')."""
    macs = conv2d_macs(100, 100, 5, 68)
    assert macs.forward == 1_024_000_000 == conv2d_macs(100, 100, 5, 64, padding=2).forward
    assert conv2d_macs(200, 200, 5, 68).forward == 4 * macs.forward
    assert macs.backward == 2 * macs.forward and macs.total == 3 * macs.forward
    assert macs.forward_flops == 2_048_000_000 and macs.flops == 2 * macs.total


def test_memory_of_the_notes_layer():
    """64x64 float32 images through 100 -> 100 channels with a 5x5 kernel and padding 2."""
    memory = conv2d_memory(100, 100, 5, 64, padding=2)
    assert memory.parameters == (100 * 100 * 25 + 100) * 4
    assert memory.input == memory.output == 100 * 64 * 64 * 4
    assert memory.backward == 2 * memory.forward == 2 * (memory.parameters + memory.input + memory.output)


def test_half_precision_halves_every_byte_count():
    single, half = conv2d_memory(3, 8, 3, 32, dtype=torch.float32), conv2d_memory(3, 8, 3, 32, dtype=torch.float16)
    assert (single.parameters, single.input, single.output) == (2 * half.parameters, 2 * half.input, 2 * half.output)


@pytest.mark.parametrize("call, name", [
    (lambda: conv2d_macs(4, 6, 3, 8, groups=0), "groups"),
    (lambda: conv2d_macs(4, 6, 3, 8, groups=4), "groups"),
    (lambda: conv2d_memory(3, 6, 3, 8, groups=2), "groups"),
    (lambda: conv2d_macs(4, 6, 9, 8), "output size"),
    (lambda: conv2d_macs(4, 6, 3, 8, stride=0), "stride"),
    (lambda: conv2d_memory(4, 6, 3, 8, padding=-1), "padding"),
])
def test_invalid_layers_raise_a_value_error_naming_the_problem(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@st.composite
def layers(draw) -> Dict[str, object]:
    """Small `nn.Conv2d` configurations (groups included) and the batch they run on."""
    groups = draw(st.integers(1, 2))
    return dict(in_channels=groups * draw(st.integers(1, 2)), out_channels=groups * draw(st.integers(1, 2)),
                kernel_size=draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))),
                input_size=draw(st.one_of(st.integers(3, 6), st.tuples(st.integers(3, 6), st.integers(3, 6)))),
                stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 1)), dilation=draw(st.integers(1, 2)),
                groups=groups, batch_size=draw(st.integers(1, 2)))


@settings(max_examples=examples(150))
@given(layer=layers(), seed=st.integers(0, 2 ** 32 - 1))
def test_forward_count_equals_the_multiply_adds_of_the_direct_loop(layer, seed):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn((layer["batch_size"], layer["in_channels"], *as_pair(layer["input_size"])), generator=generator,
                    dtype=torch.float64)
    W = torch.randn((layer["out_channels"], layer["in_channels"] // layer["groups"], *as_pair(layer["kernel_size"])),
                    generator=generator, dtype=torch.float64)
    conv_args = {name: layer[name] for name in ("stride", "padding", "dilation", "groups")}
    try:
        expected = F.conv2d(X, W, **conv_args)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            conv2d_macs(**layer)
        return
    Y, count = counted_conv2d(X, W, **conv_args)
    torch.testing.assert_close(Y, expected)  # the loop is a real convolution, so its count is the real count
    assert conv2d_macs(**layer).forward == count


@settings(max_examples=examples(150))
@given(layer=layers(), bias=st.booleans(), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_memory_equals_the_bytes_of_a_real_layer(layer, bias, dtype):
    batch_size, input_size = layer["batch_size"], layer["input_size"]
    module_args = {key: value for key, value in layer.items() if key not in ("batch_size", "input_size")}
    X = torch.zeros((batch_size, layer["in_channels"], *as_pair(input_size)), dtype=dtype)
    module = nn.Conv2d(**module_args, bias=bias, dtype=dtype)
    try:
        with torch.no_grad():
            Y = module(X)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            conv2d_memory(**layer, bias=bias, dtype=dtype)
        return
    memory = conv2d_memory(**layer, bias=bias, dtype=dtype)
    assert memory.parameters == sum(p.numel() * p.element_size() for p in module.parameters())
    assert memory.input == X.numel() * X.element_size()
    assert memory.output == Y.numel() * Y.element_size()
