"""The frames of a kernel sliding over an input, as plain data: no drawing, no widgets.

Every number comes from the operators the chapters teach. Outputs are computed by `book.conv` / `book.pool`, and the
cells each step reads come from `book.conv.windows` applied to a grid of cell numbers, so the animation highlights
exactly the cells the book's convolution reads, in the same order as the kernel's weights.

The grid the window slides over (the *canvas*) is the input as the operator sees it: zero-padded for a convolution,
padded with -inf for max pooling, and, for a transposed convolution, spread out (stride - 1 zeros inserted between
neighbouring inputs) and padded by dilation * (kernel - 1) - padding, as in Dumoulin & Visin's conv_arithmetic figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ContextManager, List, Optional, Tuple

import torch
import torch.nn.functional as F

from book import conv, pool, shapes
from book._args import ArgumentError, IntPair, Pair, non_negative_pair, positive_pair
from book.threads import num_threads

__all__ = ["MODES", "POOLING_MODES", "PAD", "ZERO", "Frames", "slide_frames", "format_number", "format_numbers", "as_chw",
           "one_thread"]

MODES = ("correlation", "convolution", "max", "avg", "transposed")
POOLING_MODES = ("max", "avg")
# Codes in `Frames.source` for canvas cells that are not input cells.
PAD = -1    # padding added around the input
ZERO = -2   # a zero inserted between inputs by a transposed convolution's stride


def format_number(value: float, decimals: int = 2) -> str:
    """The book's one way of writing a number in a cell: rounded to `decimals`, no trailing zeros or point, a true
    minus sign, never "−0": 3.0 -> "3", 1/3 -> "0.33", 1.001 -> "1", -0.001 -> "0", -inf -> "−∞"."""
    if math.isinf(value):
        return "−∞" if value < 0 else "∞"
    text = f"{round(value, decimals) + 0.0:.{decimals}f}"     # + 0.0 turns -0.0 into 0.0
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace("-", "−")


def format_numbers(values: torch.Tensor) -> List[str]:
    """`format_number` of every element, row-major; integer-valued tensors (the usual case) take a fast path."""
    flat = values.flatten().tolist()
    if all(map(float.is_integer, flat)):
        return [str(int(v)).replace("-", "−") for v in flat]
    return [format_number(v) for v in flat]


def one_thread() -> ContextManager[None]:
    """Run torch on one thread inside the block (`book.threads.num_threads(1)`), the caller's count restored after.

    The tensors here are tiny: waking torch's worker threads costs more than the work (hundreds of ms for one
    setting on a busy machine).
    """
    return num_threads(1)


def as_chw(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """A (H, W) or (C, H, W) tensor as float64 (C, H, W), or a one-line error naming the argument."""
    tensor = torch.as_tensor(tensor)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 3 or tensor.numel() == 0:
        raise ArgumentError(f"{name} must be a non-empty 2D (H, W) or 3D (C, H, W) tensor, got shape "
                            f"{tuple(tensor.shape)}")
    return tensor.detach().to(torch.float64)


@dataclass(frozen=True)
class Frames:
    """One animation: the canvas, the kernel as applied, and for every output cell the canvas cells it reads.

    Steps run over the output cells in row-major order; step `t` produces output cell `divmod(t, out_w)`.
    """
    mode: str
    stride: Pair
    padding: Pair
    dilation: Pair
    output_padding: Pair
    kernel_size: Pair
    input: torch.Tensor                     # (C, H, W) float64, as given
    kernel: Optional[torch.Tensor]          # (C, kh, kw) as given; None for pooling
    applied_kernel: Optional[torch.Tensor]  # (C, kh, kw) the weights multiplied in: rotated for convolution/transposed
    canvas: torch.Tensor                    # (C, Hc, Wc) the grid the window slides over
    source: torch.Tensor                    # (Hc, Wc) flat index into an input channel, or PAD / ZERO
    output: torch.Tensor                    # (C_out, out_h, out_w): 1 channel for convolutions, C for pooling
    contributions: Optional[torch.Tensor]   # (C, out_h, out_w) each input channel's share of the output
    windows: torch.Tensor                   # (steps, kh * kw) flat canvas index of each kernel tap, per step

    @property
    def channels(self) -> int:
        return self.input.shape[0]

    @property
    def canvas_size(self) -> Pair:
        return (self.canvas.shape[1], self.canvas.shape[2])

    @property
    def output_size(self) -> Pair:
        return (self.output.shape[1], self.output.shape[2])

    @property
    def steps(self) -> int:
        return self.windows.shape[0]

    @property
    def is_pooling(self) -> bool:
        return self.mode in POOLING_MODES

    def output_position(self, step: int) -> Pair:
        return divmod(self._checked(step), self.output_size[1])

    def window_cells(self, step: int) -> List[Pair]:
        """(row, column) on the canvas of every kernel tap at `step`, in the kernel's row-major order."""
        width = self.canvas_size[1]
        return [divmod(int(i), width) for i in self.windows[self._checked(step)]]

    def unread_cells(self) -> torch.Tensor:
        """(Hc, Wc) bool: input cells no window ever reads (stride larger than the kernel, or floor rounding)."""
        with one_thread():
            reads = torch.bincount(self.windows.flatten(), minlength=self.source.numel())
        return (reads.reshape(self.source.shape) == 0) & (self.source >= 0)

    def equation(self, step: int) -> List[str]:
        """The arithmetic behind output cell `step`, one line per input channel (plus the sum when there are several)."""
        step = self._checked(step)
        y, x = self.output_position(step)
        taps = self.windows[step]
        lines = []
        for c in range(self.channels):
            values = [format_number(float(v)) for v in self.canvas[c].flatten()[taps]]
            prefix = f"channel {c}: " if self.channels > 1 else ""
            if self.is_pooling:
                result = format_number(float(self.output[c, y, x]))
                if self.mode == "max":
                    lines.append(f"{prefix}max({', '.join(values)}) = {result}")
                else:
                    lines.append(f"{prefix}({' + '.join(values)}) / {len(values)} = {result}")
            else:
                weights = [format_number(float(w)) for w in self.applied_kernel[c].flatten()]
                products = " + ".join(f"{v}·{_parenthesised(w)}" for v, w in zip(values, weights))
                lines.append(f"{prefix}{products} = {format_number(float(self.contributions[c, y, x]))}")
        if not self.is_pooling and self.channels > 1:
            shares = " + ".join(format_number(float(v)) for v in self.contributions[:, y, x])
            lines.append(f"sum over channels: {shares} = {format_number(float(self.output[0, y, x]))}")
        return lines

    def describe(self) -> str:
        """One line naming the operation and every setting, ending with the output size."""
        (h, w), (kh, kw), (oh, ow) = self.input.shape[1:], self.kernel_size, self.output_size
        parts = [self.mode if not self.is_pooling else f"{self.mode} pooling", f"input {h}×{w}"]
        if self.channels > 1:
            parts[-1] = f"input {self.channels}×{h}×{w}"
        parts.append(f"{'window' if self.is_pooling else 'kernel'} {kh}×{kw}")
        parts += [f"{name} {_pair_text(value)}" for name, value in
                  (("padding", self.padding), ("stride", self.stride), ("dilation", self.dilation))]
        if self.mode == "transposed":
            parts.append(f"output_padding {_pair_text(self.output_padding)}")
        return " · ".join(parts) + f" → output {oh}×{ow}"

    def _checked(self, step: int) -> int:
        if not 0 <= step < self.steps:
            raise ValueError(f"step must be in [0, {self.steps - 1}], got {step}")
        return int(step)


