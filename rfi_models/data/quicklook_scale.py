"""The 8-bit quick-look scale of Sentinel-1 patches: backscatter in dB mapped linearly to 1..255.

0 is reserved for no-data, as in real products. Every path that turns calibrated data into the
[0, 1] images the models see (the synthetic generator, the readers for uint16 and dB inputs) goes
through these two functions, so all of them agree on what a pixel value means.
"""

from __future__ import annotations

import numpy as np

DB_MIN = -35.0  # dB mapped to 1 (darkest valid value)
DB_MAX = 5.0  # dB mapped to 255 (saturation)


def valid_pixels(images: np.ndarray) -> np.ndarray:
    """bool [..., H, W]: False on no-data, where every channel is exactly 0. images: [..., C, H, W]."""
    return np.any(np.asarray(images) != 0, axis=-3)


def db_to_quicklook(db: np.ndarray) -> np.ndarray:
    """Backscatter in dB -> uint8 in 1..255 (clipped). No-data must be set to 0 by the caller."""
    scaled = 1.0 + (np.asarray(db, dtype=np.float32) - DB_MIN) * (254.0 / (DB_MAX - DB_MIN))
    return np.clip(np.rint(scaled), 1, 255).astype(np.uint8)


def quicklook_to_db(values: np.ndarray) -> np.ndarray:
    """uint8 1..255 (or [0, 1] floats times 255) -> dB; the inverse of `db_to_quicklook`."""
    return DB_MIN + (np.asarray(values, dtype=np.float32) - 1.0) * ((DB_MAX - DB_MIN) / 254.0)
