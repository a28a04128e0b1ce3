"""Output sizes of convolution, transposed convolution and pooling, a shape trace through any `nn.Module`, and the
receptive field of a stack of convolution and pooling layers.

Every size function takes ints or (h, w) pairs and returns an int when all its arguments were ints, a pair
otherwise, following the formulas in the PyTorch documentation:

    conv:            floor((n + 2p - d(k - 1) - 1) / s) + 1        (= floor((n - k + p_total + s) / s) when d = 1)
    transposed conv: (n - 1) s - 2p + d(k - 1) + output_padding + 1
    pooling:         like conv, rounded up instead of down when ceil_mode=True, provided the last window starts
                     inside the input or its left padding
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from book._args import (ArgumentError, IntPair, conv_padding, flag, is_int, non_negative_pair, pair, pool_stride,
                         positive_pair, same_type)

__all__ = ["conv_output_size", "conv_output_remainder", "conv_transpose_output_size", "pool_output_size", "trace",
           "ShapeTrace", "receptive_field", "ReceptiveField"]


def _check_positive(out: Tuple[int, int], name: str, n: Tuple[int, int], fix: str) -> None:
    """Refuse an empty output the way torch does ('Output size is too small'), saying how to fix it."""
    if min(out) <= 0:
        raise ArgumentError(f"{name} output size would be {out} for input size {n}: {fix}")


_KERNEL_TOO_LARGE = ("the kernel (with dilation) is larger than the padded input; "
                     "use a smaller kernel_size/dilation or more padding")


def conv_output_size(input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1,
                     padding: Union[str, IntPair] = 0, dilation: IntPair = 1) -> IntPair:
    """Spatial output size of `nn.Conv2d` (or `Conv1d` with ints): `conv_output_size(8, 3, padding=1) == 8`."""
    n = positive_pair(input_size, "input_size")
    k = positive_pair(kernel_size, "kernel_size")
    s = positive_pair(stride, "stride")
    d = positive_pair(dilation, "dilation")
    pads = conv_padding(padding, k, d, s)
    out = tuple((n_ + sum(p) - d_ * (k_ - 1) - 1) // s_ + 1 for n_, p, d_, k_, s_ in zip(n, pads, d, k, s))
    _check_positive(out, "convolution", n, _KERNEL_TOO_LARGE)
    return same_type(out, input_size, kernel_size, stride, padding, dilation)


def conv_output_remainder(input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1,
                          padding: Union[str, IntPair] = 0, dilation: IntPair = 1) -> IntPair:
    """What the floor in `conv_output_size` discards: r = (n + 2p - d(k - 1) - 1) mod s, per axis.

    0 means the windows fit the padded input exactly, so (n + 2p - d(k - 1) - 1) / s + 1 is a whole number (CS231n's
    condition for hyperparameters that "work"); otherwise the last r rows (columns) of the padded input lie past the
    last window, and r is the `output_padding` with which a transposed convolution gives back the input's size:
    `conv_output_remainder(224, 11, 4) == 1`.
    """
    conv_output_size(input_size, kernel_size, stride, padding, dilation)  # refuses what torch refuses
    n, k = pair(input_size, "input_size"), pair(kernel_size, "kernel_size")
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    pads = conv_padding(padding, k, d, s)
    rest = tuple((n_ + sum(p) - d_ * (k_ - 1) - 1) % s_ for n_, p, d_, k_, s_ in zip(n, pads, d, k, s))
    return same_type(rest, input_size, kernel_size, stride, padding, dilation)


def conv_transpose_output_size(input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1,
                               padding: IntPair = 0, output_padding: IntPair = 0,
                               dilation: IntPair = 1) -> IntPair:
    """Spatial output size of `nn.ConvTranspose2d`: the input size of the convolution it is the gradient of."""
    n = positive_pair(input_size, "input_size")
    k = positive_pair(kernel_size, "kernel_size")
    s = positive_pair(stride, "stride")
    d = positive_pair(dilation, "dilation")
    p = non_negative_pair(padding, "padding")
    op = non_negative_pair(output_padding, "output_padding")
    if any(o >= max(s_, d_) for o, s_, d_ in zip(op, s, d)):
        raise ArgumentError(f"output_padding {output_padding!r} must be smaller than either stride or dilation; "
                            "use less output_padding")
    out = tuple((n_ - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o + 1 for n_, s_, p_, d_, k_, o in zip(n, s, p, d, k, op))
    _check_positive(out, "transposed convolution", n, "padding removes the whole output; use less padding")
    return same_type(out, input_size, kernel_size, stride, padding, output_padding, dilation)


def pool_output_size(input_size: IntPair, kernel_size: IntPair, stride: IntPair | None = None,
                     padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False) -> IntPair:
    """Spatial output size of `nn.MaxPool2d`/`nn.AvgPool2d`; `stride` defaults to `kernel_size` as in torch."""
    flag(ceil_mode, "ceil_mode")
    n = positive_pair(input_size, "input_size")
    k = positive_pair(kernel_size, "kernel_size")
    s = positive_pair(pool_stride(stride, kernel_size), "stride")
    p = non_negative_pair(padding, "padding")
    d = positive_pair(dilation, "dilation")
    if any(p_ > k_ // 2 for p_, k_ in zip(p, k)):  # torch's rule ignores dilation
        raise ArgumentError(f"padding {padding!r} must be at most half of kernel_size {kernel_size!r} (rounded down)")
    out = []
    for n_, k_, s_, p_, d_ in zip(n, k, s, p, d):
        span = n_ + 2 * p_ - d_ * (k_ - 1) - 1
        size = (-(-span // s_) if ceil_mode else span // s_) + 1
        if ceil_mode and (size - 1) * s_ >= n_ + p_:
            size -= 1  # the last window would start in the right padding: torch drops it
        out.append(size)
    _check_positive(tuple(out), "pooling", n, _KERNEL_TOO_LARGE)
    return same_type(tuple(out), input_size, kernel_size, stride, padding, dilation)


@dataclass(frozen=True)
class ShapeRow:
    """One leaf layer in a `ShapeTrace`: what it is, the shape it outputs, its weight's shape and parameter count."""
    name: str
    layer: str
    output_shape: Tuple[int, ...]
    parameters: int
    weight_shape: Optional[Tuple[int, ...]] = None


