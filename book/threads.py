"""How many CPU threads torch runs on: one context manager that sets the count for a block and always restores it,
and the count that suits this machine now."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

import psutil
import torch

__all__ = ["num_threads", "free_cpu_threads"]


@contextmanager
def num_threads(threads: Optional[int]) -> Iterator[None]:
    """Run the block with `torch.set_num_threads(threads)` (None: leave it), then restore the previous count.

    `torch.set_num_threads` is process-wide: other threads calling torch during the block get the same count.
    """
    before = torch.get_num_threads()
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {type(threads).__name__}")
        if threads <= 0:
            raise ValueError(f"threads must be positive, got {threads}")
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def free_cpu_threads(interval: float = 0.25) -> int:
    """CPU threads for torch on this machine now: its cores minus the ones other processes keep busy, at least 1.

    PyTorch's CPU kernels split each operation across `torch.get_num_threads()` threads, one per core by default,
    and a thread whose core is busy makes all the others wait for it. On a machine shared with other jobs, fewer
    threads than cores is then faster, often much faster. The busy cores are measured system-wide by
    `psutil.cpu_percent` over the next `interval` seconds, while this process sleeps, so that its own recent work
    does not count (the load average would count it).
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive (seconds to measure over), got {interval}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = (psutil.cpu_count() or cores) * psutil.cpu_percent(interval=interval) / 100
    return max(1, min(cores, round(cores - busy)))
