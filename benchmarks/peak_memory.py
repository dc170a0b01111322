"""Run a command and report its wall time and peak memory: `python -m benchmarks.peak_memory OUT.json -- CMD...`.

Linux records a process's peak RSS (ru_maxrss) including the memory of the process it was forked from, until
the fork, so a command started directly by a big process (the benchmark, with its models loaded) would
report that process's size. This monitor imports nothing but the standard library and `rfi_models.artifacts.atomic`
(itself standard library only, for the one atomic write): the command forked from it starts small, and its
ru_maxrss is its own. Resident anonymous memory (RSS less memory-mapped files) is
sampled every POLL_S seconds from /proc. Writes {"returncode", "seconds", "peak_rss_mb", "peak_anonymous_mb"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from rfi_models.artifacts.atomic import write_bytes

POLL_S = 0.05


def anonymous_mb(pid: int) -> float:
    """Resident anonymous memory (heap, tensors; not memory-mapped files) of a running process, in MB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) / 1024 for line in status if line.startswith("RssAnon:")), 0.0)
    except OSError:  # the process has just exited
        return 0.0


def run(command: list[str]) -> dict:
    """Run `command` (inheriting stdout and stderr); returns its exit code, wall seconds and peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak_anonymous = 0.0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_anonymous = max(peak_anonymous, anonymous_mb(process.pid))
        time.sleep(POLL_S)
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "seconds": time.perf_counter() - start,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "peak_anonymous_mb": peak_anonymous,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    result = run(argv[2:])
    write_bytes(argv[0], json.dumps(result).encode())
    return result["returncode"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
