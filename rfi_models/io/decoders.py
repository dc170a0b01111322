"""Decoders of each accepted file format into a raw array, size-checked from headers before decoding."""

from __future__ import annotations

import io
import math
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from typing import BinaryIO

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from . import limits
from .limits import ACCEPTED, MAX_PIXELS, MAX_TIFF_PAGES, InputError
from .sources import check_array_size, check_pixel_count


def decode_pil(data: bytes, convert: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
    """PNG/JPEG -> `convert(image)`, EXIF rotation applied, size-checked from the header before decoding."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            check_pixel_count((image.height, image.width))
            return convert(ImageOps.exif_transpose(image))
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(
            f"image is too large (its header claims over {Image.MAX_IMAGE_PIXELS:,} pixels, a possible "
            f"decompression bomb); at most {MAX_PIXELS:,} pixels per band are accepted"
        ) from None
    except UnidentifiedImageError:
        raise InputError(f"corrupt or truncated PNG/JPEG: its header cannot be read; {ACCEPTED}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f"corrupt or truncated image file ({err}); {ACCEPTED}") from None


def grey_unit(image: Image.Image) -> np.ndarray:
    """A PIL image -> float32 [H, W] grey in [0, 1] (MNIST): colour becomes luminance, 16-bit is scaled by its max."""
    grey = image.convert("L") if image.mode not in ("I;16", "I", "F") else image.convert("F")
    array = np.asarray(grey, dtype=np.float32)
    return array / (255.0 if grey.mode == "L" else max(float(array.max()), 1.0))


def check_page_count(tif: tifffile.TiffFile) -> None:
    """Refuse TIFFs with more than MAX_TIFF_PAGES pages, walking no further than that limit."""
    try:
        tif.pages[MAX_TIFF_PAGES]
    except IndexError:
        return
    raise InputError(
        f"the TIFF has more than {MAX_TIFF_PAGES} pages (or its page chain loops); accepted: one page (1 or 2 bands) "
        "or two pages (VV, VH), plus reduced-resolution overviews"
    )


def decode_tiff(data: bytes) -> np.ndarray:
    """TIFF -> its array, size-checked from the header before decoding."""
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            check_page_count(tif)
            series = tif.series
            if not series:
                raise InputError("the TIFF holds no image")
            if len(series) > 1:
                shapes = [s.shape for s in series]
                if len(set(shapes)) != 1 or len(shapes) > 2:
                    raise InputError(
                        f"TIFF with {len(series)} images of shapes {shapes}; accepted: one image of 1 or 2 bands, "
                        "or two pages of the same size (VV, VH)"
                    )
                check_array_size((len(series), *series[0].shape), series[0].dtype)
                return np.stack([s.asarray() for s in series])
            check_array_size(series[0].shape, series[0].dtype)
            return series[0].asarray()
    except InputError:
        raise
    except Exception as err:  # tifffile raises many types for corrupt files
        raise InputError(f"corrupt or truncated TIFF ({type(err).__name__}: {err}); {ACCEPTED}") from None


def read_npy_header(stream: BinaryIO, limit: int = MAX_PIXELS) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype of an .npy stream, refusing object dtypes before any data."""
    try:
        version = np.lib.format.read_magic(stream)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(stream)
    except (ValueError, TypeError, OSError, SyntaxError, tokenize.TokenError, EOFError) as err:  # numpy parses a dict
        raise InputError(f"corrupt .npy header ({err}); {ACCEPTED}") from None
    if dtype.hasobject:
        raise InputError("the array holds Python objects (pickled data), which are never loaded; use numeric arrays")
    check_pixel_count(shape, limit)
    return shape, fortran, dtype


def read_npy_array(stream: BinaryIO, size: int) -> np.ndarray:
    """Read an .npy stream of `size` bytes. What is read is bounded by the header, and the header by the
    limits and by `size`, so neither a lying header nor a lying zip member can inflate memory."""
    shape, fortran, dtype = read_npy_header(stream)
    check_array_size(shape, dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    available = size - stream.tell()
    if nbytes > available:
        raise InputError(f"truncated .npy data: the header declares {nbytes:,} bytes, the file holds {available:,}")
    payload = stream.read(nbytes)
    if len(payload) != nbytes:
        raise InputError(f"truncated .npy data: expected {nbytes} bytes, found {len(payload)}")
    array = np.frombuffer(payload, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def decode_npy(data: bytes) -> np.ndarray:
    return read_npy_array(io.BytesIO(data), len(data))


def decode_npz(data: bytes) -> np.ndarray:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in archive.namelist() if n.endswith(".npy")]
        if not names:
            raise InputError(f"the .npz/.zip holds no .npy array; {ACCEPTED}")
        chosen = "image.npy" if "image.npy" in names else names[0] if len(names) == 1 else None
        if chosen is None:
            keys = ", ".join(n[:-4] for n in names)
            raise InputError(f"the .npz holds several arrays ({keys}); name the image array 'image'")
        size = archive.getinfo(chosen).file_size
        if size > limits.MAX_FILE_BYTES:
            raise InputError(
                f"the .npz array unpacks to {size / 2**20:,.0f} MiB, "
                f"over the {limits.MAX_FILE_BYTES / 2**20:,.0f} MiB limit (a decompression bomb?)"
            )
        with archive.open(chosen) as member:
            return read_npy_array(member, size)
    except InputError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as err:
        raise InputError(f"corrupt or truncated .npz/.zip ({err}); {ACCEPTED}") from None
