"""The first synthetic Sentinel-1 recipe (`recipe="legacy"` of `synthetic_sar`), kept unchanged so that
results recorded on it stay reproducible and the realism comparison can show what the new recipe changed.

API: `legacy_patch(seed_sequence, height, width, rfi_probability, rfi_strength_db) -> dict` of the
`SarPatch` fields (image, rfi, land, ships, seams, nodata); `synthetic_sar` wraps it.

Per patch, in order:
1. Sub-swath seams: near-vertical lines (small tilt) repeating every 500-1200 columns; each sub-swath
   has its own gain offset, and the VH noise floor rises towards its edges (scalloping / banding).
2. Sea: VV -20..-10 dB with a range trend (incidence angle) and low-frequency wind texture;
   VH 6-10 dB darker, often at the noise floor.
3. Land (30 % of patches): a bright, textured region with a smooth coastline.
4. Ships (half of the patches): small bright elongated blobs over sea, bright in both channels.
5. RFI (`rfi_probability` of patches): additive noise-like power in horizontal bands 2-30 rows
   tall, one to five bands per patch, all inside one sub-swath (they stop at its seams), dashed along
   range or continuous, `rfi_strength_db` above the VH background in VH and 6-12 dB weaker in VV.
6. Speckle: multiplicative, single-look gamma noise smoothed to an ENL of about 4.4 with spatial
   correlation, independent per channel.
7. Quantisation to the fixed -35..5 dB quick-look scale, and no-data (20 % of patches): exact zeros in a
   staircase at one image edge.

Its shortcomings (issue 11) are why `backgrounds` exists: RFI always VH-dominant, perfectly horizontal
constant-level rectangles, nothing else horizontal, full-resolution speckle at quick-look seam spacing,
and a fixed stretch.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .backgrounds import db_to_power
from .quicklook_scale import db_to_quicklook


def legacy_field(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Gaussian random field with correlation length ~`scale` px, zero mean and unit std, float32."""
    h, w = shape
    coarse = rng.standard_normal((int(np.ceil(h / scale)) + 4, int(np.ceil(w / scale)) + 4))
    field = ndimage.zoom(coarse, scale, order=3, prefilter=False)[:h, :w]
    field = field - field.mean()
    return (field / (field.std() + 1e-12)).astype(np.float32)


class SwathLayout:
    """Sub-swath seams repeating every `spacing` columns from `offset`, tilted by `tilt` columns per row."""

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.spacing = rng.uniform(500, 1200)
        self.offset = rng.uniform(0, self.spacing)
        self.tilt = rng.uniform(-0.04, 0.04)
        h, w = shape
        rows = np.arange(h, dtype=np.float32)[:, None] - h / 2
        cols = np.arange(w, dtype=np.float32)[None, :]
        shifted = cols - self.offset - self.tilt * rows  # [H, W]
        self.index = np.floor(shifted / self.spacing).astype(np.int32)  # sub-swath number per pixel
        self.position = (shifted / self.spacing - self.index).astype(np.float32)  # 0..1 across its sub-swath

    def seam_pixels(self, half_width: int = 2) -> np.ndarray:
        distance = np.minimum(self.position, 1 - self.position) * self.spacing
        return distance <= half_width


