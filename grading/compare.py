"""Trusted comparisons: decode plain data from a submission, check its types, compare it, apply named rules.

Runs in the grader's own process on data that came back from the sandbox as JSON, so a submission cannot have
patched numpy, `torch.allclose` or `__eq__` here. Messages about hidden tests never include the expected value.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterable, NamedTuple, Optional, Tuple

import numpy as np

__all__ = ["decode", "compare", "apply_rule", "RULES", "MalformedValue"]

DTYPES = {"bool": np.bool_, "int": np.int64, "float": np.float64}
Verdict = Tuple[bool, str]


class MalformedValue(ValueError):
    """Plain data that does not follow `grading.checks.to_plain`'s format."""


def decode(plain: Any, _depth: int = 0) -> Any:
    """Plain JSON data -> Python values with numpy arrays; anything outside the format raises `MalformedValue`."""
    if _depth > 21:
        raise MalformedValue("nested too deeply")
    if plain is None or type(plain) in (bool, str, int, float):
        return plain
    if type(plain) is list:
        return [decode(v, _depth + 1) for v in plain]
    if type(plain) is dict and set(plain) == {"__dict__"} and type(plain["__dict__"]) is dict:
        return {str(k): decode(v, _depth + 1) for k, v in plain["__dict__"].items()}
    if type(plain) is dict and set(plain) == {"__array__"}:
        return _decode_array(plain["__array__"])
    raise MalformedValue(f"unexpected {type(plain).__name__} in a result")


def _decode_array(spec: Any) -> np.ndarray:
    if type(spec) is not dict or set(spec) != {"dtype", "shape", "data"} or spec["dtype"] not in DTYPES:
        raise MalformedValue("malformed array")
    shape, data = spec["shape"], spec["data"]
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape) or type(data) is not list:
        raise MalformedValue("malformed array shape")
    if math.prod(shape) != len(data):
        raise MalformedValue("array data does not fill its shape")
    allowed = {"bool": (bool,), "int": (int,), "float": (int, float)}[spec["dtype"]]
    if not all(type(v) in allowed for v in data):
        raise MalformedValue(f"array data are not all {spec['dtype']}")
    return np.array(data, dtype=DTYPES[spec["dtype"]]).reshape(shape)


def _describe(value: Any) -> str:
    if value is None:   # the commonest slip: an answer still `...`, or a function without `return`
        return "None (does the function `return` its result?)"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype.name} array of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) or (isinstance(value, np.ndarray) and value.shape == ()
                                           and value.dtype.kind in "if")


class _How(NamedTuple):
    """How to compare, and where in the answer: `where` names the item (`[0]['weights']`), empty at the top."""
    atol: float
    rtol: float
    reveal: bool
    where: str

    @property
    def at(self) -> str:
        return f" at {self.where}" if self.where else ""

    def wrong(self, expected: Any, shown: Any) -> str:
        return f"expected {expected!r}{self.at}, got {shown}" if self.reveal else f"wrong value{self.at}"


def compare(expected: Any, got: Any, atol: float = 1e-4, rtol: float = 1e-4, reveal: bool = False,
            where: str = "") -> Verdict:
    """Does `got` match `expected`? Arrays match in shape and kind (bool/int exactly, float within tolerance).

    The comparison follows the exact type of `expected` (`_BY_EXPECTED_TYPE`), as `decode` produces it; a 0-d array
    compares as the number it holds."""
    how = _How(atol, rtol, reveal, where)
    if isinstance(expected, np.ndarray) and expected.shape != ():
        return _compare_with_array(expected, got, how)
    if isinstance(expected, np.ndarray):
        expected = expected.item()
    comparison = _BY_EXPECTED_TYPE.get(type(expected))
    if comparison is None:
        raise MalformedValue(f"cannot compare with an expected {type(expected).__name__}")
    return comparison(expected, got, how)


