"""RFI detection from the command line.

    python -m rfi_models.detect INPUT [--checkpoint CKPT] [--method M] --out MASK.{png,npy,tif} --scores SCORES.npy
                                [--threshold T] [--boxes STRIPES.geojson]

INPUT is anything `rfi_models.io` accepts for SAR (2 bands, VV then VH; for a SAFE product, what was read and
the processor's own RFI annotation are printed before the result); uncompressed .npy and TIFF
scenes are memory-mapped and streamed tile by tile, so a whole Sentinel-1 GRD scene fits in bounded
memory. CKPT is a SAR checkpoint, `baseline` for the non-learned detector, or a no-model control
(`control-input`, `control-median`, `control-band`); M is its score (error, ssim, rfi, learned). Left out, both
are the default detector recorded by the evaluation in the checkpoints folder, the same one
`python -m rfi_models.screen` uses (`detection.detector.choose_detector`). SCORES is float32 [H, W] at
the input's size; MASK is the scores at or above the threshold (the detector's calibrated default
unless --threshold is given). STRIPES is the mask as RFI stripes (`detection.stripes`: flagged segments along
rows, merged across the gaps of dashed stripes), one GeoJSON polygon each with its score (`io.geojson`):
longitude/latitude when the input is georeferenced (a GeoTIFF, a SAFE product), else pixel coordinates.
On bad input the exit code is 2 with a one-line message.

Every output is written under a temporary name beside its final one and renamed only once complete
(`rfi_models.artifacts.atomic`): a killed run leaves the previous outputs, or none, never a partial file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import png
import tifffile
from tqdm import tqdm

from .artifacts.atomic import atomic_path
from .artifacts.checkpoint import CheckpointError
from .detection.detector import Detector, add_detector_arguments, choose_detector, choose_engine
from .detection.onnx_engine import EXPORT_ENGINES
from .detection.stripes import StripeFinder
from .detection.tiling import count_tiles
from .io import Georef, InputError, ReadInfo, open_scene, read_input, release_mapped_pages
from .io.geojson import LONLAT, check_boxes_path, coordinate_system, write_stripes
from .io.read import is_safe_zip_source, zip_head
from .runtime import keep_large_blocks

MASK_FORMATS = (".png", ".npy", ".tif", ".tiff")
ROWS_PER_CHUNK = 1024  # a multiple of 16: a TIFF mask is written as one tile per chunk of rows
PROGRESS_MIN_TILES = 8


def write_mask(scores: np.ndarray, threshold: float, path: Path, stripes: StripeFinder | None = None) -> int:
    """Threshold `scores` into `path` ROWS_PER_CHUNK rows at a time; returns the number of flagged pixels.

    Every format is written as the rows come (a mapped .npy, PNG rows through pypng, TIFF tiles through
    tifffile), so the mask never has to fit in memory whatever the scene's size. PNG and TIFF hold 0 / 255.
    `stripes`, when given, is fed the same rows (`StripeFinder.add_scores`).
    """
    height, width = scores.shape
    flagged = 0

    def chunks() -> Iterator[np.ndarray]:
        """The mask, bool [<= ROWS_PER_CHUNK, W] at a time."""
        nonlocal flagged
        for top in range(0, height, ROWS_PER_CHUNK):
            block = np.asarray(scores[top : top + ROWS_PER_CHUNK])
            chunk = block >= threshold
            flagged += int(chunk.sum())
            if stripes is not None:
                stripes.add_scores(top, block, threshold)
            release_mapped_pages(scores)
            yield chunk

    grey = (chunk * np.uint8(255) for chunk in chunks())  # PNG and TIFF

    suffix = path.suffix.lower()
    if suffix == ".npy":
        mask = np.lib.format.open_memmap(path, mode="w+", dtype=bool, shape=(height, width))
        for top, chunk in zip(range(0, height, ROWS_PER_CHUNK), chunks(), strict=True):
            mask[top : top + len(chunk)] = chunk
            release_mapped_pages(mask)
        mask.flush()
    elif suffix == ".png":
        with path.open("wb") as f:
            png.Writer(width, height, greyscale=True, bitdepth=8).write(f, (row for chunk in grey for row in chunk))
    else:
        tile = (ROWS_PER_CHUNK, -(-width // 16) * 16)  # one tile per chunk of rows, zero-padded to whole tiles
        tifffile.imwrite(path, data=grey, shape=(height, width), dtype=np.uint8, tile=tile, compression="zlib",
                         maxworkers=1)  # fmt: skip
    return flagged


def score_scene(detector: Detector, scene, to_unit, scores: np.ndarray, threads: int = 1) -> None:
    """Score `scene` into the mapped `scores`, with a progress bar over tiles, releasing mapped pages as it goes."""
    _, height, width = scene.shape
    tiles = count_tiles((height, width), detector.tile)
    tiles_per_row = count_tiles((detector.tile[0], width), detector.tile)
    with tqdm(total=tiles, desc="tiles", disable=tiles < PROGRESS_MIN_TILES, file=sys.stderr) as bar:

        def advance(n: int) -> None:
            bar.update(n)
            if bar.n // tiles_per_row > (bar.n - n) // tiles_per_row:  # a row of tiles is done: drop its pages
                release_mapped_pages(scene, scores)

        detector.score(scene, out=scores, to_unit=to_unit, progress=advance, threads=threads)
    scores.flush()


def one_thread_per_task(threads: int | None, engine: str) -> int:
    """How many rows of tiles to score side by side, each on one thread (default: torch's thread count, or for
    the ONNX engine, which runs one thread per session, OMP_NUM_THREADS else the CPUs this process may use).

    The detector's tensors are small: two single-threaded rows of tiles keep two cores busier than one row
    on two threads, whose parallel sections are too short to pay for their synchronisation.
    """
    if engine in EXPORT_ENGINES:  # no torch in this process
        return max(1, threads or int(os.environ.get("OMP_NUM_THREADS") or 0) or len(os.sched_getaffinity(0)))
    import torch

    tasks = max(1, threads or torch.get_num_threads())
    torch.set_num_threads(1)
    return tasks


def open_input(path: str) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray], ReadInfo | None]:
    """The scene to score, the function that turns its blocks into [0, 1], and what was read: for a SAFE product
    (folder or zip) the reader's report, with the processor's own RFI annotation; None for plain arrays."""
    source = Path(path)
    if source.is_dir() or (source.is_file() and zip_head(source) and is_safe_zip_source(source)):
        reading = read_input(source, "sar")
        return reading.image, lambda block: block, reading.info
    return (*open_scene(source), None)


def input_georef(path: str, info: ReadInfo | None) -> Georef | None:
    """Where the input lies on Earth: what the reader found (SAFE products), or a GeoTIFF's header."""
    if info is not None:
        return info.georef
    from .io.georef import scene_georef  # rasterio: only for the boxes

    return scene_georef(path)


