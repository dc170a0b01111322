"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import torch

TORCH_THREADS = 2


def use_benchmark_threads() -> None:
    """Run torch on TORCH_THREADS threads, as every benchmark does."""
    torch.set_num_threads(TORCH_THREADS)


def median_seconds(run: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time in seconds of `repeats` calls of `run`, after `warmup` calls that are not timed."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_ms(run: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    return 1000 * median_seconds(run, repeats, warmup)


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": TORCH_THREADS,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
    }
