"""Argument checks shared by `book.conv`, `book.pool`, `book.shapes`, `book.cost` and `book.data`.

PyTorch accepts an int or a pair for every spatial argument; these helpers turn either into a pair and refuse what
torch refuses, with torch's exception class and a one-line message that names the argument and the fix: a
`TypeError` for a value of the wrong type (`stride=1.5`, a list where a tensor belongs, `True` as an int), an
`ArgumentError` for a value or shape of the right type that torch cannot use (`stride=0`, mismatched channels).
"""
from __future__ import annotations

import numbers
from typing import Optional, Sequence, Tuple, Union

import torch

IntPair = Union[int, Sequence[int]]
Pair = Tuple[int, int]


class ArgumentError(RuntimeError, ValueError):
    """A value or shape torch refuses. torch's functions (`F.conv2d`, `F.max_pool2d`) raise `RuntimeError` for it
    and its modules' constructors (`nn.Conv2d`) `ValueError`, so the helpers, which stand for both, raise a class
    that is both: code written against either torch API catches it."""


def is_int(value: object) -> bool:
    """An int (NumPy's too) that is not a bool: torch refuses `True` where it wants an int (`stride=True`)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(value: object, name: str) -> int:
    """`value` if it is an int, else the `TypeError` torch raises for `groups=1.5` or `in_channels=4.0`."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__}); pass a whole number")
    return int(value)


def tensor(value: object, name: str, function: str) -> torch.Tensor:
    """`value` if it is a tensor, else the `TypeError` torch's functions raise for a list or an array."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{function}() expects a tensor for {name}, got {type(value).__name__}; "
                        f"wrap it in torch.tensor(...)")
    return value


def flag(value: object, name: str) -> bool:
    """`value` if it is a bool, else the `TypeError` torch raises for `ceil_mode='yes'`."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def pair(value: IntPair, name: str) -> Pair:
    """`3` -> `(3, 3)`, `(2, 3)` -> `(2, 3)`; a float or bool is a `TypeError`, three values an `ArgumentError`."""
    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} ({type(value).__name__})")
    items = tuple(value)
    if not all(is_int(v) for v in items):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}; pass whole numbers")
    if len(items) == 1:
        items = items * 2
    if len(items) != 2:
        raise ArgumentError(f"{name} must be an int or a pair of ints, got {len(items)} values {value!r}")
    return (int(items[0]), int(items[1]))


def positive_pair(value: IntPair, name: str) -> Pair:
    """`pair`, refusing zero and negative values (stride, dilation, kernel_size, sizes)."""
    result = pair(value, name)
    if min(result) <= 0:
        raise ArgumentError(f"{name} must be positive, got {value!r}")
    return result


def non_negative_pair(value: IntPair, name: str) -> Pair:
    """`pair`, refusing negative values (padding, output_padding)."""
    result = pair(value, name)
    if min(result) < 0:
        raise ArgumentError(f"{name} must be non-negative, got {value!r}")
    return result


def pool_stride(stride: Optional[IntPair], kernel_size: IntPair) -> IntPair:
    """torch's pooling stride: `None` (or an empty sequence) means windows side by side, `stride = kernel_size`."""
    return kernel_size if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride


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
                raise ArgumentError("padding='same' is not supported for strided convolutions; "
                                    "use stride=1 or an int padding")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
            top, left = (t // 2 for t in totals)
            return (top, totals[0] - top), (left, totals[1] - left)
        raise ArgumentError(f"padding must be 'same', 'valid', an int or a pair of ints, got {padding!r}")
    ph, pw = non_negative_pair(padding, "padding")
    return (ph, ph), (pw, pw)
