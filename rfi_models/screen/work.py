"""What a Dask worker does for the screening: build the detector once, score a scene or a band of it, write outputs.

Every function here runs in a worker process and takes only small picklable arguments (paths, a
`DetectorSpec`, tile row offsets); scenes are read from the shared file system by the worker that
needs them, and outputs are written beside their final names and renamed when complete.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from ..artifacts.atomic import atomic_path
from ..detection.onnx_engine import EXPORT_ENGINES
from ..detection.stripes import StripeFinder
from ..detection.tiling import Band, RowBlender, band_tops, count_tiles, score_band
from ..io import Georef, open_scene, read_input, release_mapped_pages
from ..io.geojson import stripes_text
from ..io.georef import profile, scene_georef, suppressed_georef_warning, write_raster
from ..runtime import keep_large_blocks
from .inputs import SceneInput

TORCH_THREADS = 1  # per task: a worker runs as many tasks at once as it has threads
MAPPED_SUFFIXES = (".npy", ".tif", ".tiff")  # read through open_scene, memory-mapped when uncompressed
TILES_PER_BAND = 48  # a scene with more tiles is cut into bands of rows of tiles, one task each


@dataclass(frozen=True)
class DetectorSpec:
    checkpoint: str  # a source of `Detector.create`: a SAR checkpoint path, "baseline" or a no-model control
    method: str
    threshold: float  # resolved once by the driver, so that no worker calibrates on its own
    name: str
    precision: str = "float32"
    folder: str = ""  # the checkpoints folder of a no-model source's calibration, as the driver saw it
    engine: str = "torch"  # what runs a checkpoint's model: "torch", "onnx" or "openvino" ("" for no-model sources)

    @property
    def settings(self) -> dict:
        """The summary columns that identify the detector."""
        return {"detector": self.name, "method": self.method, "precision": self.precision, "engine": self.engine,
                "threshold": self.threshold}  # fmt: skip


@functools.cache
def detector_for(spec: DetectorSpec):
    """The detector of `spec`, built once per worker process (with this process's CPU settings); a worker of the
    ONNX engine never imports torch (its sessions run on one thread each, `onnx_engine.SESSION_THREADS`)."""
    from ..detection.detector import Detector

    keep_large_blocks()
    if spec.engine not in EXPORT_ENGINES:
        import torch

        torch.set_num_threads(TORCH_THREADS)
    return Detector.create(spec.checkpoint, spec.method, spec.threshold, spec.folder or None, spec.precision,
                           engine=spec.engine or "torch")  # fmt: skip


def load_detector(spec: DetectorSpec) -> str:
    """Build this worker's detector now (so that a checkpoint it cannot read stops the run at once); its name."""
    return detector_for(spec).name


@dataclass
class Plan:
    """A scene too large for one task: its shape, georeference and the bands to score as separate tasks."""

    shape: tuple[int, int]
    bands: list[list[int]]
    georef: Georef | None
    processor_rfi: str
    tiles: int
    seconds: float  # spent planning


def rows_per_band(shape: tuple[int, int], tile: tuple[int, int], tiles_per_band: int) -> int:
    return max(1, tiles_per_band // count_tiles((tile[0], shape[1]), tile))


def open_for_screening(path: Path) -> tuple[np.ndarray, Callable, Georef | None, str]:
    """A scene as (array-like [2, H, W], its function to [0, 1], georeference or None, processor RFI flags or "").

    .npy and TIFF scenes are memory-mapped when they can be (`open_scene`); SAFE products, zips and quick-looks
    are read whole by `read_input`, which also returns their georeference and the processor's RFI annotation.
    """
    if path.is_file() and path.suffix.lower() in MAPPED_SUFFIXES:
        image, to_unit = open_scene(path)
        return image, to_unit, scene_georef(path), ""
    reading = read_input(path, "sar", name=path.name)
    rfi = reading.info.rfi.summary() if reading.info.rfi is not None else ""
    return reading.image, lambda block: block, reading.info.georef, rfi


def start_scene(
    scene: SceneInput, spec: DetectorSpec, out_dir: Path, with_scores: bool, tiles_per_band: int = TILES_PER_BAND
) -> dict | Plan:
    """Screen a scene here and return its summary fields, or return the Plan of a memory-mapped scene of several
    bands, whose bands then run as tasks of their own. A scene read whole (a SAFE product, a quick-look, a
    compressed TIFF) is screened here whatever its size: every band task would have to read it whole again."""
    detector = detector_for(spec)
    started = time.perf_counter()
    image, to_unit, georef, processor_rfi = open_for_screening(scene.path)
    shape = image.shape[1:]
    bands = band_tops(shape, detector.tile, rows_per_band(shape, detector.tile, tiles_per_band))
    tiles = count_tiles(shape, detector.tile)
    if len(bands) > 1 and isinstance(image, np.memmap):
        return Plan(shape, bands, georef, processor_rfi, tiles, time.perf_counter() - started)
    blender = RowBlender(shape[1])
    with SceneWriter(out_dir, scene.name, shape, spec, georef, with_scores) as writer:
        for tops in bands:
            band = score_band(detector.score_batch, image, detector.tile, tops, to_unit=to_unit)
            for top, scores in blender.add(band):
                writer.write(top, scores)
        for top, scores in blender.finish():
            writer.write(top, scores)
    return writer.fields | {"processor_rfi": processor_rfi, "tiles": tiles, "seconds": time.perf_counter() - started}


def score_scene_band(scene: SceneInput, spec: DetectorSpec, tops: list[int]) -> tuple[Band, int]:
    """One band of a large scene (see `Plan`) and its number of tiles."""
    detector = detector_for(spec)
    image, to_unit, _, _ = open_for_screening(scene.path)
    band = score_band(detector.score_batch, image, detector.tile, tops, to_unit=to_unit)
    release_mapped_pages(image)
    return band, len(tops) * count_tiles((detector.tile[0], image.shape[2]), detector.tile)


def output_paths(out_dir: Path, name: str) -> dict[str, Path]:
    """The outputs of scene `name`: its mask, its scores and its stripes (GeoJSON, `io.geojson`)."""
    return {kind: Path(out_dir) / f"{name}.{kind}{suffix}"
            for kind, suffix in (("mask", ".tif"), ("scores", ".tif"), ("stripes", ".geojson"))}  # fmt: skip


class SceneWriter:
    """Streams final rows of scores into DIR/<name>.mask.tif (uint8 0/255) and DIR/<name>.scores.tif (float32),
    both tiled deflate GeoTIFFs under temporary names until `close`; counts flagged pixels and finds stripes, which
    go to DIR/<name>.stripes.geojson (the same file as `python -m rfi_models.detect --boxes`)."""

    def __init__(self, out_dir: Path, name: str, shape: tuple[int, int], spec: DetectorSpec, georef, with_scores: bool):
        self.shape, self.threshold, self.georef, self.detector = shape, spec.threshold, georef, spec.name
        self.stack = contextlib.ExitStack()
        paths = output_paths(out_dir, name)
        self.mask_path, self.stripes_path = paths["mask"], paths["stripes"]
        self.scores_path = paths["scores"] if with_scores else None
        self.outputs = []
        for path, dtype in ((self.scores_path, "float32"), (self.mask_path, "uint8")):
            if path is not None:
                partial = self.stack.enter_context(atomic_path(path))
                self.stack.enter_context(suppressed_georef_warning())
                output = self.stack.enter_context(rasterio.open(partial, "w", **profile(shape, dtype)))
                write_raster(output, (), georef)  # the georeference now, the rows as they are scored
                self.outputs.append(output)
        self.stripes_partial = self.stack.enter_context(atomic_path(self.stripes_path))
        self.flagged = 0
        self.stripes = StripeFinder()

    def __enter__(self) -> SceneWriter:
        return self

    def write(self, top: int, scores: np.ndarray) -> None:
        mask = scores >= self.threshold
        self.flagged += int(mask.sum())
        self.stripes.add_scores(top, scores, self.threshold)
        window = Window(0, top, self.shape[1], len(scores))
        for output in self.outputs:
            output.write((mask * np.uint8(255)) if output.dtypes[0] == "uint8" else scores, 1, window=window)

    def __exit__(self, *error) -> None:
        if error[0] is None:
            try:
                text = stripes_text(self.stripes.stripes(), self.georef, self.detector, self.threshold, self.shape)
                self.stripes_partial.write_text(text)
            except BaseException as err:
                self.stack.__exit__(type(err), err, err.__traceback__)  # removes every partial file
                raise
        self.stack.__exit__(*error)  # closes the files, then renames them (or removes them on error)

    @property
    def fields(self) -> dict:
        stripes = self.stripes.stripes()
        return {
            "height": self.shape[0],
            "width": self.shape[1],
            "flagged_share": self.flagged / (self.shape[0] * self.shape[1]),
            "stripes": len(stripes),
            "stripe_list": json.dumps(stripes[:MAX_LISTED_STRIPES]),
            "georeferenced": self.georef is not None,
            "mask": str(self.mask_path),
            "scores": str(self.scores_path or ""),
            "stripes_geojson": str(self.stripes_path),
        }


MAX_LISTED_STRIPES = 100  # the strongest; the count covers them all
