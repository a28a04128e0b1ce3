"""`python -m book.bench conv`: time `book.conv.conv2d` (im2col + matmul) against `torch.nn.functional.conv2d`.

Every layer shape is timed in one run by `torch.utils.benchmark.Timer` (which waits for the GPU where there is one),
the two implementations interleaved sample by sample so that a noisy machine slows both alike; each figure is the
median of `--repeat` samples after a warm-up. The textbook `corr2d` loop is timed too
where it finishes in reasonable time (small, stride-1 layers). The table is followed by one line of JSON whose
`median_ratio_vs_torch` / `max_ratio_vs_torch` are (our time) / (torch's time): 1.0 means as fast as torch.
"""
from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

from book.conv import conv2d, corr2d_multi_in_out
from book.threads import num_threads


@dataclass(frozen=True)
class Layer:
    """One convolution to time: an (N, C_in, H, W) input through a C_out x C_in x k x k kernel."""
    name: str
    batch: int
    in_channels: int
    size: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0

    @property
    def loop_windows(self) -> int:
        """How many (example, out channel, in channel, output pixel) windows the textbook loop visits one by one."""
        out = (self.size + 2 * self.padding - self.kernel) // self.stride + 1
        return self.batch * self.out_channels * self.in_channels * out ** 2


LAYERS = [
    Layer("lenet-c1-1img", 1, 1, 28, 6, 5, padding=2),
    Layer("lenet-c3-1img", 1, 6, 14, 16, 5),
    Layer("lenet-c1", 32, 1, 28, 6, 5, padding=2),
    Layer("lenet-c3", 32, 6, 14, 16, 5),
    Layer("rgb-stem", 1, 3, 32, 64, 3, padding=1),
    Layer("c64-32px", 8, 64, 32, 64, 3, padding=1),
    Layer("c64-32px-s2", 8, 64, 32, 128, 3, stride=2, padding=1),
    Layer("c128-32px-s2", 16, 128, 32, 128, 3, stride=2, padding=1),
    Layer("c256-32px", 2, 256, 32, 256, 3, padding=1),
    Layer("c32-64px", 8, 32, 64, 64, 3, padding=1),
    Layer("c64-64px-s2", 1, 64, 64, 128, 3, stride=2, padding=1),
    Layer("1x1-256to64", 8, 256, 32, 64, 1),
]
QUICK_LAYERS = [Layer("lenet-c3-1img", 1, 6, 14, 16, 5), Layer("c16-16px-s2", 2, 16, 16, 32, 3, stride=2, padding=1)]
MIN_SAMPLE_SECONDS = 0.005  # tiny layers are timed over several calls per sample, so the clock's jitter stays small
LOOP_MAX_WINDOWS = 20_000  # the Python double loop visits about 10^5 windows a second: ~0.2 s a call, 3 calls with the warm-up


def _timer(fn: Callable[[], object]) -> Timer:
    """A timer of `fn()` on this run's torch threads (Timer's own default is one thread)."""
    return Timer("fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())


def _loop(X: torch.Tensor, W: torch.Tensor, padding: int) -> torch.Tensor:
    """The textbook route: pad, then `corr2d_multi_in_out` one example at a time."""
    return torch.stack([corr2d_multi_in_out(x, W) for x in F.pad(X, (padding,) * 4)])


def time_layer(layer: Layer, device: torch.device, repeat: int) -> Dict[str, object]:
    """Median seconds of ours and torch's on one layer, calls interleaved, plus the loop's where it is small."""
    X = torch.randn(layer.batch, layer.in_channels, layer.size, layer.size, device=device)
    W = torch.randn(layer.out_channels, layer.in_channels, layer.kernel, layer.kernel, device=device)
    b = torch.randn(layer.out_channels, device=device)
    calls = {
        "ours": lambda: conv2d(X, W, b, stride=layer.stride, padding=layer.padding),
        "torch": lambda: F.conv2d(X, W, b, stride=layer.stride, padding=layer.padding),
    }
    with torch.no_grad():
        terms = layer.kernel ** 2 * layer.in_channels  # a sanity check only; the tests check equality properly
        torch.testing.assert_close(calls["ours"](), calls["torch"](), rtol=1e-3, atol=1e-3 * terms)
        timers = {name: _timer(fn) for name, fn in calls.items()}
        times: Dict[str, List[float]] = {name: [] for name in calls}
        warm_up = min(timer.timeit(2).mean for timer in timers.values())  # first calls allocate and pick kernels
        calls_per_sample = max(1, round(MIN_SAMPLE_SECONDS / max(warm_up, 1e-9)))
        for _ in range(repeat):
            for name, timer in timers.items():
                times[name].append(timer.timeit(calls_per_sample).mean)
        loop: Optional[float] = None
        if layer.stride == 1 and layer.loop_windows <= LOOP_MAX_WINDOWS:
            loop = _timer(lambda: _loop(X, W, layer.padding)).timeit(1).mean
    ours, theirs = statistics.median(times["ours"]), statistics.median(times["torch"])
    return {"layer": layer.name, "input": [layer.batch, layer.in_channels, layer.size, layer.size],
            "out_channels": layer.out_channels, "kernel": layer.kernel, "stride": layer.stride,
            "ours_ms": 1e3 * ours, "torch_ms": 1e3 * theirs, "ratio": ours / theirs,
            "loop_ms": None if loop is None else 1e3 * loop}


def _print_table(rows: List[Dict[str, object]]) -> None:
    """One line per layer: its shape, both medians in milliseconds, their ratio, and the loop's time where taken."""
    print(f"{'layer':<14} {'input (N,C,H,W)':<18} {'C_out':>5} {'k':>2} {'s':>2} "
          f"{'ours ms':>9} {'torch ms':>9} {'ratio':>6} {'loop ms':>9}")
    for r in rows:
        loop = "" if r["loop_ms"] is None else f"{r['loop_ms']:9.1f}"
        print(f"{r['layer']:<14} {str(tuple(r['input'])):<18} {r['out_channels']:>5} {r['kernel']:>2} {r['stride']:>2} "
              f"{r['ours_ms']:9.3f} {r['torch_ms']:9.3f} {r['ratio']:6.2f} {loop:>9}")


def main(argv: Optional[List[str]] = None) -> int:
    """Time every layer, print the table, then one JSON line with the ratios; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m book.bench conv", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per implementation and layer")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="two small layers, three repeats: a smoke test")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    layers, repeat = (QUICK_LAYERS, min(args.repeat, 3)) if args.quick else (LAYERS, args.repeat)

    with num_threads(args.threads):   # --threads holds for this run only, also when main is called in-process
        rows = [time_layer(layer, device, repeat) for layer in layers]
        torch_threads = torch.get_num_threads()
    _print_table(rows)
    ratios = [r["ratio"] for r in rows]
    print(json.dumps({
        "benchmark": "conv", "device": str(device), "torch_threads": torch_threads,
        "torch_version": torch.__version__, "repeat": repeat, "layers": rows,
        "median_ratio_vs_torch": statistics.median(ratios), "max_ratio_vs_torch": max(ratios),
    }))
    return 0
