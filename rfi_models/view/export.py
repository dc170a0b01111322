"""Arrays to downloadable files: PNG, NPY and (zlib-compressed) TIFF bytes."""

from __future__ import annotations

import io

import numpy as np
import tifffile
from PIL import Image

FORMATS = ("png", "npy", "tif")


def file_bytes(array: np.ndarray, fmt: str) -> bytes:
    """Encode `array` as a file. png: uint8 [H, W] or [H, W, 3] (bool becomes 0/255); npy: any array, no pickle;
    tif: any numeric [H, W] or [H, W, C]."""
    buffer = io.BytesIO()
    if fmt == "png":
        picture = array.astype(np.uint8) * np.uint8(255) if array.dtype == bool else array
        Image.fromarray(picture).save(buffer, format="PNG")
    elif fmt == "npy":
        np.save(buffer, array, allow_pickle=False)
    elif fmt == "tif":
        tifffile.imwrite(buffer, array.astype(np.uint8) * np.uint8(255) if array.dtype == bool else array,
                         compression="zlib")  # fmt: skip
    else:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return buffer.getvalue()
