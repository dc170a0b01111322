"""Synthetic RFI stripes for any background: the synthetic recipe and the semi-synthetic injection share it.

RFI is additive, noise-like power. Calibrated on the published ClearSAR box statistics (PROVENANCE.md:
median box about 10 x 140 px, rows x columns) and the notes on real RFI (section 5 of reference.md):
- one emitter per patch, 1-6 stripes, most sharing the emitter's range span (repeated at several rows);
- width log-normal around 170 px (boxes come out near 140 once cut at seams); 75 % confined to one
  sub-swath (they stop at its seams);
- height log-normal around 7 rows (1 row up to 40), 10 % tall blocks of 30-150 rows; never more than
  half the width;
- a small tilt (rows per column, sd 0.015), dashed along range (70 % of those up to 20 rows, duty cycle
  near 0.4 as on the real patches) or continuous;
- intensity varying along the stripe (a smooth signal of 1-4 dB plus per-dash offsets), across its rows
  (a per-row offset and, for some, a brighter centre) and from pixel to pixel (its own gamma noise);
- polarisation, calibrated on the real RFI patches (VV unchanged in all 11 boxes): the ratio of
  RFI-to-background power between VV and VH is VH-dominant (90 %, VV 10-20 dB weaker) or equal (10 %,
  within 1.5 dB); the VV-dominant class is kept at probability 0;
- level: the dominant channel is `strength_db` above its local background, skewed towards faint (the
  low end plus the range times a uniform number to the 4th power: median 2.5 dB for the default 1-25 dB;
  real boxes: VH 90th percentile 5-40 grey levels above the rows around them, one saturating).

API:
- `draw_stripes(rng, swath_index, strength_db) -> (label int32 [H, W], rbr float32 [2, H, W], events)`:
  stripe number per pixel (0 = none), RFI-to-background power ratio per channel (VV, VH) and one dict per
  stripe (`row`, `col0`, `col1`, `height`, `tilt`, `level_db`, `pol_ratio_db` = 10 log10(rbr_VV / rbr_VH),
  `pol_class`, `confined`, `dashed`).
- `rfi_power(label, rbr, clean_power) -> float32 [2, H, W]`: absolute RFI power, each stripe scaled by the
  geometric mean of the clean power under it (so the same stripe stands out more over dark sea than over land).
- `exact_mask(clean, with_rfi, label) -> bool [H, W]`: the pixels where RFI was added AND the 8-bit
  image changed in at least one channel: injected pixels == mask, exactly.
- `visible_mask(clean_vh_db, with_rfi_vh_db, exact) -> bool [H, W]`: the exact pixels where the RFI raised VH
  by at least `VISIBLE_DB` (1 dB). Why 1 dB: at a quick-look's stretch (25-40 dB over 255 grey levels) 1 dB is
  6-10 grey levels, one to two standard deviations of the real backgrounds around the real boxes (3-10 grey
  levels); below it a stripe is lost in the speckle, and a change of a grey level or two is invisible. The
  exact pixels outside the visible mask are left out of every metric (neither positive nor negative).
"""

from __future__ import annotations

import numpy as np

from .backgrounds import smooth_line

POLARISATION_CLASSES = ("vh", "equal", "vv")
POLARISATION_PROBABILITIES = (0.90, 0.10, 0.00)  # real: all 11 boxes VH-only (docs/SAR_REALISM.md)
VISIBLE_DB = 1.0  # VH excess over the clean pixel that counts as visible RFI (module docstring)


def polarisation_ratio_db(rng: np.random.Generator, pol_class: str) -> float:
    """10 log10(rbr_VV / rbr_VH) for a class: negative = VH-dominant."""
    if pol_class == "vh":
        return -rng.uniform(10, 20)
    if pol_class == "vv":
        return rng.uniform(3, 10)
    return rng.uniform(-1.5, 1.5)


def stripe_span(rng: np.random.Generator, swath_index: np.ndarray) -> tuple[int, int, int | None]:
    """Columns [col0, col1) of an emitter and the sub-swath it is confined to (None: not confined)."""
    h, w = swath_index.shape
    width = int(np.clip(np.rint(np.exp(rng.normal(np.log(170), 0.7))), 8, w))
    if rng.random() < 0.75:
        row = int(rng.integers(0, h))
        swath = int(swath_index[row, rng.integers(0, w)])
        cols = np.flatnonzero(swath_index[row] == swath)
        width = min(width, int(cols[-1] + 1 - cols[0]))
        col0 = int(rng.integers(cols[0], cols[-1] + 2 - width))
        return col0, col0 + width, swath
    col0 = int(rng.integers(0, w - width + 1))
    return col0, col0 + width, None