def _parenthesised(text: str) -> str:
    return f"({text})" if text.startswith("−") else text


def _pair_text(value: Pair) -> str:
    return str(value[0]) if value[0] == value[1] else f"({value[0]}, {value[1]})"


def _cell_numbers(size: Tuple[int, int]) -> torch.Tensor:
    """A (1, 1, H, W) grid holding each cell's flat index: pushed through pad/spread it tells where each cell went."""
    return torch.arange(size[0] * size[1]).reshape(1, 1, *size)


def _window_indices(source: torch.Tensor, kernel_size: Pair, stride: Pair, dilation: Pair) -> torch.Tensor:
    canvas_numbers = _cell_numbers(tuple(source.shape))
    taps = conv.windows(canvas_numbers, kernel_size, stride, dilation)       # (1, 1, kh, kw, out_h, out_w)
    kh, kw, out_h, out_w = taps.shape[2:]
    return taps.reshape(kh * kw, out_h * out_w).T.contiguous()


def slide_frames(X: torch.Tensor, K: Optional[torch.Tensor] = None, *, mode: str = "correlation",
                 kernel_size: Optional[IntPair] = None, stride: IntPair = 1, padding: IntPair = 0,
                 dilation: IntPair = 1, output_padding: IntPair = 0) -> Frames:
    """All frames of `mode` applied to X (H, W) or (C, H, W) with kernel K (kh, kw) or (C, kh, kw).

    Pooling modes take no K, only `kernel_size`. Settings that torch would refuse (an output of size 0, too much
    padding, output_padding not below stride or dilation) raise a one-line `ValueError`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    with one_thread():
        return _slide_frames(X, K, mode, kernel_size, stride, padding, dilation, output_padding)


def _slide_frames(X, K, mode, kernel_size, stride, padding, dilation, output_padding) -> Frames:
    X = as_chw(X, "X")
    s, d = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    p, op = non_negative_pair(padding, "padding"), non_negative_pair(output_padding, "output_padding")
    if mode in POOLING_MODES:
        if K is not None:
            raise ValueError(f"{mode} pooling has no kernel weights: pass K=None and the window as kernel_size")
        if kernel_size is None:
            raise ValueError(f"{mode} pooling needs kernel_size, the window size")
        return _pooling_frames(X, mode, positive_pair(kernel_size, "kernel_size"), s, p, d)
    if K is None:
        raise ValueError(f"{mode} needs a kernel K of shape (kh, kw) or (C, kh, kw)")
    K = as_chw(K, "K")
    if K.shape[0] != X.shape[0]:
        raise ArgumentError(f"K has {K.shape[0]} channel(s) but X has {X.shape[0]}; give K one (kh, kw) slice per "
                            "channel")
    if mode == "transposed":
        return _transposed_frames(X, K, s, p, d, op)
    return _convolution_frames(X, K, mode, s, p, d)


def _convolution_frames(X, K, mode, s, p, d) -> Frames:
    k = tuple(K.shape[1:])
    shapes.conv_output_size(tuple(X.shape[1:]), k, s, p, d)   # refuses impossible settings with a clear message
    applied = K.flip(-2, -1) if mode == "convolution" else K
    weight = applied.unsqueeze(0)                                                    # (1, C, kh, kw)
    output = conv.conv2d(X, weight, stride=s, padding=p, dilation=d)
    # groups=C keeps the channels apart: each input channel's share of every output cell.
    contributions = conv.conv2d(X, applied.unsqueeze(1), stride=s, padding=p, dilation=d, groups=X.shape[0])
    pads = (p[1], p[1], p[0], p[0])
    canvas = F.pad(X.unsqueeze(0), pads)[0]
    source = F.pad(_cell_numbers(tuple(X.shape[1:])), pads, value=PAD)[0, 0]
    return Frames(mode, s, p, d, (0, 0), k, X, K, applied, canvas, source, output, contributions,
                  _window_indices(source, k, s, d))


def _transposed_frames(X, K, s, p, d, op) -> Frames:
    k = tuple(K.shape[1:])
    shapes.conv_transpose_output_size(tuple(X.shape[1:]), k, s, p, op, d)
    output = conv.conv_transpose2d(X, K.unsqueeze(1), stride=s, padding=p, output_padding=op, dilation=d)
    applied = K.flip(-2, -1)
    # The canvas conv_transpose2d correlates over: stride - 1 zeros between inputs, then d(k - 1) - p on each side
    # (+ output_padding bottom/right); a negative amount crops, exactly as F.pad does inside book.conv.
    edge_h, edge_w = d[0] * (k[0] - 1) - p[0], d[1] * (k[1] - 1) - p[1]
    pads = (edge_w, edge_w + op[1], edge_h, edge_h + op[0])
    canvas = F.pad(conv.spread(X.unsqueeze(0), s), pads)[0]
    spread_numbers = conv.spread(_cell_numbers(tuple(X.shape[1:])) - ZERO, s) + ZERO   # inserted cells become ZERO
    source = F.pad(spread_numbers, pads, value=PAD)[0, 0]
    contributions = conv.conv2d(canvas, applied.unsqueeze(1), dilation=d, groups=X.shape[0])
    return Frames("transposed", s, p, d, op, k, X, K, applied, canvas, source, output, contributions,
                  _window_indices(source, k, (1, 1), d))


def _pooling_frames(X, mode, k, s, p, d) -> Frames:
    if mode == "avg" and d != (1, 1):
        raise ValueError("avg pooling has no dilation in torch (avg_pool2d takes none); set dilation to 1")
    shapes.pool_output_size(tuple(X.shape[1:]), k, s, p, d)   # also torch's rule: padding at most half the window
    if mode == "max":
        output = pool.max_pool2d(X, k, stride=s, padding=p, dilation=d)
        fill = -math.inf    # padding never wins a max
    else:
        output = pool.avg_pool2d(X, k, stride=s, padding=p)
        fill = 0.0          # count_include_pad: padding counts as zeros
    pads = (p[1], p[1], p[0], p[0])
    canvas = F.pad(X.unsqueeze(0), pads, value=fill)[0]
    source = F.pad(_cell_numbers(tuple(X.shape[1:])), pads, value=PAD)[0, 0]
    return Frames(mode, s, p, d, (0, 0), k, X, None, None, canvas, source, output, None,
                  _window_indices(source, k, s, d))
