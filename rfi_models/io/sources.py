"""Where input bytes come from and what format they hold: paths, uploads, magic bytes, size checks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import BinaryIO

import numpy as np

from . import limits
from .limits import ACCEPTED, MAX_ARRAY_BYTES, MAX_PIXELS, InputError


def unreadable(path: Path, err: OSError) -> InputError:
    """The error for an input file the system will not let us read (permissions, a device, ...)."""
    return InputError(f"{path}: cannot be read ({err.strerror or err})")


def read_source_bytes(source: str | Path | bytes | bytearray | memoryview | BinaryIO) -> bytes:
    """The raw bytes of a path, a bytes-like object or an open binary file (e.g. a Streamlit upload)."""
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        size = path.stat().st_size
        if size > limits.MAX_FILE_BYTES:
            raise InputError(f"file is {size / 2**20:.0f} MiB; the limit is {limits.MAX_FILE_BYTES / 2**20:.0f} MiB")
        try:
            return path.read_bytes()
        except OSError as err:
            raise unreadable(path, err) from None
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif hasattr(source, "getvalue"):
        data = bytes(source.getvalue())
    elif hasattr(source, "read"):
        data = source.read(limits.MAX_FILE_BYTES + 1)
    else:
        raise InputError(f"cannot read an image from a {type(source).__name__}; give a path, bytes or a file")
    if len(data) > limits.MAX_FILE_BYTES:
        raise InputError(f"file is over the {limits.MAX_FILE_BYTES / 2**20:.0f} MiB limit")
    return data


def sniff_format(data: bytes) -> str:
    """'png', 'jpeg', 'tiff', 'npy' or 'npz' from the magic bytes; InputError otherwise."""
    if not data:
        raise InputError(f"the file is empty (0 bytes); {ACCEPTED}")
    signatures = {
        b"\x89PNG\r\n\x1a\n": "png",
        b"\xff\xd8\xff": "jpeg",
        b"II*\x00": "tiff",
        b"MM\x00*": "tiff",
        b"II+\x00": "tiff",
        b"MM\x00+": "tiff",
        b"\x93NUMPY": "npy",
        b"PK\x03\x04": "npz",
    }
    for magic, kind in signatures.items():
        if data.startswith(magic):
            return kind
    head = data[:64]
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        raise InputError(f"this is a text file, not an image; {ACCEPTED}")
    raise InputError(f"not a recognised image file (unknown format); {ACCEPTED}")


def check_pixel_count(shape: tuple[int, ...], limit: int = MAX_PIXELS) -> None:
    """Refuse shapes whose two largest axes (height and width, whatever the layout) exceed `limit` pixels."""
    largest = sorted((int(v) for v in shape), reverse=True)[:2]
    if math.prod(largest) > limit:
        raise InputError(
            f"image of shape {tuple(shape)} is too large: at most {limit:,} pixels per band are accepted"
            + (
                " (e.g. 8192 x 8192); use the detect CLI with .npy or uncompressed TIFF for whole scenes"
                if limit == MAX_PIXELS
                else ""
            )
        )


def check_array_size(shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse, from a header alone, arrays over the pixel limit or decoding to more than MAX_ARRAY_BYTES."""
    check_pixel_count(shape)
    nbytes = math.prod(int(v) for v in shape) * np.dtype(dtype).itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise InputError(
            f"image of shape {tuple(shape)} and type {np.dtype(dtype)} decodes to {nbytes / 2**20:,.0f} MiB; "
            f"at most {MAX_ARRAY_BYTES / 2**20:,.0f} MiB are accepted (e.g. 2 bands of 8192 x 8192 float32)"
        )
