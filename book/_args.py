"""Argument normalisation shared by `book.conv`, `book.pool` and `book.shapes`.

PyTorch accepts an int or a pair for every spatial argument; these helpers turn either into a pair and refuse
values torch would refuse, with a one-line `ValueError` that names the argument.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

IntPair = Union[int, Sequence[int]]
Pair = Tuple[int, int]


def pair(value: IntPair, name: str) -> Pair:
    """`3` -> `(3, 3)`, `(2, 3)` -> `(2, 3)`; anything else is a `ValueError` naming `name`."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(items) == 1:
        items = items * 2
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return (items[0], items[1])


def positive_pair(value: IntPair, name: str) -> Pair:
    """`pair`, refusing zero and negative values (stride, dilation, kernel_size, sizes)."""
    result = pair(value, name)
    if min(result) <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return result


def non_negative_pair(value: IntPair, name: str) -> Pair:
    """`pair`, refusing negative values (padding, output_padding)."""
    result = pair(value, name)
    if min(result) < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return result


def pool_stride(stride: Optional[IntPair], kernel_size: IntPair) -> IntPair:
    """torch's pooling stride: `None` (or an empty sequence) means windows side by side, `stride = kernel_size`."""
    return kernel_size if stride in (None, (), []) else stride


def same_type(value: Pair, *arguments: object) -> IntPair:
    """`value` as an int when no argument was a pair, so callers get back the kind they passed in.

    `conv_output_size(8, 3) == 6`, but `conv_output_size(8, (3, 5)) == (6, 4)`: one int cannot hold both sizes.
    """
    if any(isinstance(a, Sequence) and not isinstance(a, str) for a in arguments):
        return value
    return value[0]


def conv_padding(padding: Union[str, IntPair], kernel_size: Pair, dilation: Pair,
                 stride: Pair) -> Tuple[Pair, Pair]:
    """Padding as ((top, bottom), (left, right)); 'same' puts an odd extra row/column at the bottom/right, as torch."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions; "
                                 "use stride=1 or an int padding")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
            top, left = (t // 2 for t in totals)
            return (top, totals[0] - top), (left, totals[1] - left)
        raise ValueError(f"padding must be 'same', 'valid', an int or a pair of ints, got {padding!r}")
    ph, pw = non_negative_pair(padding, "padding")
    return (ph, ph), (pw, pw)
