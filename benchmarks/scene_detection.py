"""RFI detection on a whole synthetic scene, end to end: `python -m rfi_models.detect` from the scene file to the
mask file, in its own process, timed from launch to exit, with the peak resident memory of that process.

The scene is a mosaic of independent 1024 x 1024 synthetic Sentinel-1 blocks (half of them with RFI), stored as
an uncompressed uint8 H x W x 2 .npy, which the detector memory-maps and streams tile by tile. The detector is
the CLI's default (the one recorded in checkpoints/detectors.json, with its calibrated threshold), run by the
engine asked for: "onnx" (what `--engine auto` picks where onnxruntime is installed) or "torch" (the peer row), at
the CLI's default precision.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfi_models.data import synthetic_sar
from rfi_models.detection.detector import CLI_PRECISION, choose_detector

from .timing import TORCH_THREADS

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 1024


@dataclass
class SceneRun:
    size: int  # the scene is size x size pixels
    seconds: float  # median wall time of the detection process
    peak_rss_mb: float  # the largest peak resident set size over the runs
    peak_anonymous_mb: float  # the largest sampled resident anonymous memory (RSS less mapped files)

    @property
    def mpx_per_s(self) -> float:
        return self.size * self.size / 1e6 / self.seconds


def write_scene(path: Path, size: int, seed: int = 0) -> Path:
    """A size x size synthetic scene as uint8 [H, W, 2] (VV, VH) .npy, written block by block (bounded memory)."""
    scene = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(size, size, 2))
    for row, top in enumerate(range(0, size, BLOCK)):
        for col, left in enumerate(range(0, size, BLOCK)):
            height, width = min(BLOCK, size - top), min(BLOCK, size - left)
            images, _ = synthetic_sar(1, height, width, seed=seed + 1000 * row + col, rfi_probability=0.5)
            block = np.rint(images[0] * 255).astype(np.uint8)  # [2, height, width]
            scene[top : top + height, left : left + width] = block.transpose(1, 2, 0)
    scene.flush()
    del scene
    return path


def default_detector() -> str:
    """The default detector's name, as `detect` and `screen` pick it with no --checkpoint."""
    source, method = choose_detector()
    return f"{Path(source).stem} ({method})" if method else source


def detect_once(scene: Path, workdir: Path, engine: str, precision: str = CLI_PRECISION) -> tuple[float, float, float]:
    """Run the detection CLI once (default detector) under `peak_memory`; returns wall seconds, peak RSS in MB and
    peak anonymous memory in MB. The peak RSS (the kernel's, exact) includes the pages of the memory-mapped scene
    and score files that the run has touched; the anonymous part (sampled) does not."""
    detect = [
        sys.executable, "-m", "rfi_models.detect", str(scene), "--out", str(workdir / "mask.png"),
        "--scores", str(workdir / "scores.npy"), "--precision", precision, "--engine", engine,
    ]  # fmt: skip
    report = workdir / "run.json"
    env = os.environ | {"OMP_NUM_THREADS": str(TORCH_THREADS)}
    with open(workdir / "detect.log", "w+b") as log:
        monitor = [sys.executable, "-m", "benchmarks.peak_memory", str(report), "--", *detect]
        returncode = subprocess.run(monitor, cwd=ROOT, env=env, stdout=log, stderr=log).returncode
        if returncode != 0:
            log.seek(0)
            message = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"detection failed with exit code {returncode}: {message}")
    result = json.loads(report.read_text())
    return result["seconds"], result["peak_rss_mb"], result["peak_anonymous_mb"]


def scene_benchmark(
    size: int, repeats: int, warmup: int = 1, engine: str = "onnx", precision: str = CLI_PRECISION
) -> SceneRun:
    """Write a size x size scene to a temporary folder and detect RFI in it `warmup` + `repeats` times."""
    with tempfile.TemporaryDirectory(prefix="rfi_bench_") as folder:
        workdir = Path(folder)
        scene = write_scene(workdir / "scene.npy", size)
        for _ in range(warmup):
            detect_once(scene, workdir, engine, precision)
        runs = [detect_once(scene, workdir, engine, precision) for _ in range(repeats)]
    return SceneRun(
        size, statistics.median(run[0] for run in runs), max(run[1] for run in runs), max(run[2] for run in runs)
    )
