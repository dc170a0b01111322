"""The entry points: `read_input(source, domain) -> Reading` (image and what was read) and `read_image`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..names import check_domain
from .decoders import decode_npy, decode_npz, decode_pil, decode_tiff, grey_unit
from .digit import to_mnist_digit
from .info import ReadInfo, Reading
from .limits import InputError
from .product import ZIP_ERRORS, is_safe_zip
from .quicklook import quicklook_bands, quicklook_info
from .safe import read_safe
from .sources import read_source_bytes, sniff_format, unreadable
from .values import (
    RULE_SCALES,
    apply_value_rule,
    check_bands_and_size,
    check_has_data,
    to_channels_first,
    to_unit_range,
)

FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "npy": "NumPy .npy", "npz": "NumPy .npz"}
ARRAY_POLARISATIONS = {"mnist": ("grey",), "sar": ("VV", "VH")}


def is_safe_zip_source(source: Path | bytes) -> bool:
    """Whether a zip (a path or bytes) holds a SAFE product's manifest; False for anything else."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            return is_safe_zip(archive)
    except ZIP_ERRORS:
        return False


def zip_head(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError as err:
        raise unreadable(path, err) from None


def decode(data: bytes, domain: str, name: str) -> Reading:
    """The bytes of a single file (not a SAFE product) -> Reading, before the band and size checks."""
    kind = sniff_format(data)
    if kind in ("png", "jpeg") and domain == "sar":
        bands, polarisations, notes = quicklook_bands(data, name)
        info = quicklook_info(bands, polarisations, notes, f"quick-look {FORMAT_NAMES[kind]}")
        return Reading(apply_value_rule(bands, "byte"), info)
    if kind in ("png", "jpeg"):
        grey = decode_pil(data, grey_unit)
        return Reading(grey[None], ReadInfo(FORMAT_NAMES[kind], ("grey",), grey.shape, "8-bit or 16-bit grey"))
    raw = {"tiff": decode_tiff, "npy": decode_npy, "npz": decode_npz}[kind](data)
    image, rule = to_unit_range(to_channels_first(raw), domain)
    georef = None
    if kind == "tiff":
        from .georef import read_georef  # rasterio, only for TIFFs

        georef = read_georef(data)
    notes = ("bands taken as VV then VH (HH then HV work alike)",) if domain == "sar" else ()
    fmt = "GeoTIFF" if georef else FORMAT_NAMES[kind]
    info = ReadInfo(fmt, ARRAY_POLARISATIONS[domain], tuple(image.shape[1:]), RULE_SCALES[rule], georef, notes)
    return Reading(image, info)


def read_input(source: str | Path | bytes | BinaryIO, domain: str, name: str = "", denoise: bool = True) -> Reading:
    """Read a user image for `domain` ("mnist" or "sar") -> Reading: float32 [C, H, W] in [0, 1] and what was read.

    SAR also takes a `.SAFE` folder or SAFE `.zip` (a path, or the zip's bytes) and Sentinel-1 quick-looks;
    `name` (a file name, for uploads) tells a quick-look's polarisations by its product code. `denoise` removes
    thermal noise when a SAFE product's measurements are calibrated. Raises InputError (never anything else for
    bad content) naming the problem and what is accepted.
    """
    check_domain(domain)
    path = Path(source) if isinstance(source, str | Path) else None
    name = name or (path.name if path else "")
    if path is not None and (path.is_dir() or (path.is_file() and zip_head(path) and is_safe_zip_source(path))):
        if domain != "sar":
            raise InputError(f"{name} is a Sentinel-1 product: switch to the SAR domain")
        reading = read_safe(path, name, denoise)
    else:
        data = read_source_bytes(source)
        if domain == "sar" and data.startswith(b"PK\x03\x04") and is_safe_zip_source(data):
            reading = read_safe(data, name or "the zip", denoise)
        else:
            reading = decode(data, domain, name)
    image = reading.image
    check_bands_and_size(image, domain)
    check_has_data(image)
    if domain == "mnist":
        image = to_mnist_digit(image[0])[None]
    return Reading(np.ascontiguousarray(image, dtype=np.float32), reading.info)


def read_image(source: str | Path | bytes | BinaryIO, domain: str) -> np.ndarray:
    """`read_input(source, domain).image`: float32 [C, H, W] in [0, 1]."""
    return read_input(source, domain).image
