"""What exercise tests call: `check(value, expected)` and `no_library()`.

A test is written once and used in two places:

* in a student's notebook (otter's `grader.check("q1")` runs the public tests there), `check` compares `value` with
  the literal `expected`, or applies a named rule, and raises `AssertionError` with a short explanation;
* in the grading sandbox (`grading.runner`), `check` only records `value` as plain data (`to_plain`): the
  trusted grader compares it afterwards with what the reference solution recorded, so nothing the submission does
  to the comparison functions in its own process can change a score.

`no_library()` marks the part of a test in which the student's code must not call the library functions the
question asks them to write (torch's convolution/pooling/unfold, the book's own reference helpers). Whether a
submission did is decided by the grader from the notebook's source and from a trace the runner takes (see
`grading.forbidden`), never by this module, the only part of the grader a submission's process can import.
"""
from __future__ import annotations

import contextlib
import importlib
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional, Tuple

__all__ = ["check", "no_library", "to_plain", "ForbiddenCall", "LIBRARY", "AUTOGRAD"]

_MISSING = object()
MAX_ELEMENTS = 1_000_000

# The functions a question may forbid, as "module:attribute" (attribute paths may contain dots).
LIBRARY = (
    "torch.nn.functional:conv1d", "torch.nn.functional:conv2d", "torch.nn.functional:conv3d",
    "torch.nn.functional:conv_transpose1d", "torch.nn.functional:conv_transpose2d",
    "torch.nn.functional:unfold", "torch.nn.functional:fold",
    "torch.nn.functional:max_pool1d", "torch.nn.functional:max_pool2d", "torch.nn.functional:avg_pool1d",
    "torch.nn.functional:avg_pool2d", "torch.nn.functional:max_pool2d_with_indices",
    "torch.nn.functional:adaptive_max_pool2d", "torch.nn.functional:adaptive_avg_pool2d",
    "torch:conv1d", "torch:conv2d", "torch:conv3d", "torch:convolution", "torch:conv_transpose2d",
    "torch:max_pool2d", "torch:avg_pool1d", "torch:max_pool1d",
    "numpy:convolve", "numpy:correlate",
    "book.conv:corr2d", "book.conv:corr2d_multi_in", "book.conv:corr2d_multi_in_out",
    "book.conv:corr2d_multi_in_out_1x1", "book.conv:windows", "book.conv:conv2d", "book.conv:conv_transpose2d",
    "book.conv:conv2d_backward", "book.conv:convolve1d", "book.conv:convolve2d",
    "book.pool:pool2d", "book.pool:max_pool2d", "book.pool:avg_pool2d",
    "book.shapes:conv_output_size", "book.shapes:conv_transpose_output_size", "book.shapes:pool_output_size",
    "book.shapes:trace", "book.cost:conv2d_flops", "book.cost:conv2d_memory",
)
AUTOGRAD = ("torch.autograd:grad", "torch.autograd:backward", "torch:Tensor.backward")


class ForbiddenCall(AssertionError):
    """The student's code called a library function the question asks them to write themselves."""


# Set by the grading sandbox's runner: a list that `check` appends records to, and the tracing context manager
# that `no_library` enters. Both are None in a student's notebook.
_recorder: Optional[List[Dict[str, Any]]] = None
_guard: Optional[Callable[[bool], ContextManager[None]]] = None


def check(value: Any, expected: Any = _MISSING, *, rule: Optional[str] = None, context: Any = None,
          atol: float = 1e-4, rtol: float = 1e-4) -> None:
    """Assert that `value` matches `expected` (public tests) or satisfies `rule`; in the sandbox, record it.

    Hidden tests call `check(value)` without `expected`: the grader compares with the reference solution's value.
    """
    if _recorder is not None:
        _recorder.append(_record(value, expected, rule, context, atol, rtol))
        return
    from grading.compare import apply_rule, compare, decode   # numpy only when a notebook checks
    got = decode(to_plain(value))
    if rule is not None:
        ok, message = apply_rule(rule, got, decode(to_plain(context)))
    elif expected is _MISSING:
        raise ValueError("check() needs `expected` or `rule` outside the grader")
    else:
        ok, message = compare(decode(to_plain(expected)), got, atol=atol, rtol=rtol, reveal=True)
    if not ok:
        raise AssertionError(message)


