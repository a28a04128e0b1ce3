"""`python -m book.bench widget`: how fast kernel_slider redraws after a control change, and how big its static page is.

For inputs up to 16x16 with a 5x5 kernel (one and three channels, every mode) it times a control change in Python,
from setting the control's value to the new picture being in the HTML view (frames recomputed with book.conv/pool,
SVG redrawn), and measures the bytes of the self-contained animation. It prints a table, then one JSON line.
Targets: redraw <= 50 ms, static animation <= 1 MB.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Dict, List

import torch

from book.viz import kernel_slider

REDRAW_TARGET_MS = 50.0
STATIC_TARGET_BYTES = 1_000_000
CASES = [  # (mode, input size, channels, padding, stride, dilation)
    ("correlation", 8, 1, 1, 1, 1), ("correlation", 16, 1, 2, 1, 1), ("correlation", 16, 3, 2, 1, 1),
    ("convolution", 16, 1, 2, 2, 2), ("max", 16, 1, 2, 1, 1), ("avg", 16, 1, 2, 2, 1),
    ("transposed", 16, 1, 2, 2, 1), ("transposed", 16, 1, 0, 4, 3),
]


def _redraw_ms(slider, control, values, repeats: int) -> float:
    """Median time of a control change until the new rendering is in the view (observers run synchronously).

    The values cycle, ending on the first, so the slider is left as it was."""
    times = []
    for i in range(repeats):
        before = slider.view.value
        start = time.perf_counter()
        control.value = values[i % len(values)]
        times.append((time.perf_counter() - start) * 1000)
        assert slider.view.value != before or slider.frames is None
    return statistics.median(times)


def measure(repeats: int) -> List[Dict]:
    rows = []
    for mode, size, channels, padding, stride, dilation in CASES:
        generator = torch.Generator().manual_seed(size)
        X = torch.randint(0, 5, (channels, size, size), generator=generator)
        K = None if mode in ("max", "avg") else torch.randint(0, 3, (channels, 5, 5), generator=generator)
        slider = kernel_slider(X, K, mode=mode, kernel_size=5, padding=padding, stride=stride, dilation=dilation)
        steps = slider.frames.steps
        rows.append({
            "mode": mode, "input": f"{channels}x{size}x{size}", "padding": padding, "stride": stride,
            "dilation": dilation, "output": "x".join(map(str, slider.frames.output_size)),
            # a settings change recomputes the frames; a step change only redraws
            "setting_ms": _redraw_ms(slider, slider.stride, [stride + 1 if stride < slider.stride.max else stride - 1,
                                                             stride], 2 * (repeats // 2) + 2),
            "step_ms": _redraw_ms(slider, slider.step, [steps // 2, steps, 1], repeats),
            "static_bytes": len(slider.static_html().encode()),
        })
    return rows


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.bench widget", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="control changes timed per case (median reported)")
    args = parser.parse_args(argv)
    rows = measure(args.repeats)
    header = f"{'mode':<12} {'input':<8} {'p':>2} {'s':>2} {'d':>2} {'output':>7} {'setting ms':>10} " \
             f"{'step ms':>8} {'static KB':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['mode']:<12} {r['input']:<8} {r['padding']:>2} {r['stride']:>2} {r['dilation']:>2} "
              f"{r['output']:>7} {r['setting_ms']:>10.1f} {r['step_ms']:>8.1f} {r['static_bytes'] / 1000:>9.1f}")
    max_redraw = max(max(r["setting_ms"], r["step_ms"]) for r in rows)
    static = max(r["static_bytes"] for r in rows)
    summary = {"benchmark": "widget", "max_redraw_ms": round(max_redraw, 2), "redraw_target_ms": REDRAW_TARGET_MS,
               "redraw_vs_target": round(max_redraw / REDRAW_TARGET_MS, 3), "static_bytes": static,
               "static_target_bytes": STATIC_TARGET_BYTES, "static_vs_target": round(static / STATIC_TARGET_BYTES, 3),
               "cases": rows}
    print(json.dumps(summary))
    return 0
