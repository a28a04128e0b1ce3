"""Convolution written out in tensor operations, one readable reference per idea, each equal to PyTorch's.

* `corr2d` is the textbook double loop (d2l's), for teaching and for checking the others.
* `conv2d` is im2col + one matrix multiplication, with PyTorch's arguments (`stride`, `padding`, `dilation`,
  `groups`, NCHW or CHW) and the same results as `torch.nn.functional.conv2d`.
* `conv_transpose2d` inserts zeros between the inputs, pads, and correlates with the rotated kernel.
* `conv2d_backward` computes both gradients of a convolution from the textbook formulas.
* `convolve1d`/`convolve2d` are true (kernel-flipping) convolutions, like `numpy.convolve`/`scipy.signal.convolve2d`.
* `windows`, `batched` and `spread` are the building blocks that `book.pool` and `book.viz` share.

None of them calls torch's own convolution, unfold/fold or pooling: padding is `F.pad`, windows are strided views.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

from book._args import (ArgumentError, IntPair, Pair, conv_padding, integer, non_negative_pair, positive_pair,
                         tensor)
from book.shapes import conv_transpose_output_size

__all__ = [
    "corr2d", "corr2d_multi_in", "corr2d_multi_in_out", "corr2d_multi_in_out_1x1",
    "windows", "batched", "spread", "conv2d", "conv_transpose2d", "conv2d_backward", "convolve1d", "convolve2d",
]


# ---------------------------------------------------------------------------------------------------------------
# The textbook versions (d2l-compatible)
# ---------------------------------------------------------------------------------------------------------------

def _dims(name: str, X: torch.Tensor, K: torch.Tensor, x_dims: int, k_dims: int, what: str) -> None:
    """The shapes the textbook helpers take: refused with one line, as `book.conv.conv2d` refuses, never an empty
    or half-summed result."""
    tensor(X, "X", name), tensor(K, "K", name)
    if X.dim() != x_dims or K.dim() != k_dims:
        raise ArgumentError(f"{name} expects {what}, got X of shape {tuple(X.shape)} and K of shape {tuple(K.shape)}")
    if K.shape[-1] > X.shape[-1] or K.shape[-2] > X.shape[-2]:
        raise ArgumentError(f"{name}: the kernel {tuple(K.shape[-2:])} is larger than the input "
                            f"{tuple(X.shape[-2:])}; use a smaller kernel or a larger input")


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2D cross-correlation of a matrix `X` with a kernel `K`, one output element at a time."""
    _dims("corr2d", X, K, 2, 2, "a 2D input X and a 2D kernel K")
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=torch.result_type(X, K), device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Several input channels (C, H, W) with a (C, kh, kw) kernel: correlate channel by channel, then add."""
    _dims("corr2d_multi_in", X, K, 3, 3, "X of shape (C, H, W) and K of shape (C, kh, kw)")
    if X.shape[0] != K.shape[0]:   # zip would pair the first channels and drop the rest
        raise ArgumentError(f"corr2d_multi_in: X has {X.shape[0]} channels but K has {K.shape[0]}; give K one "
                            "kernel per input channel")
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A (c_o, c_i, kh, kw) kernel gives c_o output channels, one `corr2d_multi_in` each."""
    _dims("corr2d_multi_in_out", X, K, 3, 4, "X of shape (C, H, W) and K of shape (c_o, C, kh, kw)")
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution is a fully connected layer applied at every pixel: one matrix product over channels."""
    _dims("corr2d_multi_in_out_1x1", X, K, 3, 4, "X of shape (C, H, W) and K of shape (c_o, C, 1, 1)")
    if K.shape[1:] != (X.shape[0], 1, 1):
        raise ArgumentError(f"corr2d_multi_in_out_1x1 expects K of shape (c_o, {X.shape[0]}, 1, 1), got {tuple(K.shape)}")
    c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = torch.matmul(K.reshape((c_o, c_i)), X.reshape((c_i, h * w)))
    return Y.reshape((c_o, h, w))


# ---------------------------------------------------------------------------------------------------------------
# im2col convolution with PyTorch's interface
# ---------------------------------------------------------------------------------------------------------------

def windows(X: torch.Tensor, kernel_size: Pair, stride: Pair = (1, 1), dilation: Pair = (1, 1)) -> torch.Tensor:
    """Every kernel-sized window of a (N, C, H, W) tensor as a view of shape (N, C, kh, kw, out_h, out_w).

    No data is copied: element [n, c, i, j, y, x] is X[n, c, y*stride + i*dilation, x*stride + j*dilation].
    """
    if tensor(X, "X", "windows").dim() != 4:
        raise ArgumentError(f"windows expects a 4D (N, C, H, W) input, got shape {tuple(X.shape)}; "
                            "add the missing axes with X[None]")
    (kh, kw), (sh, sw) = positive_pair(kernel_size, "kernel_size"), positive_pair(stride, "stride")
    dh, dw = positive_pair(dilation, "dilation")
    n, c, h, w = X.shape
    out_h, out_w = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    if out_h <= 0 or out_w <= 0:
        raise ArgumentError(f"kernel_size {(kh, kw)} with dilation {(dh, dw)} is larger than the input {(h, w)}; "
                            "use a smaller kernel or pad the input")
    s_n, s_c, s_h, s_w = X.stride()
    return X.as_strided((n, c, kh, kw, out_h, out_w), (s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w))


def batched(input: torch.Tensor, name: str) -> Tuple[torch.Tensor, bool]:
    """Accept NCHW or unbatched CHW, as torch does; return NCHW and whether a batch axis was added."""
    if tensor(input, "input", name).dim() == 3:
        return input.unsqueeze(0), True
    if input.dim() == 4:
        return input, False
    raise ArgumentError(f"{name} expects a 3D (C, H, W) or 4D (N, C, H, W) input, got shape {tuple(input.shape)}")


def _check_weight(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], groups: int,
                  in_axis: int, out_channels: int, name: str) -> None:
    """Refuse what torch refuses: wrong dims, dtypes or channel counts; `in_axis` is the weight's input-channel axis."""
    if weight.dim() != 4:
        raise ArgumentError(f"{name} expects a 4D weight (out_channels, in_channels/groups, kh, kw), got shape "
                            f"{tuple(weight.shape)}")
    if groups <= 0:
        raise ArgumentError(f"groups must be positive, got {groups!r}")
    if bias is not None:
        tensor(bias, "bias", name)
    if input.dtype != weight.dtype:
        raise ArgumentError(f"input dtype {input.dtype} and weight dtype {weight.dtype} differ; convert one of them")
    in_channels = input.shape[1]
    if in_channels % groups:
        raise ArgumentError(f"in_channels {in_channels} is not divisible by groups={groups}")
    if in_axis == 1 and weight.shape[1] * groups != in_channels:
        raise ArgumentError(f"weight of shape {tuple(weight.shape)} with groups={groups} expects "
                         f"{weight.shape[1] * groups} input channels, but the input has {in_channels}")
    if in_axis == 0 and weight.shape[0] != in_channels:
        raise ArgumentError(f"weight of shape {tuple(weight.shape)} expects {weight.shape[0]} input channels, "
                         f"but the input has {in_channels}")
    if out_channels % groups:
        raise ArgumentError(f"out_channels {out_channels} is not divisible by groups={groups}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ArgumentError(f"bias must have shape ({out_channels},), got {tuple(bias.shape)}")
    if bias is not None and bias.dtype != input.dtype:
        raise ArgumentError(f"bias dtype {bias.dtype} differs from the input's {input.dtype}; convert one of them")


def conv2d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None, stride: IntPair = 1,
           padding: Union[str, IntPair] = 0, dilation: IntPair = 1, groups: int = 1) -> torch.Tensor:
    """`torch.nn.functional.conv2d`, written as im2col + matmul.

    The input is padded, every window is laid out as a column (im2col), and one batched matrix product with the
    flattened kernels gives all outputs at once, already in NCHW order.
    """
    X, unbatched = batched(input, "conv2d")
    tensor(weight, "weight", "conv2d")
    groups = integer(groups, "groups")
    c_out, c_in_per_group, kh, kw = weight.shape if weight.dim() == 4 else (0, 0, 0, 0)
    _check_weight(X, weight, bias, groups, 1, c_out, "conv2d")
    s = positive_pair(stride, "stride")
    d = positive_pair(dilation, "dilation")
    (top, bottom), (left, right) = conv_padding(padding, (kh, kw), d, s)
    n, _, h, w = X.shape
    if h + top + bottom < d[0] * (kh - 1) + 1 or w + left + right < d[1] * (kw - 1) + 1:
        raise ArgumentError(f"kernel size {(kh, kw)} with dilation {d} is larger than the padded input "
                         f"{(h + top + bottom, w + left + right)}; use a smaller kernel or more padding")

    X = F.pad(X, (left, right, top, bottom))
    cols = windows(X, (kh, kw), s, d)                        # (N, C, kh, kw, out_h, out_w), a view
    out_h, out_w = cols.shape[-2:]
    cols = cols.reshape(n, groups, c_in_per_group * kh * kw, out_h * out_w)   # im2col: the one copy
    kernels = weight.reshape(groups, c_out // groups, c_in_per_group * kh * kw)
    Y = torch.matmul(kernels, cols).reshape(n, c_out, out_h, out_w)
    if bias is not None:
        Y = Y + bias.reshape(1, -1, 1, 1)
    return Y.squeeze(0) if unbatched else Y


def spread(X: torch.Tensor, stride: Pair) -> torch.Tensor:
    """Insert stride-1 zeros between neighbouring elements of the last two axes (the 'dilated input')."""
    if tensor(X, "X", "spread").dim() != 4:
        raise ArgumentError(f"spread expects a 4D (N, C, H, W) input, got shape {tuple(X.shape)}; "
                            "add the missing axes with X[None]")
    sh, sw = positive_pair(stride, "stride")
    if (sh, sw) == (1, 1):
        return X
    n, c, h, w = X.shape
    spread = X.new_zeros((n, c, (h - 1) * sh + 1, (w - 1) * sw + 1))
    spread[:, :, ::sh, ::sw] = X
    return spread


def _flipped_transpose(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """(C_in, C_out/g, kh, kw) -> (C_out, C_in/g, kh, kw) rotated by 180 degrees: the kernel that undoes a conv."""
    c_in, c_out_per_group, kh, kw = weight.shape
    w = weight.reshape(groups, c_in // groups, c_out_per_group, kh, kw).transpose(1, 2)
    return w.reshape(groups * c_out_per_group, c_in // groups, kh, kw).flip(-2, -1)


def _full_correlation(X: torch.Tensor, kernel: torch.Tensor, stride: Pair, padding: Pair, output_padding: Pair,
                      dilation: Pair, groups: int) -> torch.Tensor:
    """Spread X by `stride`, pad by d(k-1) - padding (+ output_padding bottom/right), correlate with `kernel`."""
    kh, kw = kernel.shape[-2:]
    edge_h, edge_w = dilation[0] * (kh - 1) - padding[0], dilation[1] * (kw - 1) - padding[1]
    # A negative amount crops: padding larger than d(k-1) removes rows from the full result.
    X = F.pad(spread(X, stride), (edge_w, edge_w + output_padding[1], edge_h, edge_h + output_padding[0]))
    return conv2d(X, kernel, dilation=dilation, groups=groups)


def conv_transpose2d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
                     stride: IntPair = 1, padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1,
                     dilation: IntPair = 1) -> torch.Tensor:
    """`torch.nn.functional.conv_transpose2d`: zeros inserted between inputs, padded, correlated with rot180(W).

    `weight` has torch's transposed layout (C_in, C_out/groups, kh, kw).
    """
    X, unbatched = batched(input, "conv_transpose2d")
    tensor(weight, "weight", "conv_transpose2d")
    groups = integer(groups, "groups")
    c_out = weight.shape[1] * groups if weight.dim() == 4 else 0
    _check_weight(X, weight, bias, groups, 0, c_out, "conv_transpose2d")
    # Refuses what torch refuses: bad stride/dilation/padding, output_padding >= max(stride, dilation), no output.
    conv_transpose_output_size(tuple(X.shape[-2:]), tuple(weight.shape[-2:]), stride, padding, output_padding, dilation)
    s, d = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    p, op = non_negative_pair(padding, "padding"), non_negative_pair(output_padding, "output_padding")
    Y = _full_correlation(X, _flipped_transpose(weight, groups), s, p, op, d, groups)
    if bias is not None:
        Y = Y + bias.reshape(1, -1, 1, 1)
    return Y.squeeze(0) if unbatched else Y


def conv2d_backward(X: torch.Tensor, W: torch.Tensor, grad_out: torch.Tensor, stride: IntPair = 1,
                    padding: IntPair = 0, dilation: IntPair = 1) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gradients of `Y = conv2d(X, W, stride, padding, dilation)` given dL/dY, from the textbook formulas.

    * dL/dW is the cross-correlation of the (padded) input with dL/dY, where the roles of stride and dilation swap:
      the output's neighbours sit `stride` apart in X, and kernel taps sit `dilation` apart.
    * dL/dX is the full convolution of dL/dY (zeros inserted for the stride) with the 180-degree-rotated kernel,
      cropped by the padding; rows the forward pass never read (stride leftovers) get zero gradient.
    """
    X4, unbatched = batched(X, "conv2d_backward")
    tensor(W, "W", "conv2d_backward"), tensor(grad_out, "grad_out", "conv2d_backward")
    if W.dim() != 4:
        raise ArgumentError(f"conv2d_backward expects a 4D weight W (out_channels, in_channels, kh, kw), got shape "
                            f"{tuple(W.shape)}")
    G = grad_out.unsqueeze(0) if unbatched else grad_out
    s = positive_pair(stride, "stride")
    d = positive_pair(dilation, "dilation")
    (top, bottom), (left, right) = conv_padding(padding, tuple(W.shape[-2:]), d, s)
    if top != bottom or left != right:
        raise ArgumentError("conv2d_backward needs symmetric padding; pass an int or a pair instead of 'same'")
    kh, kw = W.shape[-2:]
    expected = tuple(conv2d(X4, W, stride=s, padding=(top, left), dilation=d).shape)
    if tuple(G.shape) != expected:
        raise ArgumentError(f"grad_out has shape {tuple(G.shape)}, but the convolution's output has shape {expected}; "
                            "pass the gradient of that output")

    padded = F.pad(X4, (left, right, top, bottom))
    # Channels become the batch: each (input channel, output channel) pair is one 2D correlation over N.
    grad_W = conv2d(padded.transpose(0, 1), G.transpose(0, 1), stride=d, dilation=s)
    grad_W = grad_W[:, :, :kh, :kw].transpose(0, 1)

    h, w = X4.shape[-2:]
    unread = [(n + 2 * p - d_ * (k - 1) - 1) % s_ for n, p, d_, k, s_ in zip((h, w), (top, left), d, (kh, kw), s)]
    grad_X = _full_correlation(G, _flipped_transpose(W, 1), s, (top, left), tuple(unread), d, 1)
    return (grad_X.squeeze(0) if unbatched else grad_X), grad_W


# ---------------------------------------------------------------------------------------------------------------
# True convolution (the kernel is flipped), as in signal processing
# ---------------------------------------------------------------------------------------------------------------

_MODES = ("full", "same", "valid")


def _check_mode(mode: str) -> None:
    """numpy's and scipy's three output sizes, and nothing else."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")


def convolve1d(x: torch.Tensor, w: torch.Tensor, mode: str = "full") -> torch.Tensor:
    """`numpy.convolve(x, w, mode)`: (x * w)[n] = sum_m x[m] w[n - m]."""
    _check_mode(mode)
    tensor(x, "x", "convolve1d"), tensor(w, "w", "convolve1d")
    if x.dim() != 1 or w.dim() != 1 or len(x) == 0 or len(w) == 0:
        raise ValueError(f"convolve1d expects two non-empty 1D tensors x and w, got shapes {tuple(x.shape)} and "
                         f"{tuple(w.shape)}; flatten them or use convolve2d")
    if len(w) > len(x):
        x, w = w, x  # convolution commutes; numpy slides the shorter one
    full = convolve2d(x.reshape(1, -1), w.reshape(1, -1), "full")[0]
    n, m = len(x), len(w)
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return full[start:start + n]
    return full[m - 1:n]


def convolve2d(X: torch.Tensor, K: torch.Tensor, mode: str = "full") -> torch.Tensor:
    """`scipy.signal.convolve2d(X, K, mode)` with zero fill: correlate with the kernel rotated by 180 degrees."""
    _check_mode(mode)
    tensor(X, "X", "convolve2d"), tensor(K, "K", "convolve2d")
    if X.dim() != 2 or K.dim() != 2 or X.numel() == 0 or K.numel() == 0:
        raise ValueError(f"convolve2d expects two non-empty 2D tensors X and K, got shapes {tuple(X.shape)} and "
                         f"{tuple(K.shape)}; select one channel, e.g. X[0]")
    if mode == "valid":
        if all(a >= b for a, b in zip(K.shape, X.shape)):
            X, K = K, X  # scipy: in 'valid' mode the larger array may come second
        elif not all(a >= b for a, b in zip(X.shape, K.shape)):
            raise ValueError(f"mode='valid' needs one input at least as large as the other in every dimension, "
                             f"got {tuple(X.shape)} and {tuple(K.shape)}; use mode='full' or 'same'")
    kh, kw = K.shape
    dtype = torch.result_type(X, K)
    X4, K4 = X.to(dtype)[None, None], K.to(dtype).flip(0, 1)[None, None]
    if mode == "valid":
        return conv2d(X4, K4)[0, 0]
    full = conv2d(X4, K4, padding=(kh - 1, kw - 1))[0, 0]
    if mode == "full":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return full[top:top + X.shape[0], left:left + X.shape[1]]
