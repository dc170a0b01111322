"""RFI-free backgrounds of the quick-look recipe (`recipe="quicklook"` of `synthetic_sar`).

A Sentinel-1 quick-look is the product power-detected, averaged and decimated to about 340 x 500 px, so one
pixel covers roughly 0.5 km: speckle is averaged away (a high ENL), texture is terrain and sea state, an IW
product shows 3 sub-swaths (about 170 columns each), EW 5, stripmap 1. Rows are azimuth, columns range.

API (used by `synthetic_sar` and `sar_rfi`):
- `smooth_field(rng, shape, scale)`: zero-mean unit-std Gaussian random field, correlation ~`scale` px.
- `db_to_power(db)`.
- `Swaths(rng, shape, mode=None)`: sub-swath index and position across it per pixel (mode IW, EW or SM,
  drawn when not given).
- `background_db(rng, swaths) -> Background`: noise-free VV/VH dB with land, ships and the horizontal
  confounders (range-aligned coastlines, oceanic fronts, bright bursts) and their masks.
- `noise_floor(rng, swaths)`: additive thermal noise power per channel, scalloped in range and banded in
  azimuth per burst ("window blinds", staggered between sub-swaths).
- `stepped_nodata(rng, swaths)`: no-data at the start/end of a take, stepped per sub-swath, or at a
  range edge.
- `quicklook_speckle(rng, shape)`: multiplicative noise of a multi-looked, decimated pixel (ENL 80-400).
- `product_stretch(rng, vv_db, vh_db, valid)` / `apply_stretch(db, window)` / `invert_stretch(values, window)`:
  the per-product dB to 1..255 mapping (joint for both channels, or per channel, with clipping at either
  end and a gamma) and its inverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

QUICKLOOK_WIDTH = 500  # columns of one quick-look: sets the sub-swath width and incidence trend of any size


def db_to_power(db: np.ndarray) -> np.ndarray:
    return np.power(np.float32(10.0), np.asarray(db, dtype=np.float32) / np.float32(10.0))


@lru_cache(maxsize=32)
def frequency_grid(ph: int, pw: int, band: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of an rfft2 grid [ph, pw // 2 + 1] inside |f| <= band, and their radial frequency."""
    fy, fx = sp_fft.fftfreq(ph).astype(np.float32), sp_fft.rfftfreq(pw).astype(np.float32)
    rows, cols = np.flatnonzero(np.abs(fy) <= band), np.flatnonzero(fx <= band)
    return rows, cols, np.sqrt(fy[rows, None] ** 2 + fx[None, cols] ** 2)


def spectral_field(
    rng: np.random.Generator, shape: tuple[int, int], amplitude, pad: float, band: float = 0.5
) -> np.ndarray:
    """Zero-mean unit-std Gaussian field [H, W] with the radial amplitude spectrum `amplitude(f)` (f in
    cycles per pixel, zero above `band`), synthesised by one inverse FFT on a grid padded by `pad` px."""
    h, w = shape
    extra = int(min(pad, 4 * max(h, w)))
    ph, pw = sp_fft.next_fast_len(h + extra, real=True), sp_fft.next_fast_len(w + extra, real=True)
    rows, cols, radius = frequency_grid(ph, pw, float(band))
    noise = rng.standard_normal((2, rows.size, cols.size), dtype=np.float32)
    spectrum = np.zeros((ph, pw // 2 + 1), dtype=np.complex64)
    spectrum[np.ix_(rows, cols)] = (noise[0] + 1j * noise[1]) * amplitude(radius).astype(np.float32)
    spectrum[0, 0] = 0
    field = sp_fft.irfft2(spectrum, s=(ph, pw))[:h, :w].astype(np.float32)
    field -= field.mean()
    return field / (field.std() + np.float32(1e-6))


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Gaussian random field with correlation length ~`scale` px, zero mean and unit std, float32 [H, W]."""
    sigma = np.float32(scale / 2)
    band = min(0.5, 0.6 / float(sigma))  # the Gaussian spectrum is below 1e-3 beyond
    return spectral_field(rng, shape, lambda f: np.exp(-2 * (np.pi * sigma * f) ** 2), 2 * scale, band)


def smooth_line(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Smooth 1-D zero-mean unit-std signal of length n, float32."""
    return smooth_field(rng, (1, n), scale)[0]


def fractal_field(rng: np.random.Generator, shape: tuple[int, int], largest: float, roughness: float) -> np.ndarray:
    """Power-law field: structure from `largest` px down to single pixels, each octave's amplitude
    ~ scale**roughness (small roughness = rough texture); zero mean, unit std."""
    cutoff, exponent = np.float32(1 / largest), np.float32(-(roughness + 1) / 2)
    return spectral_field(rng, shape, lambda f: (f**2 + cutoff**2) ** exponent, largest)


class Swaths:
    """Sub-swaths of an IW (3), EW (5) or stripmap (1) quick-look; seams near-vertical with a small tilt."""

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int], mode: str | None = None) -> None:
        self.shape = shape
        self.mode = mode or str(rng.choice(["IW", "EW", "SM"], p=[0.75, 0.15, 0.10]))
        count = {"IW": 3, "EW": 5, "SM": 1}[self.mode]
        self.spacing = QUICKLOOK_WIDTH * rng.uniform(0.95, 1.1) / count
        offset = rng.uniform(0, self.spacing) if count > 1 else rng.uniform(-0.1, 0.1) * self.spacing
        tilt = rng.uniform(-0.03, 0.03)
        h, w = shape
        rows = np.arange(h, dtype=np.float32)[:, None] - h / 2
        shifted = np.arange(w, dtype=np.float32)[None, :] - offset - tilt * rows  # [H, W]
        if count == 1:  # one swath: no seams; position still runs across the range
            shifted = np.clip(shifted, 0, self.spacing * 0.999)
        self.index = np.floor(shifted / self.spacing).astype(np.int32)  # sub-swath number per pixel
        self.position = (shifted / self.spacing - self.index).astype(np.float32)  # 0..1 across it

    def seam_pixels(self, half_width: int = 1) -> np.ndarray:
        if self.mode == "SM":
            return np.zeros(self.shape, dtype=bool)
        distance = np.minimum(self.position, 1 - self.position) * self.spacing
        return distance <= half_width