def sea_and_land_db(rng: np.random.Generator, layout: SwathLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free backscatter (VV dB, VH dB, land mask), each [H, W]."""
    h, w = layout.shape
    range_trend = rng.uniform(-3.0, -0.5) * np.arange(w, dtype=np.float32)[None, :] / max(w, 500)
    wind = rng.uniform(0.3, 1.5) * legacy_field(rng, (h, w), rng.uniform(40, 120))
    ripples = 0.4 * legacy_field(rng, (h, w), 10)
    vv = rng.uniform(-20, -10) + range_trend + wind + ripples
    vh = vv - rng.uniform(6, 10) + 0.5 * legacy_field(rng, (h, w), 30)

    land = np.zeros((h, w), dtype=bool)
    if rng.random() < 0.3:
        direction = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (np.cos(direction) * xx + np.sin(direction) * yy) / max(h, w)
        coast = 3.0 * ramp + 0.8 * legacy_field(rng, (h, w), rng.uniform(60, 160))
        land = coast > np.quantile(coast, 1 - rng.uniform(0.1, 0.6))
        texture = 2.5 * legacy_field(rng, (h, w), rng.uniform(8, 20)) + 1.5 * legacy_field(rng, (h, w), 3)
        land_vv = rng.uniform(-10, -5) + texture
        vv = np.where(land, land_vv, vv)
        vh = np.where(land, land_vv - rng.uniform(5, 8), vh)

    gains = rng.normal(0, 0.8, size=8)  # per sub-swath gain offsets (dB)
    step = gains[np.mod(layout.index, 8)]
    return (vv + step).astype(np.float32), (vh + step + rng.normal(0, 0.3)).astype(np.float32), land


def add_ships(rng: np.random.Generator, vv: np.ndarray, vh: np.ndarray, land: np.ndarray) -> np.ndarray:
    """Add bright elongated blobs over sea to VV/VH power (in place); returns the ship mask."""
    h, w = land.shape
    ships = np.zeros((h, w), dtype=bool)
    if rng.random() >= 0.5:
        return ships
    for _ in range(1 + rng.poisson(1.5)):
        r, c = rng.integers(0, h), rng.integers(0, w)
        if land[r, c]:
            continue
        length, width, angle = rng.uniform(2, 7), rng.uniform(0.8, 2), rng.uniform(0, np.pi)
        radius = int(np.ceil(3 * length))
        r0, r1, c0, c1 = max(r - radius, 0), min(r + radius + 1, h), max(c - radius, 0), min(c + radius + 1, w)
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float32)
        along = (xx - c) * np.cos(angle) + (yy - r) * np.sin(angle)
        across = -(xx - c) * np.sin(angle) + (yy - r) * np.cos(angle)
        blob = np.exp(-0.5 * ((along / length) ** 2 + (across / width) ** 2))
        vv_peak = db_to_power(rng.uniform(-6, 3))
        vv[r0:r1, c0:c1] += vv_peak * blob
        vh[r0:r1, c0:c1] += vv_peak * db_to_power(-rng.uniform(3, 7)) * blob
        ships[r0:r1, c0:c1] |= blob > 0.1
    return ships


def rfi_bands(
    rng: np.random.Generator, layout: SwathLayout, valid_reference: np.ndarray, strength_db: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RFI power to add (VV, VH) and its mask, all [H, W]; every band lies in one sub-swath.

    valid_reference: VH power of the patch, whose median sets the RFI level.
    """
    h, w = layout.shape
    mask = np.zeros((h, w), dtype=bool)
    level = np.zeros((h, w), dtype=np.float32)  # dB above the VH background, where mask
    swaths, counts = np.unique(layout.index, return_counts=True)
    target = rng.choice(swaths, p=counts / counts.sum())
    in_swath = layout.index == target
    for _ in range(min(1 + rng.poisson(1.0), 5)):
        height = round(np.exp(rng.uniform(np.log(2), np.log(30))))
        row0 = int(rng.integers(0, max(h - height, 0) + 1))
        cols = np.flatnonzero(in_swath[row0 : row0 + height].any(axis=0))
        if cols.size == 0:
            continue
        first, last = cols[0], cols[-1] + 1
        if rng.random() < 0.5:  # only part of the sub-swath
            span = last - first
            keep = int(span * rng.uniform(0.3, 1.0))
            first = first + int(rng.integers(0, span - keep + 1))
            last = first + keep
        band = np.zeros(w, dtype=bool)
        band_level = np.zeros(w, dtype=np.float32)
        event_db = rng.uniform(*strength_db)
        dashed = rng.random() < 0.6
        start = first
        while start < last:
            block = int(rng.uniform(10, 80)) if dashed else last - start
            stop = min(start + block, last)
            band[start:stop] = True
            band_level[start:stop] = np.clip(event_db + rng.normal(0, 1.0), strength_db[0], None)
            start = stop + (int(rng.uniform(5, 40)) if dashed else 0)
        rows = slice(row0, row0 + height)
        hit = band[None, :] & in_swath[rows]
        mask[rows] |= hit
        level[rows] = np.where(hit, band_level[None, :], level[rows])

    reference = np.float32(np.median(valid_reference))
    vh_power = np.where(mask, reference * (db_to_power(level) - 1), 0).astype(np.float32)
    vv_power = vh_power * db_to_power(-rng.uniform(6, 12))
    return vv_power, vh_power, mask


def speckle(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Spatially correlated multiplicative speckle, mean 1, ENL about 4.4 (GRD-H)."""
    single_look = rng.exponential(1.0, size=shape).astype(np.float32)
    return ndimage.gaussian_filter(single_look, sigma=0.62)


def staircase_nodata(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """No-data at one image edge (20 % of patches), with a staircase boundary; bool [H, W]."""
    h, w = shape
    nodata = np.zeros(shape, dtype=bool)
    if rng.random() >= 0.2:
        return nodata
    side = rng.choice(["left", "right", "top", "bottom"], p=[0.35, 0.35, 0.15, 0.15])
    along, across = (h, w) if side in ("left", "right") else (w, h)
    depth0, slope = rng.uniform(5, 0.3 * across), rng.uniform(-0.4, 0.4)
    boundary = np.empty(along, dtype=np.int64)
    start = 0
    while start < along:
        stop = start + int(rng.uniform(10, 40))
        boundary[start:stop] = int(np.clip(depth0 + slope * start, 1, across - 1))
        start = stop
    edge = np.arange(across)[None, :] < boundary[:, None]  # [along, across], True near the edge
    if side in ("right", "bottom"):
        edge = edge[:, ::-1]
    return edge if side in ("left", "right") else edge.T


def legacy_patch(
    seed_sequence: np.random.SeedSequence,
    height: int,
    width: int,
    rfi_probability: float,
    rfi_strength_db: tuple[float, float],
) -> dict[str, np.ndarray]:
    """One patch of the legacy recipe from its own seed sequence, as a dict of `SarPatch` fields."""
    background_rng, speckle_rng, rfi_rng, nodata_rng = (np.random.default_rng(s) for s in seed_sequence.spawn(4))
    layout = SwathLayout(background_rng, (height, width))
    vv_db, vh_db, land = sea_and_land_db(background_rng, layout)
    vv, vh = db_to_power(vv_db), db_to_power(vh_db)
    ships = add_ships(background_rng, vv, vh, land)

    # Additive thermal noise: NESZ with scalloping towards each sub-swath's edges (VH banding at seams).
    scallop = 1.0 + 2.0 * (layout.position - 0.5) ** 2
    vv += db_to_power(background_rng.uniform(-32, -28)) * scallop
    vh += db_to_power(background_rng.uniform(-29, -25)) * scallop

    rfi = np.zeros((height, width), dtype=bool)
    if rfi_rng.random() < rfi_probability:
        rfi_vv, rfi_vh, rfi = rfi_bands(rfi_rng, layout, vh, rfi_strength_db)
        vv, vh = vv + rfi_vv, vh + rfi_vh

    nodata = staircase_nodata(nodata_rng, (height, width))
    channels = [db_to_quicklook(10 * np.log10(power * speckle(speckle_rng, power.shape))) for power in (vv, vh)]
    image = np.stack(channels)
    image[:, nodata] = 0
    return {"image": image, "rfi": rfi & ~nodata, "land": land, "ships": ships, "seams": layout.seam_pixels(),
            "nodata": nodata}  # fmt: skip
