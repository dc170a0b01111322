"""Synthetic dual-polarisation (VV, VH) Sentinel-1 quick-look patches with pixel-exact RFI masks.

API (channel 0 = VV, 1 = VH; rows = azimuth, columns = ground range; 0 = no-data):
- `synthetic_sar(n, height=340, width=500, seed=0, rfi_probability=0.5, rfi_strength_db=(1, 25),
  recipe="quicklook") -> (images float32 [N, 2, H, W] in [0, 1], rfi bool [N, H, W])`.
- `synthetic_sar_truth(...)` (same arguments) -> the same plus the visible mask (VH raised by at least
  `sar_rfi.VISIBLE_DB`), bool [N, H, W];
- `synthetic_sar_patches(...)` (same arguments) -> list of `SarPatch` with every truth mask;
  `iter_synthetic_sar_patches(...)` yields them one at a time.
- `synthetic_patch(seed_sequence, height, width, rfi_probability, rfi_strength_db, recipe)`: one patch.
- `GENERATOR_VERSION`: changes whenever a recipe's output changes (put it in cache keys).
Patch i depends only on (seed, i, recipe) and switching RFI off leaves the rest of the patch unchanged,
pixel for pixel (the background, speckle, RFI and no-data draw from separate random streams).

Recipes:
- "quicklook" (default): what a real quick-look shows at about 0.5 km per pixel (`backgrounds`): IW/EW/stripmap
  sub-swaths, fractal land texture with relief and towns, sea with wind texture, multi-looked speckle
  (ENL 80-400), horizontal structures that are NOT RFI and never in the mask (noise-floor banding per burst,
  bright/dark bursts, stepped take ends, range-aligned coastlines and oceanic fronts), a per-product
  dB-to-8-bit stretch, and RFI stripes from `sar_rfi` (VH-dominant, equal or VV-dominant, tilted, varying
  along and across, 1 row to tall blocks). The mask is exactly the pixels where RFI power was added and
  the 8-bit image changed: `(with RFI != without RFI).any(channel) == mask`.
- "legacy": the first recipe (`sar_legacy`), for reproducing results recorded on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .backgrounds import (
    Swaths,
    apply_stretch,
    background_db,
    db_to_power,
    noise_floor,
    product_stretch,
    quicklook_speckle,
    stepped_nodata,
)
from .sar_legacy import legacy_patch
from .sar_rfi import draw_stripes, exact_mask, rfi_power, visible_mask

SAR_SIZE = (340, 500)
DEFAULT_RFI_STRENGTH_DB = (1.0, 25.0)
GENERATOR_RECIPES = ("quicklook", "legacy")
GENERATOR_VERSION = 6
# Seeds of the standard synthetic sets; disjoint by purpose (the test set is never trained or tuned on).
SPLIT_SEEDS = {"train": 1000, "val": 2000, "test": 3000}
# Per-channel statistics of generated patches (legacy recipe, 64 patches, seed 123), for input normalisation.
SAR_MEAN = (0.49, 0.34)
SAR_STD = (0.14, 0.12)


@dataclass
class SarPatch:
    """One synthetic patch and the truth about it. All masks are bool [H, W]."""

    image: np.ndarray  # uint8 [2, H, W], channel 0 = VV, 1 = VH, 0 = no-data
    rfi: np.ndarray
    land: np.ndarray
    ships: np.ndarray
    seams: np.ndarray  # pixels next to a sub-swath seam
    nodata: np.ndarray
    confounders: np.ndarray | None = None  # horizontal non-RFI structures (quicklook recipe)
    stretch: np.ndarray | None = None  # float32 [2, 3]: (low dB, high dB, gamma) per channel (quicklook)
    rfi_events: list[dict] = field(default_factory=list)  # one dict per stripe, see sar_rfi.draw_stripes
    rfi_visible: np.ndarray | None = None  # the RFI pixels with VH raised by >= VISIBLE_DB (None: legacy = rfi)

    @property
    def visible(self) -> np.ndarray:
        return self.rfi if self.rfi_visible is None else self.rfi_visible


def quicklook_patch(
    seed_sequence: np.random.SeedSequence,
    height: int,
    width: int,
    rfi_probability: float,
    rfi_strength_db: tuple[float, float],
) -> SarPatch:
    """One patch of the quick-look recipe (module docstring)."""
    background_rng, speckle_rng, rfi_rng, nodata_rng = (np.random.default_rng(s) for s in seed_sequence.spawn(4))
    swaths = Swaths(background_rng, (height, width))
    bg = background_db(background_rng, swaths)
    noise_vv, noise_vh, _ = noise_floor(background_rng, swaths)
    clean = np.stack([db_to_power(bg.vv_db) + noise_vv, db_to_power(bg.vh_db) + noise_vh])
    nodata = stepped_nodata(nodata_rng, swaths)
    speckle = np.stack([quicklook_speckle(speckle_rng, (height, width)) for _ in range(2)])
    clean_db = 10 * np.log10(clean * speckle)
    stretch = product_stretch(background_rng, clean_db[0], clean_db[1], ~nodata)
    image = np.stack([apply_stretch(clean_db[c], stretch[c]) for c in range(2)])
    image[:, nodata] = 0

    rfi, events = np.zeros((height, width), dtype=bool), []
    visible = rfi
    if rfi_rng.random() < rfi_probability:
        label, rbr, events = draw_stripes(rfi_rng, swaths.index, rfi_strength_db)
        label[nodata] = 0
        contaminated_db = 10 * np.log10((clean + rfi_power(label, rbr, clean)) * speckle)
        contaminated = np.stack([apply_stretch(contaminated_db[c], stretch[c]) for c in range(2)])
        contaminated[:, nodata] = 0
        rfi = exact_mask(image, contaminated, label)
        visible = visible_mask(clean_db[1], contaminated_db[1], rfi)
        image = contaminated
    truth = {"land": bg.land, "ships": bg.ships, "seams": swaths.seam_pixels(), "nodata": nodata}
    return SarPatch(image, rfi, **truth, confounders=bg.confounders & ~nodata, stretch=stretch, rfi_events=events,
                    rfi_visible=visible)  # fmt: skip


def synthetic_patch(
    seed_sequence: np.random.SeedSequence,
    height: int,
    width: int,
    rfi_probability: float = 0.5,
    rfi_strength_db: tuple[float, float] = DEFAULT_RFI_STRENGTH_DB,
    recipe: str = "quicklook",
) -> SarPatch:
    """One patch from its own seed sequence (see the module docstring for the recipes)."""
    if recipe == "legacy":
        return SarPatch(**legacy_patch(seed_sequence, height, width, rfi_probability, rfi_strength_db))
    return quicklook_patch(seed_sequence, height, width, rfi_probability, rfi_strength_db)


def synthetic_sar_patches(n: int, *size: int, **settings) -> list[SarPatch]:
    """`n` patches with every truth mask, as a list; size and settings are those of `iter_synthetic_sar_patches`."""
    return list(iter_synthetic_sar_patches(n, *size, **settings))


def iter_synthetic_sar_patches(
    n: int,
    height: int = SAR_SIZE[0],
    width: int = SAR_SIZE[1],
    seed: int = 0,
    rfi_probability: float = 0.5,
    rfi_strength_db: tuple[float, float] = DEFAULT_RFI_STRENGTH_DB,
    recipe: str = "quicklook",
) -> Iterator[SarPatch]:
    """`n` patches with every truth mask, one at a time (a large set never holds every patch's masks); patch i
    depends only on (seed, i, recipe). The settings are checked before the first patch."""
    if n < 0 or height < 1 or width < 1:
        raise ValueError(f"need n >= 0 and a positive size, got n={n}, {height}x{width}")
    if not 0.0 <= rfi_probability <= 1.0:
        raise ValueError(f"rfi_probability must lie in [0, 1], got {rfi_probability}")
    low, high = rfi_strength_db
    if not 0 < low <= high:
        raise ValueError(f"rfi_strength_db must be a range (low, high) with 0 < low <= high, got {rfi_strength_db}")
    if recipe not in GENERATOR_RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(GENERATOR_RECIPES)}, got {recipe!r}")
    children = np.random.SeedSequence(seed).spawn(n)
    return (synthetic_patch(child, height, width, rfi_probability, (low, high), recipe) for child in children)


def synthetic_sar(
    n: int, height: int = SAR_SIZE[0], width: int = SAR_SIZE[1], **settings
) -> tuple[np.ndarray, np.ndarray]:
    """`n` synthetic patches -> (images float32 [N, 2, H, W] in [0, 1], rfi_mask bool [N, H, W]).

    `settings` are those of `synthetic_sar_patches` (seed, rfi_probability, rfi_strength_db, recipe), with the
    same defaults. Channel 0 is VV, channel 1 VH; exact zeros are no-data. Deterministic for a seed; any size.
    """
    images, exact, _ = synthetic_sar_truth(n, height, width, **settings)
    return images, exact


def synthetic_sar_truth(
    n: int, height: int = SAR_SIZE[0], width: int = SAR_SIZE[1], **settings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`synthetic_sar` with both RFI masks: (images [N, 2, H, W], exact bool [N, H, W], visible bool [N, H, W])."""
    images = np.zeros((n, 2, height, width), dtype=np.float32)
    exact = np.zeros((n, height, width), dtype=bool)
    visible = np.zeros((n, height, width), dtype=bool)
    for i, patch in enumerate(iter_synthetic_sar_patches(n, height, width, **settings)):
        images[i] = patch.image / np.float32(255)
        exact[i], visible[i] = patch.rfi, patch.visible
    return images, exact, visible
