"""The screening command line and its driver loop; see the package docstring."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from ..artifacts.atomic import remove_stale_partials
from ..artifacts.checkpoint import CheckpointError
from ..detection.detector import add_detector_arguments
from ..detection.tiling import RowBlender
from ..io import InputError
from ..runtime import keep_large_blocks
from . import work
from .inputs import ArgumentError, SceneInput, scene_inputs
from .summary import Summary
from .work import DetectorSpec, Plan, SceneWriter

EXIT_OK, EXIT_ARGUMENTS, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 2, 3, 130
BANDS_IN_FLIGHT_PER_WORKER = 2  # bands of one large scene computed ahead of the writer


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rfi_models.screen",
        description="Screen SAR scenes for RFI on Dask: a mask and a score GeoTIFF and the RFI stripes (GeoJSON) per "
        "scene, and a summary table. The detector is named as in `python -m rfi_models.detect`, with the same default.",
        epilog="exit codes: 0 all scenes screened, 3 some refused (see the summary), 2 bad arguments",
    )
    parser.add_argument("inputs", nargs="+", help="scene files, folders (searched recursively) or lists")
    parser.add_argument("--out-dir", required=True, type=Path, help="folder for the masks, scores, stripes and summary")
    add_detector_arguments(parser)  # the same detectors, and the same default, as `python -m rfi_models.detect`
    parser.add_argument("--workers", type=int, help="local cluster of N workers (default: one per core)")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://HOST:8786")
    parser.add_argument("--no-scores", action="store_true", help="write the masks only, not the score maps")
    parser.add_argument("--tiles-per-band", type=int, default=work.TILES_PER_BAND,
                        help=f"tiles per task in a large scene (default {work.TILES_PER_BAND})")  # fmt: skip
    return parser.parse_args(argv)


def resolve_detector(args: argparse.Namespace) -> DetectorSpec:
    """Load the detector once here to check it and to fix its threshold (calibrated once, not on every worker)."""
    from ..detection.detector import NO_MODEL_SOURCES, Detector, choose_detector, choose_engine
    from ..names import checkpoints_dir

    source, method = choose_detector(args.checkpoint, args.method)
    engine, precision, note = choose_engine(args.engine, source, args.precision)  # here: one of each per summary
    if note:
        print(note, file=sys.stderr)
    folder = str(checkpoints_dir()) if source in NO_MODEL_SOURCES else ""  # a model's calibration: beside it
    detector = Detector.create(source, method, args.threshold, folder=folder or None, precision=precision,
                               engine=engine or "torch")  # fmt: skip
    return DetectorSpec(source, method, float(detector.threshold), detector.name, precision, folder, engine)


@contextlib.contextmanager
def connect(workers: int | None, scheduler: str | None) -> Iterator:
    """A Dask client: of the cluster at `scheduler`, or of a new LocalCluster of single-threaded workers."""
    from dask.distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler, timeout="10s"))
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.CRITICAL,
            ))  # fmt: skip
            client = stack.enter_context(Client(cluster))
        if client.dashboard_link and importlib_available("bokeh"):
            print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr)
        yield client


def importlib_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def one_line(err: BaseException) -> str:
    known = isinstance(err, InputError | CheckpointError | OSError)
    text = " ".join(str(err).split()) or type(err).__name__
    return text if known else f"{type(err).__name__}: {text}"


def assemble(client, scene: SceneInput, spec: DetectorSpec, plan: Plan, args, tiles_bar) -> dict:
    """Score the bands of a large scene on the cluster and write its outputs here, band by band in row order."""
    started = time.perf_counter()
    pending = list(plan.bands)
    window = BANDS_IN_FLIGHT_PER_WORKER * max(1, sum(client.nthreads().values()))
    futures = []
    blender = RowBlender(plan.shape[1])
    with SceneWriter(args.out_dir, scene.name, plan.shape, spec, plan.georef, not args.no_scores) as writer:
        while futures or pending:
            while pending and len(futures) < window:
                tops = pending.pop(0)
                futures.append(client.submit(work.score_scene_band, scene, spec, tops, priority=10, pure=False))
            band, tiles = futures.pop(0).result()
            tiles_bar.update(tiles)
            for top, scores in blender.add(band):
                writer.write(top, scores)
        for top, scores in blender.finish():
            writer.write(top, scores)
    seconds = plan.seconds + time.perf_counter() - started  # planning on a worker, then the bands' wall time
    return writer.fields | {"processor_rfi": plan.processor_rfi, "seconds": seconds, "tiles": 0}


def screen_one(client, future, scene: SceneInput, spec: DetectorSpec, args, tiles_bar) -> dict:
    """The summary row of a scene whose first task is `future`; any failure makes it a refused row."""
    row = {"input": str(scene.path), "name": scene.name, "bytes": scene.bytes, "mtime_ns": scene.mtime_ns,
           **spec.settings}  # fmt: skip
    try:
        result = future.result()
        if isinstance(result, Plan):
            result = assemble(client, scene, spec, result, args, tiles_bar)
    except Exception as err:  # a bad scene (or a lost worker) must not stop the run
        for stale in work.output_paths(args.out_dir, scene.name).values():
            stale.unlink(missing_ok=True)  # outputs of an earlier version of this input
        return row | {"status": f"refused: {one_line(err)}"}
    tiles_bar.update(result.pop("tiles"))
    return row | result | {"status": "ok"}


def run(client, scenes: list[SceneInput], spec: DetectorSpec, args, summary: Summary) -> None:
    """Submit every scene, and record each one's row in the summary as soon as it is done."""
    from dask.distributed import as_completed

    scenes_bar = tqdm(total=len(scenes), desc="scenes", unit="scene", file=sys.stderr)
    tiles_bar = tqdm(desc="tiles", unit="tile", position=1, file=sys.stderr)
    futures = {
        client.submit(work.start_scene, scene, spec, args.out_dir, not args.no_scores, args.tiles_per_band,
                      pure=False): scene
        for scene in scenes
    }  # fmt: skip
    with scenes_bar, tiles_bar:
        for future in as_completed(futures):
            summary.record(screen_one(client, future, futures[future], spec, args, tiles_bar))
            future.release()
            scenes_bar.update()


