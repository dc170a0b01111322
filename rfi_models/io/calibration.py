"""Sentinel-1 GRD measurement GeoTIFFs (uint16 amplitude DN) to sigma0 with the product's calibration LUT.

sigma0 = (DN^2 - noise) / A^2, with A the `sigmaNought` LUT of `annotation/calibration/calibration-*.xml` and
noise the thermal-noise LUT of `noise-*.xml` (range vectors times azimuth blocks, when present), both
interpolated linearly over lines and pixels (ESA's "Sentinel-1 Level-1 calibration" note). Scenes over the
readers' pixel limit are multi-looked: sigma0 averaged in linear power over k x k blocks, read a band of rows
at a time so that a whole GRD scene never sits in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import numpy as np

from ..data.quicklook_scale import db_to_quicklook
from .limits import MAX_PIXELS, InputError

BLOCK_PIXELS = 1 << 22  # DN read at a time
MIN_SIGMA0 = 1e-6  # -60 dB: where noise removal leaves nothing, below the quick-look scale's floor


def numbers(element: Element | None, tag: str) -> np.ndarray:
    found = element.find(tag) if element is not None else None
    if found is None or not (found.text or "").strip():
        raise InputError(f"the calibration annotation has no <{tag}>; the product is incomplete")
    return np.asarray(found.text.split(), dtype=np.float64)


@dataclass
class Lut:
    """A LUT given on a grid of lines (one vector each) and pixels, interpolated linearly in both."""

    lines: np.ndarray  # [n]
    per_vector: list[tuple[np.ndarray, np.ndarray]]  # (pixels, values) of each line's vector

    @classmethod
    def parse(cls, root: Element, vector_tag: str, value_tag: str) -> Lut:
        vectors = root.findall(f".//{vector_tag}")
        if not vectors:
            raise InputError(f"the annotation has no <{vector_tag}>; the product is incomplete")
        lines = np.asarray([numbers(v, "line")[0] for v in vectors])
        pairs = [(numbers(v, "pixel"), numbers(v, value_tag)) for v in vectors]
        if any(len(p) != len(values) or len(p) == 0 for p, values in pairs) or np.any(np.diff(lines) <= 0):
            raise InputError(f"the <{vector_tag}> list is malformed (lengths or line order); the product is corrupt")
        return cls(lines, pairs)

    def at(self, rows: np.ndarray, width: int) -> np.ndarray:
        """The LUT at image rows `rows` and columns 0..width-1 -> float64 [len(rows), width]."""
        columns = np.arange(width)
        table = np.stack([np.interp(columns, pixels, values) for pixels, values in self.per_vector])
        if len(self.lines) == 1:
            return np.repeat(table, len(rows), axis=0)
        below = np.clip(np.searchsorted(self.lines, rows, side="right") - 1, 0, len(self.lines) - 2)
        span = self.lines[below + 1] - self.lines[below]
        weight = np.clip((rows - self.lines[below]) / span, 0.0, 1.0)[:, None]
        return (1 - weight) * table[below] + weight * table[below + 1]


@dataclass
class AzimuthBlock:
    first_line: int
    last_line: int
    first_pixel: int
    last_pixel: int
    lines: np.ndarray
    values: np.ndarray


@dataclass
class Calibration:
    sigma: Lut
    noise_range: Lut | None = None
    noise_azimuth: tuple[AzimuthBlock, ...] = ()

    @classmethod
    def parse(cls, calibration: Element, noise: Element | None) -> Calibration:
        sigma = Lut.parse(calibration, "calibrationVector", "sigmaNought")
        if noise is None:
            return cls(sigma)
        ranged = noise.find(".//noiseRangeVector") is not None  # IPF 2.9 on; older products have noiseVector
        noise_range = Lut.parse(
            noise, *(("noiseRangeVector", "noiseRangeLut") if ranged else ("noiseVector", "noiseLut"))
        )
        blocks = tuple(
            AzimuthBlock(
                *(
                    int(numbers(v, tag)[0])
                    for tag in ("firstAzimuthLine", "lastAzimuthLine", "firstRangeSample", "lastRangeSample")
                ),
                numbers(v, "line"),
                numbers(v, "noiseAzimuthLut"),
            )
            for v in noise.findall(".//noiseAzimuthVector")
        )
        return cls(sigma, noise_range, blocks)

    def noise_at(self, rows: np.ndarray, width: int) -> np.ndarray:
        noise = self.noise_range.at(rows, width)
        for block in self.noise_azimuth:
            inside = (rows >= block.first_line) & (rows <= block.last_line)
            if inside.any():
                scale = np.interp(rows[inside], block.lines, block.values)[:, None]
                noise[inside, block.first_pixel : block.last_pixel + 1] *= scale
        return noise

    def sigma0(self, dn: np.ndarray, top: int, denoise: bool) -> np.ndarray:
        """uint16 DN rows [h, W] starting at image row `top` -> sigma0, linear, float64 [h, W]."""
        rows = np.arange(top, top + dn.shape[0], dtype=np.float64)
        power = dn.astype(np.float64) ** 2
        if denoise and self.noise_range is not None:
            power = power - self.noise_at(rows, dn.shape[1])
        return np.maximum(power, 0) / self.sigma.at(rows, dn.shape[1]) ** 2


def look_factor(height: int, width: int, limit: int = MAX_PIXELS) -> int:
    """The smallest k for which a k x k multi-look of height x width fits in `limit` pixels."""
    return max(1, math.ceil(math.sqrt(height * width / limit)))


def multilook(sigma0: np.ndarray, valid: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean sigma0 over the valid pixels of each k x k block, and whether a block holds any valid pixel."""
    h, w = sigma0.shape[0] // k, sigma0.shape[1] // k
    blocks = (slice(0, h * k), slice(0, w * k))
    total = np.where(valid, sigma0, 0)[blocks].reshape(h, k, w, k).sum(axis=(1, 3))
    count = valid[blocks].reshape(h, k, w, k).sum(axis=(1, 3))
    return total / np.maximum(count, 1), count > 0


def to_quicklook_unit(sigma0: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear sigma0 -> [0, 1] on the 8-bit quick-look scale (dB, as the models see it); no-data stays 0."""
    db = 10 * np.log10(np.maximum(sigma0, MIN_SIGMA0))
    return np.where(valid, db_to_quicklook(db) / np.float32(255), 0).astype(np.float32)


def calibrated_band(dataset, calibration: Calibration, denoise: bool, k: int) -> np.ndarray:
    """One measurement band (an open rasterio dataset of uint16 DN) -> float32 [H // k, W // k] in [0, 1]."""
    from rasterio.windows import Window

    height, width = dataset.height, dataset.width
    out = np.zeros((height // k, width // k), dtype=np.float32)
    rows = max(k, BLOCK_PIXELS // max(width, 1) // k * k)
    for top in range(0, height // k * k, rows):
        count = min(rows, height // k * k - top)
        dn = dataset.read(1, window=Window(0, top, width, count))
        sigma0, valid = calibration.sigma0(dn, top, denoise), dn != 0
        if k > 1:
            sigma0, valid = multilook(sigma0, valid, k)
        out[top // k : (top + count) // k] = to_quicklook_unit(sigma0, valid)
    return out
