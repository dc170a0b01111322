"""Pure functions from arrays to things a page shows: display images, false colour, heat maps, overlays.

Nothing here knows about Streamlit; every function takes arrays and returns arrays (uint8 images ready for
display) or a plotly figure.
"""

from __future__ import annotations

import numpy as np

from .data.quicklook import quicklook_to_db


def to_uint8(gray: np.ndarray) -> np.ndarray:
    """[H, W] in [0, 1] -> uint8 [H, W]."""
    return np.clip(np.rint(np.asarray(gray, dtype=np.float32) * 255), 0, 255).astype(np.uint8)


def false_colour(image: np.ndarray) -> np.ndarray:
    """SAR [2, H, W] (VV, VH) in [0, 1] -> uint8 RGB [H, W, 3]: R = VV, G = VH, B = VV - VH (dB), no-data black.

    The usual Sentinel-1 dual-pol composite: sea dark blue-ish, land green-yellow, RFI (VH only) green.
    """
    vv, vh = image[0], image[1]
    ratio_db = quicklook_to_db(vv * 255) - quicklook_to_db(vh * 255)  # typically 0..15 dB
    blue = np.clip(ratio_db / 15.0, 0, 1)
    rgb = np.stack([vv, vh, blue], axis=-1)
    rgb[(vv == 0) & (vh == 0)] = 0
    return to_uint8(rgb)


def channel_views(image: np.ndarray, domain: str) -> list[tuple[str, np.ndarray]]:
    """[(caption, uint8 image)] to show one image: the digit, or VV, VH and the false-colour composite."""
    if domain == "mnist":
        return [("digit", to_uint8(image[0]))]
    return [("VV", to_uint8(image[0])), ("VH", to_uint8(image[1])), ("false colour", false_colour(image))]


def heat_colours(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """[H, W] non-negative values -> uint8 RGB with a black-red-yellow-white ramp; NaN shown grey."""
    finite = np.isfinite(values)
    top = vmax if vmax is not None else (float(np.nanpercentile(values, 99.5)) if finite.any() else 1.0)
    t = np.clip(np.where(finite, values, 0) / max(top, 1e-12), 0, 1)
    rgb = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1)], axis=-1)
    rgb[~finite] = 0.5
    return to_uint8(rgb)


def overlay(background: np.ndarray, heat: np.ndarray, opacity: float) -> np.ndarray:
    """Blend a uint8 heat image [H, W, 3] over a gray uint8 background [H, W] with `opacity` in [0, 1]."""
    base = np.repeat(background[..., None], 3, axis=-1).astype(np.float32)
    return np.clip((1 - opacity) * base + opacity * heat.astype(np.float32), 0, 255).astype(np.uint8)


def mask_overlay(background: np.ndarray, mask: np.ndarray, colour=(255, 0, 255), opacity: float = 0.6) -> np.ndarray:
    """Gray uint8 [H, W] with the bool mask [H, W] painted in `colour`."""
    rgb = np.repeat(background[..., None], 3, axis=-1).astype(np.float32)
    rgb[mask] = (1 - opacity) * rgb[mask] + opacity * np.asarray(colour, dtype=np.float32)
    return rgb.astype(np.uint8)
