"""The engines side by side on the default detector: torch, ONNX Runtime and OpenVINO scoring the same tiles.

Each engine scores a 1024 x 2048 synthetic scene with `tiling.score_tiled` (the path `detect` and `screen` take), on
1 and on 2 threads (rows of tiles side by side, one single-threaded session each), in a process of its own so
that each starts from nothing. Reported: tiles per second, and how the second thread scales it. The engine that
`--engine auto` picks is chosen from these rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .scene_detection import ROOT

SCENE_SHAPE = (1024, 2048)
ENGINES = ("torch", "onnx", "openvino")


def engine_tiles_per_s(engine: str, threads: int, repeats: int, shape: tuple[int, int] = SCENE_SHAPE) -> float:
    """Median tiles/s of `engine` on `threads` threads, scoring a synthetic scene of `shape` with the default
    detector."""
    code = f"""
import json, statistics, time
import numpy as np
from rfi_models.data import synthetic_sar
from rfi_models.detection.detector import Detector, choose_detector
from rfi_models.detection.tiling import count_tiles, score_tiled
source, method = choose_detector()
detector = Detector.create(source, method, engine={engine!r}, precision="float32")
images, _ = synthetic_sar(1, *{tuple(shape)!r}, seed=0, rfi_probability=0.5)
image = images[0]
run = lambda: score_tiled(detector.score_batch, image, detector.tile, threads={threads})
run()
times = []
for _ in range({repeats}):
    began = time.perf_counter(); run(); times.append(time.perf_counter() - began)
print(json.dumps(count_tiles(image.shape[1:], detector.tile) / statistics.median(times)))
"""
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"engine {engine} failed: {result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1]))


def engines_benchmark(repeats: int = 3) -> dict:
    """{engine: {"tiles_per_s_1_thread", "tiles_per_s_2_threads", "thread_scaling"}} for every engine."""
    rows = {}
    for engine in ENGINES:
        one, two = (engine_tiles_per_s(engine, threads, repeats) for threads in (1, 2))
        rows[engine] = {"tiles_per_s_1_thread": one, "tiles_per_s_2_threads": two, "thread_scaling": two / one}
    return rows
