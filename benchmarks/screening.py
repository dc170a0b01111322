"""Screening an archive on Dask: `python -m rfi_models.screen` over 8 synthetic scenes of 2048 x 2048 px with a
LocalCluster of 1 and then 2 single-threaded workers, in its own process.

What is compared is the screening itself: the CLI reports the seconds from the moment every worker has loaded
the detector to the last summary row (cluster start-up and torch import excluded, as they are paid once per
run, not per scene). The detector is the CLI's default, the shipped SAR MAE with the `rfi` score.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from .scene import DEFAULT_DETECTOR, ROOT, write_scene

SCENES, SIZE = 8, 2048
REPORT = re.compile(r"screened (\d+) scenes in ([0-9.]+) s \(([0-9.]+) Mpx/s\)")


def screen_seconds(inputs: Path, out_dir: Path, workers: int, checkpoint: Path = DEFAULT_DETECTOR) -> float:
    """Seconds the screening CLI reports for screening every scene in `inputs` with `workers` workers."""
    command = [sys.executable, "-m", "rfi_models.screen", str(inputs), "--out-dir", str(out_dir),
               "--checkpoint", str(checkpoint), "--workers", str(workers)]  # fmt: skip
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = REPORT.search(result.stdout)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"screening failed ({result.returncode}): {(result.stdout + result.stderr)[-2000:]}")
    return float(found.group(2))


def screening_benchmark(scenes: int = SCENES, size: int = SIZE, checkpoint: Path = DEFAULT_DETECTOR) -> dict:
    """Seconds and Mpx/s with 1 and 2 workers, and the speed-up of 2 workers over 1."""
    with tempfile.TemporaryDirectory(prefix="rfi_screen_bench_") as folder:
        inputs = Path(folder) / "scenes"
        inputs.mkdir()
        for index in range(scenes):
            write_scene(inputs / f"scene{index}.npy", size, seed=100 * index)
        seconds = {n: screen_seconds(inputs, Path(folder) / f"out{n}", n, checkpoint) for n in (1, 2)}
    megapixels = scenes * size * size / 1e6
    return {
        "scenes": scenes,
        "size": size,
        **{f"seconds_{n}_workers": s for n, s in seconds.items()},
        **{f"mpx_per_s_{n}_workers": megapixels / s for n, s in seconds.items()},
        "speedup": seconds[1] / seconds[2],
    }
