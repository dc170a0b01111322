"""Whole SAR scenes of any size, memory-mapped instead of read into memory."""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tifffile

from .decoders import check_page_count, read_npy_header
from .limits import ACCEPTED, MAX_SCENE_PIXELS, InputError
from .read import read_image
from .sources import check_pixel_count, sniff_format, unreadable
from .values import (
    apply_value_rule,
    check_bands_and_size,
    check_finite,
    check_has_data,
    check_value_type,
    to_channels_first,
    value_rule,
)


def open_scene(path: str | Path) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """A SAR scene of any size as an array-like [2, H, W] plus the function that turns its blocks into [0, 1].

    Uncompressed .npy and TIFF files are memory-mapped, so a whole GRD scene is never loaded at once; the
    value rule is decided once from the dtype and a strided sample. Anything else goes through
    `read_image` (and its size limit).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError as err:
        raise unreadable(path, err) from None
    kind = sniff_format(head)
    array = None
    if kind == "npy":
        with path.open("rb") as f:
            read_npy_header(f, limit=MAX_SCENE_PIXELS)
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(f"corrupt or truncated .npy ({err}); {ACCEPTED}") from None
    elif kind == "tiff":
        try:
            with tifffile.TiffFile(path) as tif:
                check_page_count(tif)
            array = tifffile.memmap(path, mode="r")
        except InputError:
            raise
        except Exception:  # compressed, tiled or corrupt: read it whole below (which says what is wrong)
            array = None
        if array is not None:
            check_pixel_count(array.shape, limit=MAX_SCENE_PIXELS)
    if array is None:
        return read_image(path, "sar"), lambda block: block
    check_value_type(array)
    scene = to_channels_first(array)
    check_bands_and_size(scene, "sar")
    step = max(1, int(np.sqrt(scene.shape[1] * scene.shape[2] / 1e6)))
    sample = np.asarray(scene[:, ::step, ::step])
    check_finite(sample)
    check_has_data(sample)
    rule = value_rule(sample.dtype, float(sample.min()), float(sample.max()), "sar")

    def to_unit(block: np.ndarray) -> np.ndarray:
        check_finite(block)
        return apply_value_rule(block, rule)

    return scene, to_unit


def release_mapped_pages(*arrays: np.ndarray) -> None:
    """Let the kernel drop the resident pages of memory-mapped arrays (views included); others are left alone.

    The data stays in the file and the page cache, and a later access maps it back, so streaming a scene
    through a mapping keeps the process's resident memory bounded by what it touched since the last call.
    """
    for array in arrays:
        mapping = getattr(array, "_mmap", None)  # np.memmap and its views share their parent's mmap
        if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
            mapping.madvise(mmap.MADV_DONTNEED)