def _compare_with_array(expected: np.ndarray, got: Any, how: _How) -> Verdict:
    if type(got) is list:
        try:
            got = np.array(got)
        except ValueError:
            return False, f"expected an array{how.at}, got a ragged list"
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "bif":
        return False, f"expected an array of shape {tuple(expected.shape)}{how.at}, got {_describe(got)}"
    return _compare_arrays(expected, got, how.atol, how.rtol, how.reveal, how.at)


def _compare_exactly(expected: Any, got: Any, how: _How) -> Verdict:
    """A bool, a string or None: the same type and value."""
    ok = type(got) is type(expected) and got == expected
    return ok, "" if ok else how.wrong(expected, _short(got))


def _compare_numbers(expected: Any, got: Any, how: _How) -> Verdict:
    """An int or float: any number within tolerance (an int exactly), a 0-d array included, a bool not."""
    if not _is_number(got) or type(got) is bool:
        return False, f"expected a number{how.at}, got {_describe(got)}"
    shown = got.item() if isinstance(got, np.ndarray) else got   # an int stays an int in the message
    got = float(shown)
    ok = math.isfinite(got) and abs(got - expected) <= how.atol + how.rtol * abs(expected)
    if type(expected) is int:
        ok = ok and got == expected
    return ok, "" if ok else how.wrong(expected, repr(shown))


def _compare_lists(expected: list, got: Any, how: _How) -> Verdict:
    if isinstance(got, np.ndarray):
        got = got.tolist()
    if type(got) is not list:   # a literal list in a public test often stands for a tensor's values
        return False, f"expected {len(expected)} values (a tensor, array or list){how.at}, got {_describe(got)}"
    if len(got) != len(expected):
        return False, f"expected {len(expected)} items{how.at}, got {len(got)}"
    return _first_difference(zip(range(len(expected)), expected, got), how)


def _compare_dicts(expected: dict, got: Any, how: _How) -> Verdict:
    if type(got) is not dict:
        return False, f"expected a dict{how.at}, got {_describe(got)}"
    if set(got) != set(expected):
        return False, f"expected the keys {sorted(expected)}{how.at}, got {sorted(got)}"
    return _first_difference(((key, expected[key], got[key]) for key in expected), how)


def _first_difference(items: Iterable[Tuple[Any, Any, Any]], how: _How) -> Verdict:
    """The first of the (key, expected, got) items that does not match, or a match when every one does."""
    for key, expected, got in items:
        ok, message = compare(expected, got, how.atol, how.rtol, how.reveal, f"{how.where}[{key!r}]")
        if not ok:
            return ok, message
    return True, ""