@dataclass
class Background:
    vv_db: np.ndarray  # float32 [H, W], noise-free
    vh_db: np.ndarray
    land: np.ndarray  # bool [H, W]
    ships: np.ndarray
    confounders: np.ndarray  # bool [H, W]: horizontal structures that are not RFI


def range_aligned_boundary(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A near-horizontal curve: rows [W] of the boundary and bool [H, W] 'below it'."""
    h, w = shape
    row0 = rng.uniform(0.15, 0.85) * h
    slope = rng.normal(0, 0.04)
    wiggle = rng.uniform(1, 8) * smooth_line(rng, w, rng.uniform(20, 120))
    boundary = row0 + slope * (np.arange(w) - w / 2) + wiggle
    below = np.arange(h, dtype=np.float32)[:, None] > boundary[None, :]
    return boundary.astype(np.float32), below


def near_line(boundary: np.ndarray, h: int, half_width: float) -> np.ndarray:
    return np.abs(np.arange(h, dtype=np.float32)[:, None] - boundary[None, :]) <= half_width


def land_mask(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Land (bool [H, W]) and, for a range-aligned coastline, its boundary rows."""
    h, w = shape
    kind = rng.choice(["sea", "land", "coast", "range_coast"], p=[0.25, 0.35, 0.25, 0.15])
    if kind == "sea":
        return np.zeros(shape, dtype=bool), None
    if kind == "range_coast":
        boundary, below = range_aligned_boundary(rng, shape)
        return (below if rng.random() < 0.5 else ~below), boundary
    coast = fractal_field(rng, shape, rng.uniform(80, 250), rng.uniform(0.6, 1.0))
    if kind == "land":  # inland: lakes and rivers only
        return coast > np.quantile(coast, rng.uniform(0.0, 0.08)), None
    direction = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(direction) * xx + np.sin(direction) * yy) / max(h, w)
    coast = 2.5 * ramp + coast
    return coast > np.quantile(coast, 1 - rng.uniform(0.2, 0.8)), None