@dataclass(frozen=True)
class ShapeTrace:
    """What `trace` returns: one row per leaf layer, printable as a table in a terminal or a notebook."""
    input_shape: Tuple[int, ...]
    rows: List[ShapeRow]

    @property
    def total_parameters(self) -> int:
        """Learnable numbers in all leaf layers together."""
        return sum(row.parameters for row in self.rows)

    @property
    def output_shape(self) -> Tuple[int, ...]:
        """The model's output shape (the last layer's), or the input shape for a model without layers."""
        return self.rows[-1].output_shape if self.rows else self.input_shape

    def _table(self) -> List[Tuple[str, str, str, str, str]]:
        """The rows as strings under `_HEADER`, framed by the input shape and the total."""
        lines = [("", "input", str(self.input_shape), "", "")]
        lines += [(r.name, r.layer, str(r.output_shape), "" if r.weight_shape is None else str(r.weight_shape),
                   f"{r.parameters:,}") for r in self.rows]
        lines.append(("", "total", "", "", f"{self.total_parameters:,}"))
        return lines

    def __str__(self) -> str:
        """A plain-text table with aligned columns, for terminals and `print`."""
        lines = [_HEADER] + self._table()
        widths = [max(len(line[i]) for line in lines) for i in range(len(_HEADER))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + f"  {{:>{widths[-1]}}}"
        return "\n".join(fmt.format(*line).rstrip() for line in lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The same table as HTML, which Jupyter shows when a trace ends a cell."""
        head = "".join(f"<th>{title}</th>" for title in _HEADER)
        cells = "".join(
            f"<tr><td>{n}</td><td><code>{layer}</code></td><td>{shape}</td><td>{weight}</td>"
            f"<td style='text-align:right'>{p}</td></tr>" for n, layer, shape, weight, p in self._table())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


_HEADER = ("name", "layer", "output shape", "weight shape", "parameters")


def trace(model: nn.Module, input_shape: Sequence[int], dtype: torch.dtype = torch.float32) -> ShapeTrace:
    """Run a zero tensor of `input_shape` through `model` and record every leaf layer's output shape and parameters.

    >>> trace(nn.Conv2d(3, 10, 3, padding=1, stride=2), (7, 3, 60, 60)).output_shape
    (7, 10, 30, 30)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"trace() expects an nn.Module for model, got {type(model).__name__}; pass the model itself")
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or \
            not all(is_int(v) for v in input_shape):
        raise TypeError(f"trace() expects input_shape as a sequence of ints, such as (1, 3, 32, 32), "
                        f"got {input_shape!r}")
    shape = tuple(int(v) for v in input_shape)
    rows: List[ShapeRow] = []
    names = {module: name for name, module in model.named_modules()}

    def record(module: nn.Module, _inputs, output) -> None:
        """Forward hook: one row per call of a leaf layer that returns a tensor."""
        if isinstance(output, torch.Tensor):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            weight = getattr(module, "weight", None)
            weight_shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else None
            rows.append(ShapeRow(names.get(module) or type(module).__name__, repr(module), tuple(output.shape), params,
                                 weight_shape))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(record) for m in leaves]
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        with torch.no_grad():
            model(torch.zeros(shape, dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return ShapeTrace(shape, rows)



class ReceptiveField(NamedTuple):
    """What `receptive_field` returns; each an int, or an (h, w) pair when any layer had pairs."""
    size: IntPair  # input pixels that one output unit sees, along each axis
    jump: IntPair  # input pixels between neighbouring output units: the product of the strides


Layer = Union[nn.Module, Sequence[IntPair]]


def receptive_field(layers: Iterable[Layer]) -> ReceptiveField:
    """Receptive field of one output unit of a stack of convolution and pooling layers, first layer first.

    A layer is a module with `kernel_size`, `stride` and optionally `dilation` (`nn.Conv2d`, `nn.MaxPool2d`,
    `nn.AvgPool2d`, ...) or a tuple `(kernel_size, stride=1, dilation=1)`. Each layer widens the field by
    `dilation * (kernel_size - 1)` steps of the previous jump; padding moves the field but does not widen it.

    >>> receptive_field([(3, 1), (3, 2), (3, 1)])
    ReceptiveField(size=9, jump=2)
    """
    size, jump = (1, 1), (1, 1)
    arguments: List[object] = []
    for index, layer in enumerate(layers):
        kernel_size, stride, dilation = _receptive_field_layer(index, layer)
        k = positive_pair(kernel_size, f"layer {index} kernel_size")
        s = positive_pair(stride, f"layer {index} stride")
        d = positive_pair(dilation, f"layer {index} dilation")
        size = tuple(n + d_ * (k_ - 1) * j for n, d_, k_, j in zip(size, d, k, jump))
        jump = tuple(j * s_ for j, s_ in zip(jump, s))
        arguments += [kernel_size, stride, dilation]
    return ReceptiveField(same_type(size, *arguments), same_type(jump, *arguments))


def _receptive_field_layer(index: int, layer: Layer) -> Tuple[IntPair, IntPair, IntPair]:
    """(kernel_size, stride, dilation) of one layer given to `receptive_field`, or a ValueError saying what to pass."""
    if isinstance(layer, nn.modules.conv._ConvTransposeNd):
        raise ValueError(f"layer {index} ({layer!r}) is a transposed convolution, which enlarges its input; "
                         "receptive_field takes convolution and pooling layers only")
    if isinstance(layer, nn.Module):
        if not hasattr(layer, "kernel_size"):
            raise ValueError(f"layer {index} ({layer!r}) has no kernel_size; pass only the convolution and pooling "
                             "layers, e.g. [m for m in model.modules() if hasattr(m, 'kernel_size')]")
        return layer.kernel_size, layer.stride, getattr(layer, "dilation", 1)
    if isinstance(layer, (str, bytes)) or not isinstance(layer, Sequence) or not 1 <= len(layer) <= 3:
        raise ValueError(f"layer {index} must be a module or a tuple (kernel_size, stride=1, dilation=1), "
                         f"got {layer!r}")
    kernel_size, stride, dilation = (*layer, 1, 1)[:3]  # missing stride and dilation are 1
    return kernel_size, stride, dilation
