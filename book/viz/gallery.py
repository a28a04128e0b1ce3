"""Dumoulin & Visin's convolution arithmetic guide, case by case, and the playground's grid of settings.

`GUIDE_CASES` lists every animation of the guide (arXiv:1603.07285, github.com/vdumoulin/conv_arithmetic): the
convolutions with no, arbitrary, half and full padding, with and without strides (and the odd case where the
stride does not divide the input), their transposed counterparts, and the dilated convolution, with the guide's
input, kernel, padding and stride. `guide_player(name)` animates one of them; `playground()` is the book's one big
player whose controls cover every mode and setting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Tuple

from book.viz.frames import MODES
from book.viz.widget import KernelSlider, kernel_slider

__all__ = ["GuideCase", "GUIDE_CASES", "guide_player", "PLAYGROUND_CHOICES", "playground"]


@dataclass(frozen=True)
class GuideCase:
    name: str                 # the guide's caption
    mode: str                 # "correlation" (the guide's convolution) or "transposed"
    input_size: int
    kernel_size: int
    settings: Dict[str, int] = field(default_factory=dict)   # padding, stride, dilation, output_padding


GUIDE_CASES: Tuple[GuideCase, ...] = (
    GuideCase("No padding, no strides", "correlation", 4, 3),
    GuideCase("Arbitrary padding, no strides", "correlation", 5, 4, {"padding": 2}),
    GuideCase("Half padding, no strides", "correlation", 5, 3, {"padding": 1}),
    GuideCase("Full padding, no strides", "correlation", 5, 3, {"padding": 2}),
    GuideCase("No padding, strides", "correlation", 5, 3, {"stride": 2}),
    GuideCase("Padding, strides", "correlation", 5, 3, {"padding": 1, "stride": 2}),
    GuideCase("Padding, strides (odd)", "correlation", 6, 3, {"padding": 1, "stride": 2}),
    GuideCase("No padding, no strides, transposed", "transposed", 2, 3),
    GuideCase("Arbitrary padding, no strides, transposed", "transposed", 6, 4, {"padding": 2}),
    GuideCase("Half padding, no strides, transposed", "transposed", 5, 3, {"padding": 1}),
    GuideCase("Full padding, no strides, transposed", "transposed", 7, 3, {"padding": 2}),
    GuideCase("No padding, strides, transposed", "transposed", 2, 3, {"stride": 2}),
    GuideCase("Padding, strides, transposed", "transposed", 3, 3, {"padding": 1, "stride": 2}),
    GuideCase("Padding, strides, transposed (odd)", "transposed", 3, 3,
              {"padding": 1, "stride": 2, "output_padding": 1}),
    GuideCase("No padding, no stride, dilation", "correlation", 7, 3, {"dilation": 2}),
)


def guide_player(name: str, seed: int = 0) -> KernelSlider:
    """The animation of the guide's case `name` (one of `GUIDE_CASES`' names), with no setting controls."""
    cases = {case.name: case for case in GUIDE_CASES}
    if name not in cases:
        raise ValueError(f"no guide case named {name!r}; the cases are: {', '.join(cases)}")
    case = cases[name]
    return kernel_slider(mode=case.mode, input_size=case.input_size, kernel_size=case.kernel_size, seed=seed,
                         choices={}, **case.settings)


# The playground's grid: every mode, and the values that show each effect, sized to the 3 MB page budget.
PLAYGROUND_CHOICES = {"mode": MODES, "input_size": (4, 5, 6), "kernel_size": (2, 3), "padding": (0, 1, 2),
                      "stride": (1, 2), "dilation": (1, 2), "output_padding": (0, 1)}


def playground(seed: int = 0) -> KernelSlider:
    """The big player: mode, input size, kernel size, padding, stride, dilation and output padding all selectable."""
    return kernel_slider(mode="correlation", input_size=5, kernel_size=3, padding=1, seed=seed, modes=MODES,
                         choices=PLAYGROUND_CHOICES)
