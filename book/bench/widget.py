"""`python -m book.bench widget`: how fast kernel_slider redraws after a control change, and how big the static
players and chapter 7's LeNet explorer are.

For inputs up to 16x16 with a 5x5 kernel (one and three channels, every mode) it times a control change in Python
with `torch.utils.benchmark.Timer`, from setting the control's value to the new picture being in the HTML view
(frames recomputed with book.conv/pool, SVG redrawn). Then it measures the static players' bytes: the playground
(every setting of its grid), and, when the site is built, the players of every page (what `make book` put in
_build/html). The LeNet explorer's bytes are those
of chapter 7's call (`lenet_explorer` on the digits `pick_digits` chooses: 24 mistakes, 2 right per class); the size
of its embedded weights and MNIST digits does not depend on their values, so an untrained LeNet on blank digits
measures it. It prints tables, then one JSON line.
Targets: redraw <= 50 ms; player data <= 1 MB on a chapter page, <= 3 MB on the playground; the explorer <= 1.5 MB.
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import time
from pathlib import Path
from typing import Dict, List

import torch
from torch.utils.benchmark import Timer

from book.train import lenet
from book.viz import kernel_slider, playground
from book.viz.lenet_explorer import render_explorer

REDRAW_TARGET_MS = 50.0
STATIC_TARGET_BYTES = 1_000_000          # the players of one chapter page
PLAYGROUND_TARGET_BYTES = 3_000_000
EXPLORER_TARGET_BYTES = 1_500_000        # what the LeNet explorer adds to chapter 7
EXPLORER_DIGITS = 24 + 2 * 10            # pick_digits' defaults: the chapter's 24 mistakes, 2 right digits per class
SITE = Path(__file__).resolve().parents[2] / "_build" / "html"
_PLAYER = re.compile(r'(?:<style>[^<]*</style>)?<div class="ks ks-player".*?</script><script>.*?</script></div>', re.S)
_EXPLORER = re.compile(r'(?:<style>[^<]*</style>)*<div class="lx".*?<script>.*?</script></div>', re.S)
CASES = [  # (mode, input size, channels, padding, stride, dilation)
    ("correlation", 8, 1, 1, 1, 1), ("correlation", 16, 1, 2, 1, 1), ("correlation", 16, 3, 2, 1, 1),
    ("convolution", 16, 1, 2, 2, 2), ("max", 16, 1, 2, 1, 1), ("avg", 16, 1, 2, 2, 1),
    ("transposed", 16, 1, 2, 2, 1), ("transposed", 16, 1, 0, 4, 3),
]


def _redraw_ms(slider, control, values, repeats: int) -> float:
    """Median time of a control change until the new rendering is in the view (observers run synchronously), over
    `repeats` changes each timed alone.

    The values cycle (no two in a row are equal, so every assignment is a change, Timer's warm-up ones included);
    the control is set back to its value before, so the slider is left as it was."""
    before, cycle, not_redrawn = control.value, itertools.cycle(values), []

    def change() -> None:
        shown = slider.view.value
        control.value = next(cycle)
        if slider.view.value == shown and slider.frames is not None:   # a string comparison: microseconds
            not_redrawn.append(control.value)

    timer = Timer("change()", globals={"change": change}, num_threads=torch.get_num_threads())  # Timer's default: 1
    times = [timer.timeit(1).median * 1000 for _ in range(repeats)]
    control.value = before
    assert not not_redrawn, f"setting {control.description} to {not_redrawn[0]} did not redraw the view"
    return statistics.median(times)


def measure(repeats: int) -> List[Dict]:
    rows = []
    for mode, size, channels, padding, stride, dilation in CASES:
        generator = torch.Generator().manual_seed(size)
        X = torch.randint(0, 5, (channels, size, size), generator=generator)
        K = None if mode in ("max", "avg") else torch.randint(0, 3, (channels, 5, 5), generator=generator)
        # choices={}: one setting, so "static KB" is the cost of one setting of this size
        slider = kernel_slider(X, K, mode=mode, kernel_size=5, padding=padding, stride=stride, dilation=dilation,
                               choices={})
        steps = slider.frames.steps
        rows.append({
            "mode": mode, "input": f"{channels}x{size}x{size}", "padding": padding, "stride": stride,
            "dilation": dilation, "output": "x".join(map(str, slider.frames.output_size)),
            # a settings change recomputes the frames; a step change only redraws
            "setting_ms": _redraw_ms(slider, slider.stride, [stride + 1 if stride < slider.stride.max else stride - 1,
                                                             stride], repeats),
            "step_ms": _redraw_ms(slider, slider.step, [steps // 2, steps, 1], repeats),
            "static_bytes": len(slider.static_html().encode()),
        })
    return rows


def page_player_bytes(site: Path = SITE) -> Dict[str, Dict]:
    """Per built page with players or a LeNet explorer: how many players, and their bytes (style, data and script,
    as embedded); the explorers' bytes apart, with their own target."""
    pages = {}
    for path in sorted(site.rglob("*.html")) if site.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        players, explorers = _PLAYER.findall(text), _EXPLORER.findall(text)
        if players or explorers:
            pages[path.relative_to(site).as_posix()] = {"players": len(players),
                                                        "bytes": sum(len(p.encode()) for p in players),
                                                        "explorer_bytes": sum(len(e.encode()) for e in explorers)}
    return pages


def explorer_bytes(digits: int = EXPLORER_DIGITS) -> int:
    """Bytes of chapter 7's LeNet explorer (style, data, markup and script) for `digits` blank MNIST digits."""
    from book.data import _normalise    # MNIST's standardisation: the explorer embeds such digits as their bytes

    blank = _normalise(torch.zeros(digits, 28, 28, dtype=torch.uint8))
    return len(render_explorer(lenet(), blank, [0] * digits).encode())


def page_target(page: str) -> int:
    return PLAYGROUND_TARGET_BYTES if page.endswith("playground.html") else STATIC_TARGET_BYTES


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.bench widget", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="control changes timed per case (median reported)")
    args = parser.parse_args(argv)
    rows = measure(args.repeats)
    header = f"{'mode':<12} {'input':<8} {'p':>2} {'s':>2} {'d':>2} {'output':>7} {'setting ms':>10} " \
             f"{'step ms':>8} {'1 setting KB':>12}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['mode']:<12} {r['input']:<8} {r['padding']:>2} {r['stride']:>2} {r['dilation']:>2} "
              f"{r['output']:>7} {r['setting_ms']:>10.1f} {r['step_ms']:>8.1f} {r['static_bytes'] / 1000:>12.1f}")
    start = time.perf_counter()
    slider = playground()
    settings = len(slider.static_settings()[1])
    playground_bytes = len(slider.static_html().encode())
    print(f"\nplayground: {settings} settings, {playground_bytes / 1e6:.2f} MB of player data "
          f"(target {PLAYGROUND_TARGET_BYTES / 1e6:.0f} MB), computed in {time.perf_counter() - start:.1f} s")
    explorer = explorer_bytes()
    print(f"LeNet explorer (chapter 7, {EXPLORER_DIGITS} digits): {explorer / 1e6:.2f} MB "
          f"(target {EXPLORER_TARGET_BYTES / 1e6:.1f} MB)")
    pages = page_player_bytes()
    if pages:
        print(f"\n{'built page':<45} {'players':>7} {'KB':>7} {'target KB':>9} {'explorer KB':>11}")
        for page, info in pages.items():
            print(f"{page:<45} {info['players']:>7} {info['bytes'] / 1000:>7.1f} {page_target(page) / 1000:>9.0f} "
                  f"{info['explorer_bytes'] / 1000:>11.1f}")
    else:
        print(f"\n(no built site in {SITE}: run `make book` to measure each page's players)")
    max_redraw = max(max(r["setting_ms"], r["step_ms"]) for r in rows)
    static = max(r["static_bytes"] for r in rows)
    summary = {"benchmark": "widget", "max_redraw_ms": round(max_redraw, 2), "redraw_target_ms": REDRAW_TARGET_MS,
               "redraw_vs_target": round(max_redraw / REDRAW_TARGET_MS, 3), "static_bytes": static,
               "static_target_bytes": STATIC_TARGET_BYTES, "static_vs_target": round(static / STATIC_TARGET_BYTES, 3),
               "playground_settings": settings, "playground_bytes": playground_bytes,
               "playground_target_bytes": PLAYGROUND_TARGET_BYTES,
               "explorer_bytes": explorer, "explorer_target_bytes": EXPLORER_TARGET_BYTES,
               "explorer_vs_target": round(explorer / EXPLORER_TARGET_BYTES, 3),
               "pages": pages, "pages_within_target": all(i["bytes"] <= page_target(p) and
                                                          i["explorer_bytes"] <= EXPLORER_TARGET_BYTES
                                                          for p, i in pages.items()),
               "cases": rows}
    print(json.dumps(summary))
    return 0