def prepare(args: argparse.Namespace) -> tuple[list[SceneInput], DetectorSpec]:
    if args.workers is not None and args.workers < 1:
        raise ArgumentError(f"--workers must be at least 1, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise ArgumentError("give --workers (a local cluster) or --scheduler (an existing one), not both")
    if args.tiles_per_band < 1:
        raise ArgumentError(f"--tiles-per-band must be at least 1, got {args.tiles_per_band}")
    scenes = scene_inputs(args.inputs)
    args.out_dir = args.out_dir.resolve()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    return scenes, resolve_detector(args)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    keep_large_blocks()  # large tensors reuse heap memory instead of fresh pages (see rfi_models/runtime.py)
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    try:
        scenes, spec = prepare(args)
    except (ArgumentError, InputError, CheckpointError, OSError) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_ARGUMENTS
    remove_stale_partials(args.out_dir)
    summary = Summary(args.out_dir)
    todo = [s for s in scenes if not summary.complete(s, spec.settings, not args.no_scores)]
    done = len(scenes) - len(todo)
    print(f"{len(scenes)} scenes, {done} done before; {spec.name}, threshold {spec.threshold:.4g}", file=sys.stderr)
    if todo:
        try:
            with connect(args.workers, args.scheduler) as client:
                client.run(work.load_detector, spec)  # every worker loads the detector (or says why it cannot)
                started = time.perf_counter()
                run(client, todo, spec, args, summary)
                seconds = time.perf_counter() - started
        except KeyboardInterrupt:
            print("interrupted: finished scenes are in the summary; rerun the same command to finish", file=sys.stderr)
            return EXIT_INTERRUPTED
        except OSError as err:  # no scheduler at that address
            print(f"error: cannot reach the Dask scheduler {args.scheduler}: {one_line(err)}", file=sys.stderr)
            return EXIT_ARGUMENTS
        except (CheckpointError, InputError) as err:  # the workers cannot load the detector
            print(f"error: the workers cannot load the detector: {one_line(err)}", file=sys.stderr)
            return EXIT_ARGUMENTS
        pixels = sum(row["height"] * row["width"] for row in map(summary.rows.get, (str(s.path) for s in todo))
                     if row["status"] == "ok")  # fmt: skip
        print(f"screened {len(todo)} scenes in {seconds:.2f} s ({pixels / 1e6 / seconds:.2f} Mpx/s) after the workers "
              "loaded the detector")  # fmt: skip
    statuses = summary.statuses(scenes)
    refused = sum(status != "ok" for status in statuses)
    print(f"{len(scenes) - refused} screened, {refused} refused; summary in {summary.parquet} and {summary.csv.name}")
    return EXIT_REFUSED if refused else EXIT_OK