def stripe_height(rng: np.random.Generator, h: int) -> int:
    if rng.random() < 0.10:
        return int(rng.integers(min(30, h), max(min(150, h // 2), min(30, h)) + 1))
    return int(np.clip(np.rint(np.exp(rng.normal(np.log(7), 0.8))), 1, min(40, h)))


def dash_gate(rng: np.random.Generator, n: int, height: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Which of n columns carry RFI, a dB offset per column (one per dash), and whether dashed (70 % of the
    stripes up to 20 rows tall, dashes 4-25 columns on and 8-40 off: a duty cycle near the real 0.4; taller
    blocks are continuous)."""
    if height > 20 or rng.random() >= 0.7:
        return np.ones(n, dtype=bool), np.zeros(n, dtype=np.float32), False
    gate, offsets, start = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float32), 0
    while start < n:
        stop = start + int(rng.uniform(4, 25))
        gate[start:stop], offsets[start:stop] = True, rng.normal(0, 2.0)
        start = stop + int(rng.uniform(8, 40))
    return gate, offsets, True


def one_stripe(rng: np.random.Generator, span: tuple[int, int, int | None], shape: tuple[int, int]) -> dict:
    """Geometry and dB modulation of one stripe inside its bounding box."""
    h, _ = shape
    col0, col1, swath = span
    height = min(stripe_height(rng, h), max(1, (col1 - col0) // 2))  # at least twice as wide as tall
    tilt = float(np.clip(rng.normal(0, 0.015), -0.05, 0.05))
    centre = rng.uniform(0, h)
    cols = np.arange(col0, col1)
    top = np.rint(centre - height / 2 + tilt * (cols - (col0 + col1) / 2)).astype(np.int64)
    row0, row1 = max(int(top.min()), 0), min(int(top.max()) + height, h)
    relative = np.arange(row0, row1)[:, None] - top[None, :]  # row within the stripe, [R, C]
    gate, dash_db, dashed = dash_gate(rng, col1 - col0, height)
    inside = (relative >= 0) & (relative < height) & gate[None, :]
    along = rng.uniform(1, 4) * smooth_line(rng, col1 - col0, rng.uniform(5, 60)) + dash_db
    per_row = rng.normal(0, rng.uniform(0.5, 3.0), size=height).astype(np.float32)
    position = np.clip(relative, 0, height - 1)
    centre_boost = rng.uniform(0, 4) if rng.random() < 0.3 else 0.0
    profile = -centre_boost * (2 * position / max(height - 1, 1) - 1) ** 2
    modulation = along[None, :] + per_row[position] + profile
    return {
        "rows": (row0, row1), "inside": inside, "modulation_db": modulation.astype(np.float32), "swath": swath,
        "row": float(centre), "col0": col0, "col1": col1, "height": height, "tilt": tilt, "dashed": dashed,
    }  # fmt: skip


def draw_stripes(
    rng: np.random.Generator, swath_index: np.ndarray, strength_db: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Stripe label map, RFI-to-background ratio [2, H, W] and stripe descriptions (module docstring)."""
    shape = swath_index.shape
    label, rbr = np.zeros(shape, dtype=np.int32), np.zeros((2, *shape), dtype=np.float32)
    pol_class = str(rng.choice(POLARISATION_CLASSES, p=POLARISATION_PROBABILITIES))
    pol_ratio = polarisation_ratio_db(rng, pol_class)
    emitter = stripe_span(rng, swath_index)
    events = []
    for number in range(1, 2 + min(int(rng.poisson(1.2)), 5)):
        stripe = one_stripe(rng, emitter if rng.random() < 0.6 else stripe_span(rng, swath_index), shape)
        (row0, row1), inside = stripe.pop("rows"), stripe.pop("inside")
        box = (slice(row0, row1), slice(stripe["col0"], stripe["col1"]))
        swath = stripe.pop("swath")
        if swath is not None:
            inside &= swath_index[box] == swath
        level = strength_db[0] + (strength_db[1] - strength_db[0]) * rng.random() ** 4
        ratio = pol_ratio + rng.uniform(-0.5, 0.5)
        looks = np.float32(rng.uniform(5, 30))
        dominant = (10 ** (level / 10) - 1) * 10 ** (stripe.pop("modulation_db") / 10)
        dominant *= rng.standard_gamma(looks, size=dominant.shape, dtype=np.float32) / looks
        weaker = dominant * np.float32(10 ** (-abs(ratio) / 10))
        for channel, values in enumerate((dominant, weaker) if ratio > 0 else (weaker, dominant)):
            rbr[channel][box] = np.where(inside, values, rbr[channel][box])
        label[box] = np.where(inside, number, label[box])
        events.append({**stripe, "level_db": float(level), "pol_ratio_db": float(ratio), "pol_class": pol_class,
                       "confined": swath is not None})  # fmt: skip
    return label, rbr, events


def rfi_power(label: np.ndarray, rbr: np.ndarray, clean_power: np.ndarray) -> np.ndarray:
    """Absolute RFI power [2, H, W]: each stripe's ratio times the geometric mean clean power under it."""
    counts = np.bincount(label.ravel())
    power = np.zeros_like(rbr)
    for channel in range(2):
        log_sum = np.bincount(label.ravel(), weights=np.log(clean_power[channel]).ravel(), minlength=counts.size)
        reference = np.exp(log_sum / np.maximum(counts, 1)).astype(np.float32)
        power[channel] = np.where(label > 0, rbr[channel] * reference[label], 0)
    return power


def visible_mask(clean_vh_db: np.ndarray, with_rfi_vh_db: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """bool [H, W]: the pixels of the exact mask where the RFI raised VH by at least VISIBLE_DB over the clean
    pixel (dB arrays [H, W], speckle included in both)."""
    return exact & (with_rfi_vh_db - clean_vh_db >= VISIBLE_DB)


def exact_mask(clean: np.ndarray, with_rfi: np.ndarray, label: np.ndarray) -> np.ndarray:
    """bool [H, W]: RFI added here and the uint8 [2, H, W] image changed in at least one channel."""
    return (label > 0) & (clean != with_rfi).any(axis=0)