def sea_db(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Sea VV/VH dB: incidence-angle trend, wind texture, VH near the noise floor."""
    w = shape[1]
    trend = -rng.uniform(3.0, 8.0) * np.arange(w, dtype=np.float32)[None, :] / QUICKLOOK_WIDTH
    wind = rng.uniform(0.3, 1.2) * fractal_field(rng, shape, rng.uniform(20, 100), 0.8)
    vv = rng.uniform(-22, -8) + trend + wind
    vh = vv - rng.uniform(7, 11) + 1.5 * fractal_field(rng, shape, 20, 0.4)
    return vv, vh


def land_db(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Land VV/VH dB: fractal texture, relief shading (slopes facing the radar bright), towns."""
    texture = rng.uniform(1.5, 3.0) * fractal_field(rng, shape, rng.uniform(10, 40), rng.uniform(0.2, 0.6))
    elevation = fractal_field(rng, shape, rng.uniform(30, 120), rng.uniform(0.8, 1.3))
    slope = np.gradient(elevation, axis=1)  # towards the radar (near range, left) is bright
    strength = rng.uniform(2, 5) if rng.random() < 0.5 else rng.uniform(0, 1.5)  # mountains or plains
    relief = slope / (slope.std() + np.float32(1e-6)) * np.float32(strength)
    towns = smooth_field(rng, shape, rng.uniform(4, 12))
    town = towns > np.quantile(towns, 1 - rng.uniform(0.0, 0.03)) if rng.random() < 0.6 else np.zeros(shape, bool)
    vv = rng.uniform(-11, -5) + texture + np.clip(-relief, -6, 8) + np.where(town, rng.uniform(5, 12), 0)
    vh = vv - rng.uniform(5, 8) + 1.8 * fractal_field(rng, shape, 20, 0.4) - np.where(town, rng.uniform(0, 4), 0)
    return vv, vh


def add_ships(rng: np.random.Generator, vv: np.ndarray, vh: np.ndarray, sea: np.ndarray) -> np.ndarray:
    """Bright 1-3 px points over sea (in place, dB); returns their mask."""
    h, w = sea.shape
    ships = np.zeros((h, w), dtype=bool)
    if rng.random() >= 0.4:
        return ships
    n = 1 + rng.poisson(3)
    rows, cols = rng.integers(0, h - 1, n), rng.integers(0, w - 1, n)
    for r, c in zip(rows, cols, strict=True):
        if sea[r, c]:
            ships[r : r + int(rng.integers(1, 3)), c : c + int(rng.integers(1, 3))] = True
    peak = np.float32(rng.uniform(10, 25))
    vv += np.where(ships, peak, 0)
    vh += np.where(ships, peak - rng.uniform(3, 7), 0)
    return ships


def add_confounders(rng: np.random.Generator, bg: Background, swaths: Swaths) -> None:
    """Oceanic fronts and bright bursts: horizontal, not RFI, in both channels (in place, dB)."""
    h, w = swaths.shape
    if rng.random() < 0.3 and not bg.land.all():  # a front: a step and a thin line along range
        boundary, below = range_aligned_boundary(rng, (h, w))
        step, line_db = rng.uniform(-3, 3), rng.choice([-1, 1]) * rng.uniform(1, 4)
        line = near_line(boundary, h, rng.uniform(0.5, 2.0)) & ~bg.land
        change = np.where(below & ~bg.land, step, 0) + np.where(line, line_db, 0)
        bg.vv_db += change
        bg.vh_db += change * np.float32(rng.uniform(0.6, 1.2))
        bg.confounders |= line | (near_line(boundary, h, 2.0) & ~bg.land)
    if rng.random() < 0.25:  # a bright or dark burst: one burst period of one sub-swath (or all)
        period = rng.uniform(25, 60)
        row0 = int(rng.integers(0, max(h - 5, 1)))
        rows = (np.arange(h) >= row0) & (np.arange(h) < row0 + period)
        burst = rows[:, None] & ((swaths.index == rng.choice(np.unique(swaths.index))) | (rng.random() < 0.3))
        gain = np.float32(rng.choice([-1, 1]) * rng.uniform(1, 3))
        bg.vv_db += np.where(burst, gain, 0)
        bg.vh_db += np.where(burst, gain, 0)
        bg.confounders |= burst


def background_db(rng: np.random.Generator, swaths: Swaths) -> Background:
    """Noise-free VV/VH dB of land and sea, with ships and confounders; see the module docstring."""
    shape = swaths.shape
    land, coastline = land_mask(rng, shape)
    vv, vh = sea_db(rng, shape) if not land.all() else (np.zeros(shape, np.float32), np.zeros(shape, np.float32))
    if land.any():
        land_vv, land_vh = land_db(rng, shape)
        vv, vh = np.where(land, land_vv, vv), np.where(land, land_vh, vh)
    vv, vh = vv.astype(np.float32), vh.astype(np.float32)
    ships = add_ships(rng, vv, vh, ~land)
    confounders = near_line(coastline, shape[0], 2.0) if coastline is not None else np.zeros(shape, dtype=bool)
    bg = Background(vv, vh, land, ships, confounders)
    add_confounders(rng, bg, swaths)
    gains = rng.normal(0, 0.4, size=(2, 8)).astype(np.float32)  # per sub-swath calibration offsets (dB)
    bg.vv_db += gains[0][np.mod(swaths.index, 8)]
    bg.vh_db += gains[1][np.mod(swaths.index, 8)]
    return bg


def noise_floor(rng: np.random.Generator, swaths: Swaths) -> tuple[np.ndarray, np.ndarray, bool]:
    """Thermal noise power (VV, VH) [H, W] and whether it is banded in azimuth (burst 'window blinds')."""
    h, _ = swaths.shape
    scallop = 1.0 + rng.uniform(0.2, 1.5) * (2 * swaths.position - 1) ** 2
    banded = bool(rng.random() < 0.4)
    if banded:  # bursts staggered between sub-swaths: horizontal bands that stop at the seams
        period = rng.uniform(25, 60)
        phase = rng.uniform(0, period, size=8)[np.mod(swaths.index, 8)]
        wave = 0.5 + 0.5 * np.cos(2 * np.pi * (np.arange(h, dtype=np.float32)[:, None] - phase) / period)
        scallop = scallop * (1.0 + rng.uniform(0.05, 0.4) * wave ** rng.uniform(1, 3))
    vv = db_to_power(rng.uniform(-30, -24)) * scallop
    vh = db_to_power(rng.uniform(-29, -23)) * scallop
    return vv.astype(np.float32), vh.astype(np.float32), banded


def stepped_nodata(rng: np.random.Generator, swaths: Swaths) -> np.ndarray:
    """No-data (bool [H, W]): the stepped start/end of a take (each sub-swath ends at its own row, 15 %),
    or a straight or slanted margin at one range edge (15 %)."""
    h, w = swaths.shape
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    draw = rng.random()
    if draw < 0.15:
        ends = rng.uniform(0.02, 0.25) * h + rng.uniform(0, 25, size=8)
        end = ends[np.mod(swaths.index, 8)]
        return rows < end if rng.random() < 0.5 else rows >= h - end
    if draw < 0.30:
        edge = rng.uniform(3, 0.15 * w) + rng.normal(0, 0.05) * (rows - h / 2)
        return cols < edge if rng.random() < 0.5 else cols >= w - edge
    return np.zeros((h, w), dtype=bool)


def quicklook_speckle(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Residual speckle of a multi-looked, decimated pixel: mean 1, ENL drawn in 80..400 (at such ENL the
    gamma distribution is close to normal with sd 1 / sqrt(ENL), which is much faster to draw)."""
    looks = np.float32(np.exp(rng.uniform(np.log(80), np.log(400))))
    return np.maximum(1 + rng.standard_normal(shape, dtype=np.float32) / np.sqrt(looks), np.float32(0.05))


def product_stretch(rng: np.random.Generator, vv_db: np.ndarray, vh_db: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-product dB windows float32 [2, 3] = (low dB, high dB, gamma) per channel.

    Joint (one window for both channels, VH stays darker; 55 %) or per channel (each from its own
    quantiles, so VH may come out brighter than VV, as in real quick-looks). The window ends move
    randomly around the 1 % / 99 % quantiles, so some products clip dark areas or saturate bright ones."""
    quantiles = np.array([np.quantile(c[valid], [0.01, 0.99]) if valid.any() else (-30.0, 0.0) for c in (vv_db, vh_db)])
    if rng.random() < 0.55:
        low, high = quantiles[:, 0].min() - rng.uniform(-2, 6), quantiles[:, 1].max() + rng.uniform(0, 10)
        windows = [(low, high), (low, high)]
    else:
        offsets = [rng.uniform(0, 10), rng.uniform(-10, -2)]  # VH then comes out brighter, often saturated
        windows = [(q[0] - rng.uniform(-2, 10), q[1] + up) for q, up in zip(quantiles, offsets, strict=True)]
    gamma, least = np.exp(rng.normal(0, 0.2)), rng.uniform(20, 35)  # real stretches never span only a few dB
    widened = [(low - max(least - high + low, 0) / 2, high + max(least - high + low, 0) / 2) for low, high in windows]
    return np.array([(low, high, gamma) for low, high in widened], dtype=np.float32)


def apply_stretch(db: np.ndarray, window: np.ndarray) -> np.ndarray:
    """dB -> uint8 in 1..255 through one channel's (low, high, gamma) window; 0 stays for no-data."""
    low, high, gamma = (float(v) for v in window)
    unit = np.clip((np.asarray(db, dtype=np.float32) - low) / np.float32(high - low), 0, 1) ** np.float32(gamma)
    return np.rint(1 + 254 * unit).astype(np.uint8)


def invert_stretch(values: np.ndarray, window: np.ndarray) -> np.ndarray:
    """uint8 1..255 -> dB through one channel's (low, high, gamma) window; the inverse of `apply_stretch`
    (clipped values come back as the window's ends)."""
    low, high, gamma = (float(v) for v in window)
    unit = np.clip((np.asarray(values, dtype=np.float32) - 1) / 254, 0, 1) ** np.float32(1 / gamma)
    return np.float32(low) + unit * np.float32(high - low)
