"""What a convolution layer costs: multiply-adds and bytes, from its shapes alone.

A conv layer with c_o output channels, c_i input channels, a k_h x k_w kernel and an m_h x m_w output does
c_o * c_i * k_h * k_w * m_h * m_w multiply-adds per example (divide c_i by `groups` for grouped convolution).
The backward pass computes two gradients of that same size: dL/dX and dL/dW each take as many multiply-adds as
the forward pass, so backward costs twice the forward.

`conv2d_macs` counts multiply-adds (MACs). One multiply-add is two floating-point operations, a multiplication and
an addition, so a rate quoted in FLOP/s must be compared with twice the count (`ConvMacs.forward_flops`, `.flops`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch

from book._args import ArgumentError, IntPair, integer, pair
from book.shapes import conv_output_size

__all__ = ["conv2d_macs", "conv2d_memory", "ConvMacs", "ConvMemory", "FLOPS_PER_MAC"]

# A multiply-add is one multiplication and one addition: two floating-point operations.
FLOPS_PER_MAC = 2


@dataclass(frozen=True)
class ConvMacs:
    """Multiply-adds (one multiplication plus one addition each) for the whole batch; the `*flops` properties give
    the same work in floating-point operations, two per multiply-add."""
    forward: int
    backward: int

    @property
    def total(self) -> int:
        """Forward plus backward: one training step's multiply-adds."""
        return self.forward + self.backward

    @property
    def forward_flops(self) -> int:
        """The forward pass in floating-point operations (2 per multiply-add), the unit of a FLOP/s rate."""
        return FLOPS_PER_MAC * self.forward

    @property
    def flops(self) -> int:
        """Forward plus backward in floating-point operations (2 per multiply-add)."""
        return FLOPS_PER_MAC * self.total


@dataclass(frozen=True)
class ConvMemory:
    """Bytes held by a conv layer: its parameters, the input it reads and the output it writes.

    `forward` is what the forward pass touches (parameters + input + output). `backward` adds one gradient of the
    same size for each of them (dL/dW and dL/db, dL/dX, and the incoming dL/dY), so it is twice `forward`.
    """
    parameters: int
    input: int
    output: int

    @property
    def forward(self) -> int:
        """Bytes the forward pass touches."""
        return self.parameters + self.input + self.output

    @property
    def backward(self) -> int:
        """Bytes the backward pass touches: every forward tensor plus its gradient."""
        return 2 * self.forward


def _check_channels(in_channels: int, out_channels: int, groups: int, batch_size: int) -> None:
    """Refuse what `nn.Conv2d` and a call of it refuse: counts that are not ints, negative counts (an empty
    layer or batch is allowed, as in torch), non-positive groups, channel counts not divisible by groups."""
    for name, count in (("in_channels", in_channels), ("out_channels", out_channels), ("batch_size", batch_size)):
        if integer(count, name) < 0:
            raise ArgumentError(f"{name} must be non-negative, got {count}")
    if integer(groups, "groups") <= 0:
        raise ArgumentError(f"groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ArgumentError(f"in_channels {in_channels} and out_channels {out_channels} must be divisible by "
                            f"groups={groups}")


def _output_hw(input_size: IntPair, kernel_size: IntPair, stride: IntPair, padding: Union[str, IntPair],
               dilation: IntPair) -> tuple:
    """(m_h, m_w): the output size as a pair, whatever kind the arguments were."""
    return pair(conv_output_size(pair(input_size, "input_size"), kernel_size, stride, padding, dilation), "output")


def conv2d_macs(in_channels: int, out_channels: int, kernel_size: IntPair, input_size: IntPair, stride: IntPair = 1,
                padding: Union[str, IntPair] = 0, dilation: IntPair = 1, groups: int = 1,
                batch_size: int = 1) -> ConvMacs:
    """Multiply-adds of `nn.Conv2d(in_channels, out_channels, kernel_size, ...)` on `batch_size` inputs (not FLOPs:
    each multiply-add is two; see `ConvMacs.forward_flops`)."""
    _check_channels(in_channels, out_channels, groups, batch_size)
    k_h, k_w = pair(kernel_size, "kernel_size")
    m_h, m_w = _output_hw(input_size, kernel_size, stride, padding, dilation)
    forward = batch_size * out_channels * (in_channels // groups) * k_h * k_w * m_h * m_w
    return ConvMacs(forward=forward, backward=2 * forward)


def conv2d_memory(in_channels: int, out_channels: int, kernel_size: IntPair, input_size: IntPair,
                  stride: IntPair = 1, padding: Union[str, IntPair] = 0, dilation: IntPair = 1, groups: int = 1,
                  batch_size: int = 1, bias: bool = True, dtype: torch.dtype = torch.float32) -> ConvMemory:
    """Bytes of the parameters, input and output of `nn.Conv2d(...)` on `batch_size` inputs of `dtype`."""
    _check_channels(in_channels, out_channels, groups, batch_size)
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype such as torch.float32, got {dtype!r}")
    size = torch.empty((), dtype=dtype).element_size()
    k_h, k_w = pair(kernel_size, "kernel_size")
    h, w = pair(input_size, "input_size")
    m_h, m_w = _output_hw(input_size, kernel_size, stride, padding, dilation)
    parameters = out_channels * (in_channels // groups) * k_h * k_w + (out_channels if bias else 0)
    return ConvMemory(parameters=parameters * size, input=batch_size * in_channels * h * w * size,
                      output=batch_size * out_channels * m_h * m_w * size)
