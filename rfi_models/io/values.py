"""Raw arrays -> channels-first float32 in [0, 1]: band layout, value rules, band and size checks."""

from __future__ import annotations

import numpy as np

from ..data.quicklook_scale import db_to_quicklook
from .limits import (
    CHANNELS,
    DB_RANGE,
    GRD_AMPLITUDE_CALIBRATION_DB,
    MAX_BANDS,
    MIN_SIDE,
    VALUE_BLOCK_PIXELS,
    InputError,
)


def to_channels_first(array: np.ndarray) -> np.ndarray:
    """2-D or 3-D array in H x W, H x W x C or C x H x W -> [C, H, W].

    The bands are the last axis if it has at most MAX_BANDS entries, else the first if that has; neither is
    an InputError.
    """
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        return array[None]
    if array.ndim != 3:
        raise InputError(f"expected a 2-D or 3-D image array, got shape {array.shape}")
    if array.shape[-1] <= MAX_BANDS:
        return np.moveaxis(array, -1, 0)
    if array.shape[0] <= MAX_BANDS:
        return array
    raise InputError(
        f"cannot tell the bands of an array of shape {array.shape}: neither its first nor its last axis has at most "
        f"{MAX_BANDS} entries; give H x W x C or C x H x W with 1 band (MNIST) or 2 bands (SAR: VV, VH)"
    )


def check_value_type(array: np.ndarray) -> None:
    kind = array.dtype.kind
    if kind == "c":
        raise InputError("complex values are not accepted: give intensity or amplitude (e.g. |SLC|) per band")
    if kind not in "uif":
        raise InputError(f"unsupported data type {array.dtype}; use uint8, uint16 or float")


def value_rule(dtype: np.dtype, low: float, high: float, domain: str) -> str:
    """How raw values become [0, 1] (module docstring): "byte", "unit", "amplitude", "sixteen_bit" or "db".

    Decided from the dtype and the value range of the whole image, so that every tile of a scene is
    scaled alike.
    """
    if dtype.kind in "ui":
        if low < 0:
            raise InputError(f"negative integer values (min {low:g}); accepted: unsigned 8- or 16-bit data")
        if not (dtype.kind == "u" and dtype.itemsize == 2) and high <= 255:  # uint16 of either byte order
            return "byte"
        if high > 65535:
            raise InputError(f"integer values up to {high:g} are not understood; accepted: 8- or 16-bit data")
        return "amplitude" if domain == "sar" else "sixteen_bit"
    if low >= 0 and high <= 1:
        return "unit"
    if low >= 0 and high <= 255:
        return "byte"
    if domain == "sar" and DB_RANGE[0] <= low < 0 and high <= DB_RANGE[1]:
        return "db"
    raise InputError(
        f"float values in [{low:g}, {high:g}] are not understood; accepted floats: [0, 1], [0, 255]"
        + (f", or sigma0 in dB within [{DB_RANGE[0]:g}, {DB_RANGE[1]:g}]" if domain == "sar" else "")
    )


def apply_value_rule(array: np.ndarray, rule: str) -> np.ndarray:
    """Raw values [..., H, W] -> float32 in [0, 1] by a rule of `value_rule`; exact zeros stay 0 (no-data).

    Converted in blocks of rows, so the temporaries stay small next to the float32 result.
    """
    out = np.empty(array.shape, dtype=np.float32)
    rows = max(1, VALUE_BLOCK_PIXELS // max(1, array.shape[-1]))
    for index in np.ndindex(array.shape[:-2]):
        for top in range(0, array.shape[-2], rows):
            out[index][top : top + rows] = convert_values(array[index][top : top + rows], rule)
    return out


def convert_values(array: np.ndarray, rule: str) -> np.ndarray:
    """One block of `apply_value_rule`."""
    values = np.asarray(array, dtype=np.float64 if array.dtype.kind == "f" else np.float32)
    if rule == "unit":
        return values.astype(np.float32)
    if rule == "byte":
        return (values / 255).astype(np.float32)
    if rule == "sixteen_bit":
        return (values / 65535).astype(np.float32)
    db = 20 * np.log10(np.maximum(values, 1)) - GRD_AMPLITUDE_CALIBRATION_DB if rule == "amplitude" else values
    return np.where(values != 0, db_to_quicklook(db) / np.float32(255), 0).astype(np.float32)


RULE_SCALES = {
    "byte": "8-bit (the quick-look scale, / 255)",
    "unit": "floats in [0, 1]",
    "sixteen_bit": "16-bit (/ 65535)",
    "amplitude": "uint16 amplitude DN -> sigma0 dB (nominal GRD calibration) on the quick-look scale",
    "db": "sigma0 dB on the quick-look scale",
}


def check_finite(array: np.ndarray) -> None:
    """Refuse float values that are NaN or infinite."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError("the image contains NaN or Inf values; replace them (no-data is exact 0)")


def to_unit_range(array: np.ndarray, domain: str) -> tuple[np.ndarray, str]:
    """Scale raw values to [0, 1] by dtype and value range (module docstring); float32 out, and the rule used."""
    check_value_type(array)
    check_finite(array)
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    rule = value_rule(array.dtype, low, high, domain)
    return apply_value_rule(array, rule), rule


def check_bands_and_size(image: np.ndarray, domain: str) -> None:
    bands, height, width = image.shape
    if bands != CHANNELS[domain]:
        need = "1 band (grayscale)" if domain == "mnist" else "2 bands (VV, VH)"
        raise InputError(f"got {bands} bands of {height} x {width}; {domain.upper()} input needs {need}")
    side = MIN_SIDE[domain]
    if min(height, width) < side:
        raise InputError(f"image of {height} x {width} is too small: at least {side} x {side} pixels are needed")


def check_has_data(pixels: np.ndarray) -> None:
    """Refuse an image whose every pixel is 0: no-data only, nothing to analyse."""
    if not pixels.any():
        raise InputError("every pixel is 0 (no-data): the image is empty; give one with data")
