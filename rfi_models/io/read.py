"""The entry point: `read_image(source, domain)`."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from .decoders import decode_npy, decode_npz, decode_pil, decode_tiff
from .limits import DOMAINS
from .mnist import to_mnist_digit
from .sources import read_source_bytes, sniff_format
from .values import check_bands_and_size, check_has_data, to_channels_first, to_unit_range


def read_image(source: str | Path | bytes | BinaryIO, domain: str) -> np.ndarray:
    """Read a user image for `domain` ("mnist" or "sar") -> float32 [C, H, W] in [0, 1].

    Raises InputError (never anything else for bad content) naming the problem and what is accepted.
    """
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    data = read_source_bytes(source)
    kind = sniff_format(data)
    if kind in ("png", "jpeg"):
        image = decode_pil(data, domain)[None]
    else:
        raw = {"tiff": decode_tiff, "npy": decode_npy, "npz": decode_npz}[kind](data)
        image = to_unit_range(to_channels_first(raw), domain)
    check_bands_and_size(image, domain)
    check_has_data(image)
    if domain == "mnist":
        image = to_mnist_digit(image[0])[None]
    return np.ascontiguousarray(image, dtype=np.float32)