_BY_EXPECTED_TYPE: Dict[type, Callable[[Any, Any, _How], Verdict]] = {
    bool: _compare_exactly, str: _compare_exactly, type(None): _compare_exactly,
    int: _compare_numbers, float: _compare_numbers,
    list: _compare_lists, dict: _compare_dicts,
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compare_arrays(expected: np.ndarray, got: np.ndarray, atol: float, rtol: float, reveal: bool, at: str) -> Verdict:
    if got.shape != expected.shape:
        return False, f"expected shape {tuple(expected.shape)}{at}, got shape {tuple(got.shape)}"
    kind = expected.dtype.kind
    if kind in "bi" and got.dtype.kind != kind:
        wanted = "a bool" if kind == "b" else "an integer"
        return False, f"expected {wanted} tensor{at} (keep the input's dtype), got {got.dtype.name}"
    if kind == "f":
        wrong = ~np.isclose(got, expected, atol=atol, rtol=rtol, equal_nan=False)
    else:
        wrong = got != expected
    if not wrong.any():
        return True, ""
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    detail = f": got {got[index]!r}, expected {expected[index]!r}" if reveal else ""
    return False, f"{int(wrong.sum())} of {wrong.size} elements differ{at}, first at index {list(index)}{detail}"


# ---------------------------------------------------------------------------------------------------------------
# Named rules, for answers that are right when they have a property rather than one value
# ---------------------------------------------------------------------------------------------------------------

def _correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * image[i:i + out.shape[0], j:j + out.shape[1]]
    return out


def _edge_images(n: int = 12) -> Dict[str, np.ndarray]:
    rows, cols = np.indices((n, n))
    return {"constant": np.full((n, n), 3.0), "vertical edge": (cols >= n // 2).astype(float),
            "horizontal edge": (rows >= n // 2).astype(float), "diagonal edge": (cols > rows).astype(float),
            "anti-diagonal edge": (rows + cols >= n).astype(float)}


def diagonal_edge_kernel(kernel: Any, context: Any = None) -> Verdict:
    """A kernel whose response is zero on flat, vertical and horizontal edges, and non-zero along diagonal edges."""
    if not isinstance(kernel, np.ndarray) or kernel.ndim != 2 or kernel.dtype.kind not in "if":
        return False, f"expected a 2D tensor, got {_describe(kernel)}"
    if not 1 <= kernel.shape[0] <= 5 or not 1 <= kernel.shape[1] <= 5 or kernel.size < 2:
        return False, f"use a kernel between 1x2 and 5x5, got shape {tuple(kernel.shape)}"
    kernel = kernel.astype(float)
    if not np.isfinite(kernel).all():
        return False, "the kernel holds inf or nan"
    scale = np.abs(kernel).max()
    if scale == 0:
        return False, "the kernel is all zeros"
    for name, image in _edge_images().items():
        response = np.abs(_correlate(image, kernel)) / scale
        if "diagonal" in name:
            # The edge crosses every row of the response map, so every row must see it.
            if (response.max(axis=1) < 1e-3).any():
                return False, f"the kernel does not respond all along a {name}"
        elif response.max() > 1e-6:
            return False, f"the kernel responds to a {name} (it should give zero there)"
    return True, ""


def _accuracy_against_baseline(predictions: Any, context: Any, rule: str) -> Tuple[Optional[str], float, float]:
    """(why `predictions` cannot be scored, or None; their accuracy on `context['labels']`; `context['baseline']`)."""
    if type(context) is not dict or not {"labels", "baseline"} <= set(context):
        raise MalformedValue(f"{rule} needs a context with labels and baseline")
    labels = np.asarray(context["labels"])
    baseline = float(context["baseline"])
    if not isinstance(predictions, np.ndarray) or predictions.shape != labels.shape or predictions.dtype.kind != "i":
        return (f"expected integer class predictions of shape {tuple(labels.shape)}, got {_describe(predictions)}",
                0.0, baseline)
    return None, float((predictions == labels).mean()), baseline


def beats_baseline(predictions: Any, context: Any) -> Verdict:
    """Predicted classes whose accuracy on `context['labels']` is at least `context['baseline']`."""
    unscored, accuracy, baseline = _accuracy_against_baseline(predictions, context, "beats_baseline")
    if unscored:
        return False, unscored
    if accuracy < baseline:
        return False, f"accuracy {accuracy:.3f} does not beat the MLP baseline {baseline:.3f}"
    return True, f"accuracy {accuracy:.3f} (baseline {baseline:.3f})"


def stays_below_baseline(predictions: Any, context: Any) -> Verdict:
    """Predicted classes whose accuracy on `context['labels']` is below `context['baseline']`: a network with a part
    taken out (its convolutions' weights zeroed) no longer beats the baseline, so that part earned the difference."""
    unscored, accuracy, baseline = _accuracy_against_baseline(predictions, context, "stays_below_baseline")
    if unscored:
        return False, unscored
    if accuracy >= baseline:
        return False, f"accuracy {accuracy:.3f} still beats the MLP baseline {baseline:.3f}"
    return True, ""


RULES: Dict[str, Callable[[Any, Any], Verdict]] = {
    "diagonal_edge_kernel": diagonal_edge_kernel,
    "beats_baseline": beats_baseline,
    "stays_below_baseline": stays_below_baseline,
}


def apply_rule(name: str, got: Any, context: Any) -> Verdict:
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; known rules: {sorted(RULES)}")
    return RULES[name](got, context)
