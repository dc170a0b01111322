"""Screening an archive on Dask, `python -m rfi_models.screen` in its own process, with the CLI's default detector:

- `screening_benchmark`: 8 synthetic scenes of 2048 x 2048 px with a LocalCluster of 1 and then 2 single-threaded
  workers;
- `quicklook_archive_benchmark`: what archive users screen, real-size Sentinel-1 quick-looks (the seven shipped
  ones, copied under other names to 200 files) with 2 workers, in quick-looks per second and start-up apart.

What is compared is the screening itself: the CLI reports the seconds from the moment every worker has loaded
the detector to the last summary row; the start-up (cluster, imports, the detector loaded on every worker) is the
rest of the command's wall time, paid once per run, not per scene.

The control is the machine's own ceiling for the same work without Dask: one plain process scoring a batch of
tiles, against two such processes at once (`parallel_ceiling`). Two busy cores of a virtual machine rarely run
at the speed of one, so this says how much of the gap to 2x the engine could close.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rfi_models.data.real_rfi import SAMPLES

from .scene_detection import ROOT, write_scene

CEILING_TILES = 24

SCENES, SIZE = 8, 2048
QUICKLOOKS = 200
REPORT = re.compile(r"screened (\d+) scenes in ([0-9.]+) s \(([0-9.]+) Mpx/s\)")


def screen_seconds(inputs: Path, out_dir: Path, workers: int, engine: str = "onnx") -> tuple[float, float]:
    """(seconds the screening CLI reports for screening every scene in `inputs` with `workers` workers after they
    loaded the detector, the command's whole wall time)."""
    command = [sys.executable, "-m", "rfi_models.screen", str(inputs), "--out-dir", str(out_dir),
               "--workers", str(workers), "--engine", engine]  # fmt: skip
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    began = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    found = REPORT.search(result.stdout)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"screening failed ({result.returncode}): {(result.stdout + result.stderr)[-2000:]}")
    return float(found.group(2)), wall


def screening_benchmark(scenes: int = SCENES, size: int = SIZE, engine: str = "onnx") -> dict:
    """Seconds and Mpx/s with 1 and 2 workers, and the speed-up of 2 workers over 1."""
    with tempfile.TemporaryDirectory(prefix="rfi_screen_bench_") as folder:
        inputs = Path(folder) / "scenes"
        inputs.mkdir()
        for index in range(scenes):
            write_scene(inputs / f"scene{index}.npy", size, seed=100 * index)
        seconds = {n: screen_seconds(inputs, Path(folder) / f"out{n}", n, engine)[0] for n in (1, 2)}
    megapixels = scenes * size * size / 1e6
    return {
        "scenes": scenes,
        "size": size,
        **{f"seconds_{n}_workers": s for n, s in seconds.items()},
        **{f"mpx_per_s_{n}_workers": megapixels / s for n, s in seconds.items()},
        "speedup": seconds[1] / seconds[2],
    }


def shipped_quicklooks() -> list[Path]:
    return sorted((SAMPLES / "quicklooks").glob("*.png"))


def quicklook_shapes(files: int = QUICKLOOKS) -> list[tuple[int, int]]:
    """(height, width) of every file of the quick-look archive benchmark."""
    from PIL import Image

    shipped = shipped_quicklooks()
    sizes = []
    for path in shipped:
        with Image.open(path) as image:
            sizes.append((image.height, image.width))
    return [sizes[index % len(shipped)] for index in range(files)]


def quicklook_archive_benchmark(files: int = QUICKLOOKS, workers: int = 2, engine: str = "onnx") -> dict:
    """Quick-looks per second after the workers have loaded the detector, and the start-up, for `files` real
    quick-looks (the shipped ones in turn, each copy under a name of its own) screened with `workers` workers."""
    shipped = shipped_quicklooks()
    with tempfile.TemporaryDirectory(prefix="rfi_quicklook_bench_") as folder:
        inputs = Path(folder) / "quicklooks"
        inputs.mkdir()
        for index in range(files):
            source = shipped[index % len(shipped)]
            shutil.copyfile(source, inputs / f"{index:04d}_{source.name}")
        seconds, wall = screen_seconds(inputs, Path(folder) / "out", workers, engine)
    return {
        "files": files,
        "workers": workers,
        "engine": engine,
        "seconds_after_load": seconds,
        "quicklooks_per_s": files / seconds,
        "startup_s": wall - seconds,
        "wall_s": wall,
    }


def score_tiles(engine: str, tiles: int, ready, start, seconds) -> None:
    """In a fresh process on one thread: load the default detector on `engine`, wait for `start`, score `tiles`
    synthetic tiles in batches of 4, and put the seconds taken on the `seconds` queue."""
    from rfi_models.data import synthetic_sar
    from rfi_models.detection.detector import Detector, choose_detector

    os.environ["OMP_NUM_THREADS"] = "1"
    detector = Detector.create(*choose_detector(), precision="float32", engine=engine)
    images, _ = synthetic_sar(4, seed=0, rfi_probability=0.5)
    detector.score_batch(images)  # warm-up
    ready.wait()
    start.wait()
    began = time.perf_counter()
    for _ in range(tiles // 4):
        detector.score_batch(images)
    seconds.put(time.perf_counter() - began)


def parallel_ceiling(tiles: int = CEILING_TILES, engine: str = "onnx") -> dict:
    """Seconds for 1 process scoring `tiles` tiles, and for 2 processes scoring `tiles` each at once; the ratio
    2 x one / two is the speed-up two workers could reach on this machine with no engine overhead."""
    context = multiprocessing.get_context("spawn")
    walls = {}
    for processes in (1, 2):
        ready, start, seconds = context.Barrier(processes + 1), context.Barrier(processes + 1), context.Queue()
        workers = [
            context.Process(target=score_tiles, args=(engine, tiles, ready, start, seconds)) for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        ready.wait()  # every process has loaded its detector
        start.wait()
        walls[processes] = max(seconds.get(timeout=600) for _ in workers)
        for worker in workers:
            worker.join()
    return {
        "tiles_per_process": tiles,
        "seconds_1_process": walls[1],
        "seconds_2_processes": walls[2],
        "speedup": round(2 * walls[1] / walls[2], 3),
    }
