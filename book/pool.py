"""Pooling written out in tensor operations: d2l's loop, and windowed versions equal to PyTorch's.

Max pooling pads with -inf and average pooling with zeros, then reduces every window of a strided view
(`book.conv.windows`). The divisor of average pooling is itself a window sum, over a mask of the cells that count,
which is how `count_include_pad` and `ceil_mode` agree with torch to the last element.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from book._args import (ArgumentError, IntPair, flag, integer, is_int, non_negative_pair, pool_stride, positive_pair,
                         tensor)
from book.conv import batched, windows
from book.shapes import pool_output_size

__all__ = ["pool2d", "max_pool2d", "avg_pool2d"]


def pool2d(X: torch.Tensor, pool_size: Tuple[int, int], mode: str = "max") -> torch.Tensor:
    """d2l's 2D pooling of a matrix, one window at a time (stride 1, no padding)."""
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    tensor(X, "X", "pool2d")
    if not (isinstance(pool_size, (tuple, list)) and len(pool_size) == 2 and all(is_int(p) for p in pool_size)):
        raise TypeError(f"pool2d() expects pool_size as a pair of ints, got {pool_size!r}; pass (height, width)")
    p_h, p_w = pool_size
    if X.dim() != 2 or not (0 < p_h <= X.shape[0] and 0 < p_w <= X.shape[1]):
        raise ArgumentError(f"pool2d expects a 2D input at least as large as a positive window, got X of shape "
                            f"{tuple(X.shape)} and pool_size {tuple(pool_size)}")
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def _pool_geometry(X: torch.Tensor, kernel_size: IntPair, stride: Optional[IntPair], padding: IntPair,
                   dilation: IntPair, ceil_mode: bool):
    """Checked (kernel_size, stride, padding, dilation) pairs, and how far ceil_mode windows overhang the padding."""
    flag(ceil_mode, "ceil_mode")
    out = pool_output_size(tuple(X.shape[-2:]), kernel_size, stride, padding, dilation, ceil_mode)
    k = positive_pair(kernel_size, "kernel_size")
    s = positive_pair(pool_stride(stride, kernel_size), "stride")
    p, d = non_negative_pair(padding, "padding"), positive_pair(dilation, "dilation")
    # ceil_mode can let the last window hang past the right padding: pad that overhang too (it never counts).
    extra = [max(0, (o - 1) * s_ + d_ * (k_ - 1) + 1 - (n + 2 * p_)) for o, s_, d_, k_, n, p_ in
             zip(out, s, d, k, X.shape[-2:], p)]
    return k, s, p, d, extra


def max_pool2d(input: torch.Tensor, kernel_size: IntPair, stride: Optional[IntPair] = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False) -> torch.Tensor:
    """`torch.nn.functional.max_pool2d`: the largest value in each window; padding never wins."""
    X, unbatched = batched(input, "max_pool2d")
    k, s, p, d, extra = _pool_geometry(X, kernel_size, stride, padding, dilation, ceil_mode)
    if X.dtype == torch.bool or X.is_complex():   # no order to take a maximum in, as torch says
        raise NotImplementedError(f"max_pool2d is not implemented for {X.dtype}, as in torch; convert the input "
                                  "with .float()")
    lowest = -torch.inf if X.is_floating_point() else torch.iinfo(X.dtype).min
    padded = F.pad(X, (p[1], p[1] + extra[1], p[0], p[0] + extra[0]), value=lowest)
    Y = windows(padded, k, s, d).amax(dim=(2, 3))
    return Y.squeeze(0) if unbatched else Y


def avg_pool2d(input: torch.Tensor, kernel_size: IntPair, stride: Optional[IntPair] = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> torch.Tensor:
    """`torch.nn.functional.avg_pool2d`: each window's sum divided by how many of its cells count.

    Cells of the zero padding count when `count_include_pad`; the ceil_mode overhang beyond the padding never does.
    Like torch on the CPU, an int64 input gives an int64 average, rounded toward zero.
    """
    X, unbatched = batched(input, "avg_pool2d")
    # torch's CPU kernel takes floating point and int64, its CUDA kernel floating point only
    if not (X.is_floating_point() or (X.dtype == torch.int64 and X.device.type == "cpu")):
        raise NotImplementedError(f"avg_pool2d is not implemented for {X.dtype} on {X.device.type}, as in torch; "
                                  "convert the input with .float()")
    flag(count_include_pad, "count_include_pad")
    if divisor_override is not None and integer(divisor_override, "divisor_override") == 0:
        raise ArgumentError("divisor_override must not be zero; pass None to divide by the window size")
    k, s, p, d, extra = _pool_geometry(X, kernel_size, stride, padding, 1, ceil_mode)
    pads = (p[1], p[1] + extra[1], p[0], p[0] + extra[0])
    sums = windows(F.pad(X, pads), k, s, d).sum(dim=(2, 3))
    if divisor_override is not None:
        divisor = divisor_override
    else:
        h, w = X.shape[-2:]
        counted = X.new_ones((1, 1, h, w))
        if count_include_pad:
            counted = F.pad(counted, (p[1], p[1], p[0], p[0]), value=1)
            counted = F.pad(counted, (0, extra[1], 0, extra[0]))
        else:
            counted = F.pad(counted, pads)
        divisor = windows(counted, k, s, d).sum(dim=(2, 3))
    Y = sums / divisor if X.is_floating_point() else torch.div(sums, divisor, rounding_mode="trunc")
    return Y.squeeze(0) if unbatched else Y
