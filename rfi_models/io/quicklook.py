"""Sentinel-1 quick-looks (a SAFE product's `preview/quick-look.png`, or any RGB PNG/JPEG) read as dual-pol SAR.

ESA's format documentation: red is the first polarisation (VV or HH), green the second (VH or HV), blue an
average of the two. Red and green become the (co-pol, cross-pol) bands the models take; blue is dropped.
The colour stretch is the processor's own and varies between processor versions, so values are taken as
they are (the 8-bit quick-look scale), not re-stretched. Single-pol products have a grey quick-look: refused.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from .decoders import decode_pil
from .info import ReadInfo
from .limits import InputError

PRODUCT_CODE = re.compile(r"_1S([SD])([VH])_")  # e.g. S1A_IW_GRDH_1SDV_...: single/dual, VV/HH first
POLARISATIONS = {"V": ("VV", "VH"), "H": ("HH", "HV")}
UNKNOWN_POLARISATIONS = ("co-pol", "cross-pol")
SINGLE_POL = (
    "two polarisations are needed (co-pol and cross-pol: VV/VH or HH/HV): give a dual-pol (1SDV, 1SDH) quick-look "
    "or SAFE product, or a 2-band .npy/.npz or TIFF"
)
QUICKLOOK_SCALE = "quick-look 8-bit (the processor's own stretch)"


def polarisations_from_name(name: str) -> tuple[str, ...] | None:
    """("VV", "VH") or ("HH", "HV") from a Sentinel-1 product code in `name` (1SDV, 1SDH); None if there is none.

    A single-pol code (1SSV, 1SSH) is refused."""
    found = PRODUCT_CODE.search(name.upper())
    if found is None:
        return None
    if found.group(1) == "S":
        raise InputError(f"{name} is a single-polarisation product (1SS{found.group(2)}); {SINGLE_POL}")
    return POLARISATIONS[found.group(2)]


def rgb(image: Image.Image) -> np.ndarray:
    """A PIL image -> uint8 [H, W, 3]; a grey image (a single-pol quick-look) is refused."""
    if image.mode in ("L", "LA", "1", "I", "I;16", "F"):
        raise InputError(f"this is a grey (single-polarisation) image; {SINGLE_POL}")
    return np.asarray(image.convert("RGB"))


def quicklook_bands(data: bytes, name: str = "") -> tuple[np.ndarray, tuple[str, ...], list[str]]:
    """PNG/JPEG bytes -> uint8 [2, H, W] (co-pol, cross-pol), their polarisations and notes."""
    named = polarisations_from_name(name)
    pixels = decode_pil(data, rgb)
    bands = np.ascontiguousarray(np.moveaxis(pixels[..., :2], -1, 0))
    if np.array_equal(bands[0], bands[1]) and np.array_equal(pixels[..., 0], pixels[..., 2]):
        raise InputError(f"the image is grey (red = green = blue everywhere): one polarisation only; {SINGLE_POL}")
    notes = ["a preview: the product's decimated, 8-bit quick-look (red = co-pol, green = cross-pol, blue dropped)"]
    if named is None:
        notes.append("polarisations not stated (no Sentinel-1 product code such as 1SDV in the name): "
                     "red taken as co-pol, green as cross-pol")  # fmt: skip
    return bands, named or UNKNOWN_POLARISATIONS, notes


def quicklook_info(bands: np.ndarray, polarisations: tuple[str, ...], notes: list[str], fmt: str) -> ReadInfo:
    return ReadInfo(fmt, polarisations, tuple(bands.shape[1:]), QUICKLOOK_SCALE, notes=tuple(notes))
