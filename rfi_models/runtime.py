"""Process-wide CPU settings: let glibc's allocator keep and reuse large blocks.

PyTorch on a CPU allocates every intermediate tensor with malloc. glibc serves blocks above its mmap
threshold (128 KiB, adapting up to 32 MiB) with freshly mapped pages and unmaps them when they are freed,
so every full-resolution activation of a 340 x 500 patch (tens of MB) is paid again in page faults at
each call. Raising the mmap threshold serves such blocks from the heap, and raising the trim threshold
keeps freed heap memory for the next call, which speeds up the DAE's forward and backward pass on a SAR patch
most (`sar_ig_ms_per_model` in benchmarks/results.json is measured with it set). The price is that up to
TRIM_THRESHOLD bytes of freed memory stay with the process instead of going back to the system.
"""

from __future__ import annotations

import ctypes
import functools
import platform

MMAP_THRESHOLD = 256 << 20  # blocks larger than this still get their own mapping
TRIM_THRESHOLD = 512 << 20  # freed memory kept for reuse before the heap is trimmed
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers (malloc.h)


@functools.cache
def keep_large_blocks() -> bool:
    """Set glibc's mmap and trim thresholds, once per process; returns whether they were set (False off glibc).

    Called by the programs that want it (training, detection, the app, the benchmarks), never on import."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