def _record(value: Any, expected: Any, rule: Optional[str], context: Any, atol: float, rtol: float) -> dict:
    record: Dict[str, Any] = {"rule": rule, "atol": float(atol), "rtol": float(rtol)}
    try:
        record["value"] = to_plain(value)
    except Exception as error:   # an unsupported type is the student's mistake: record it, don't crash the test
        record["unsupported"] = f"{type(error).__name__}: {error}"[:300]
    if expected is not _MISSING:
        record["expected"] = to_plain(expected)
    if context is not None:
        record["context"] = to_plain(context)
    return record


def to_plain(value: Any, _depth: int = 0) -> Any:
    """JSON-ready plain data: numbers, strings, None, lists, {"__dict__": ...} and {"__array__": ...} for tensors.

    Anything else (an object with a clever `__eq__`, a tensor subclass's overrides) is refused or bypassed.
    """
    if _depth > 20:
        raise ValueError("value is nested more than 20 levels deep")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value
    import numpy as np
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return _array(np.ndarray.tolist(np.ndarray.reshape(value, -1)), value.dtype.kind, list(value.shape))
    torch = _loaded("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        plain = torch.Tensor.as_subclass(value, torch.Tensor).detach().cpu()
        if plain.is_complex():
            raise TypeError("complex tensors are not supported")
        kind_code = "b" if plain.dtype == torch.bool else ("f" if plain.is_floating_point() else "i")
        return _array(torch.Tensor.tolist(plain.reshape(-1)), kind_code, list(plain.shape))
    if torch is not None and isinstance(value, torch.Size):
        return [int(v) for v in tuple.__iter__(value)]
    if kind in (list, tuple):
        return [to_plain(v, _depth + 1) for v in value]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise TypeError("dict keys must be strings")
        return {"__dict__": {k: to_plain(v, _depth + 1) for k, v in value.items()}}
    raise TypeError(f"cannot grade a value of type {kind.__name__}; return a tensor, an array, a number, a string "
                    "or a list/tuple/dict of those")


def _array(flat: list, kind: str, shape: list) -> dict:
    if kind not in "bif" or len(flat) > MAX_ELEMENTS:
        raise TypeError(f"unsupported array (dtype kind {kind!r}, {len(flat)} elements)")
    kinds = {"b": "bool", "i": "int", "u": "int", "f": "float"}
    return {"__array__": {"dtype": kinds[kind], "shape": shape, "data": flat}}


def _loaded(name: str):
    import sys
    return sys.modules.get(name)


# ---------------------------------------------------------------------------------------------------------------
# Forbidden library calls
# ---------------------------------------------------------------------------------------------------------------

def _resolve(spec: str) -> Tuple[Any, str, Any]:
    """'torch:Tensor.backward' -> (torch.Tensor, 'backward', the function)."""
    module_name, attribute = spec.split(":")
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name, getattr(owner, name)


@contextlib.contextmanager
def no_library(autograd: bool = False) -> Iterator[None]:
    """Inside this block the student's code must not call `LIBRARY` (and, with `autograd=True`, autograd).

    In the grading sandbox the runner supplies `_guard`, which traces the operations the code executes; the grader
    also reads the notebook's source, outside the sandbox, so nothing done here decides a grade on its own. In a
    student's notebook the functions are swapped for ones that raise, for immediate feedback.
    """
    if _guard is not None:
        with _guard(autograd):
            yield
        return
    specs = LIBRARY + (AUTOGRAD if autograd else ())
    swapped = []
    for spec in specs:
        try:
            owner, name, function = _resolve(spec)
        except (ImportError, AttributeError):
            continue
        swapped.append((owner, name, function))
        setattr(owner, name, _refusing(spec))
    try:
        yield
    finally:
        for owner, name, function in swapped:
            setattr(owner, name, function)


def _refusing(spec: str):
    def refuse(*args, **kwargs):
        raise ForbiddenCall(f"this question asks you to write it yourself: do not call {spec.replace(':', '.')}")
    return refuse