def detect(args: argparse.Namespace) -> str:
    out, scores_path = Path(args.out), Path(args.scores)
    if out.suffix.lower() not in MASK_FORMATS:
        raise InputError(f"--out must end in one of {', '.join(MASK_FORMATS)}, got {out.name}")
    if scores_path.suffix.lower() != ".npy":
        raise InputError(f"--scores must be a .npy file, got {scores_path.name}")
    boxes = check_boxes_path(args.boxes) if args.boxes else None
    scene, to_unit, info = open_input(args.input)
    source, method = choose_detector(args.checkpoint, args.method)
    engine, precision, note = choose_engine(args.engine, source, args.precision)
    if note:
        print(note, file=sys.stderr)
    detector = Detector.create(source, method, args.threshold, precision=precision, engine=engine or "torch")
    threads = one_thread_per_task(args.threads, engine)
    _, height, width = scene.shape
    finder = StripeFinder() if boxes else None
    with atomic_path(scores_path) as scores_partial, atomic_path(out) as mask_partial:
        scores = np.lib.format.open_memmap(scores_partial, mode="w+", dtype=np.float32, shape=(height, width))
        score_scene(detector, scene, to_unit, scores, threads)
        flagged = write_mask(scores, detector.threshold, mask_partial, finder)
        del scores
        if boxes is not None:
            georef = input_georef(args.input, info)
            stripes = finder.stripes()
            write_stripes(boxes, stripes, georef, detector.name, detector.threshold, (height, width))
    read = [*info.lines(), *([] if info.rfi else ["the product has no RFI annotation"])] if info else []
    wrote = f"wrote {out} and {scores_path}"
    if boxes is not None:
        system = coordinate_system(georef)
        where = f"longitude/latitude from {georef.crs_name}" if system == LONLAT else system.split(":")[0]
        wrote = f"wrote {out}, {scores_path} and {boxes} ({len(stripes)} stripes, {where})"
    engine_text = f" with the {engine} engine" if engine else ""
    return "\n".join([
        *read,
        f"{detector.name}: {height} x {width} px, threshold {detector.threshold:.4g}, "
        f"{flagged} px flagged ({flagged / (height * width):.2%}){engine_text}; {wrote}",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rfi_models.detect", description="Find RFI in a SAR patch or scene."
    )
    parser.add_argument(
        "input",
        help="SAR image: .npy/.npz or TIFF with VV and VH bands, a Sentinel-1 quick-look, "
        "or a SAFE product (.SAFE folder or .zip; its own RFI annotation is printed too)",
    )
    parser.add_argument("--out", required=True, help="mask file: .png, .npy or .tif")
    parser.add_argument("--scores", required=True, help="score map file (.npy, float32 [H, W])")
    parser.add_argument("--boxes", help="also write the mask's RFI stripes, with their scores, as GeoJSON (.geojson): "
                        "longitude/latitude when INPUT is georeferenced, else pixel coordinates")  # fmt: skip
    add_detector_arguments(parser)
    parser.add_argument("--threads", type=int, help="rows of tiles scored at once, 1 thread each "
                        "(default: the cores or OMP_NUM_THREADS)")  # fmt: skip
    args = parser.parse_args(argv)
    keep_large_blocks()  # large tensors reuse heap memory instead of fresh pages (see runtime.py)
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)  # its warnings on broken files would precede ours
    try:
        print(detect(args))
    except (InputError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot write output: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
