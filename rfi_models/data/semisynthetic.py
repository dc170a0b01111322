"""Semi-synthetic SAR data: synthetic RFI, with exact masks, injected into real RFI-free Sentinel-1 backgrounds,
split by source scene; and the real RFI-free quick-looks themselves, for false-positive checks.

Data: the seven real quick-looks ship inside the package (`data/samples/sentinel1/quicklooks`, with their
PROVENANCE.md); the BigEarthNet-S1 patches are external evaluation material, found in the folder named by the
environment variable `RFI_MODELS_SENTINEL1` (default `../shared/data/sentinel1` from the working directory);
`Sentinel1DataMissing` (a FileNotFoundError) says which path was looked for. Contains modified Copernicus
Sentinel data. Quick-looks: pyroSAR test data (MIT) and stactools-packages/sentinel1 test data (Apache-2.0);
BigEarthNet-S1 patches: mock data of configilm 0.7.1 (MIT), BigEarthNet (CDLA-Permissive-1.0).

API:
- `semi_synthetic(split, n, seed=0, size=(340, 500), rfi_probability=0.5, rfi_strength_db=(1, 25),
  sources=("quicklook", "bigearthnet")) -> SemiSynthetic(images float32 [N, 2, H, W] in [0, 1],
  masks bool [N, H, W], scene_ids list[str])`. Patch i depends only on (split, seed, i): even i from the
  quick-looks, odd i from BigEarthNet (when both sources are asked), each cycling over its split's scenes.
- `real_quicklooks(split=None, size=None) -> dict[scene_id, float32 [2, H, W] in [0, 1]]`: the real
  RFI-free quick-looks (R = VV/HH, G = VH/HV), whole or centre-cropped to `size`, for "share of pixels
  flagged" checks.
- `scene_split(scene_id)`, `SPLITS`, `data_root()`.

Splits are by acquisition (the date of the take), never by patch: the two renderings 6D00 / FEC3 of one take
and the consecutive frames CEAB / 3768 share a date, so they always share a split. Quick-looks: train =
2015-02-03 (6D00, FEC3) and 2015-02-22 (CEAB, 3768); validation = 2022-11-30 (BB15, EW polar sea);
test = 2021-01-19 (8255, IW coast) and 2025-01-18 (4B8B, stripmap land). BigEarthNet patches: grouped by
acquisition date, groups dealt largest first to the split furthest below 60 / 20 / 20 % of the patches.

Backgrounds are windows of one real scene at its own scale, never mirrored or tiled (`scene_window`): a window of
`size` at a random offset, flipped in azimuth (rows) half the time. Never in range: the radar looks to one
side, and a range flip reverses the incidence-angle trend. A scene smaller than `size` is refused.
- Quick-looks (the default source; the quick-look scale, about 0.5 km per pixel, that the models and the real
  RFI patches have) are 8-bit already (R, G). To inject, their 8-bit values are read as dB on a window of
  25-40 dB drawn per patch (the processor's stretch is unknown), RFI power is added (`sar_rfi`, sub-swaths of
  the product's mode) and the result mapped back through the same window; untouched pixels keep their value.
- BigEarthNet patches (sigma0 dB, 120 x 120 px at 10 m, map geometry) are full-resolution texture, about 1/50
  of a quick-look's pixel size: they serve only where full-resolution speckle is meant, at their own size
  (`sources=("bigearthnet",), size=(120, 120)`), never as quick-look backgrounds. RFI is added in power, and
  both are mapped to 8 bits with a per-product stretch (`backgrounds.product_stretch`).
`masks` is exactly the pixels whose 8-bit value the RFI changed; `visible` those of them where the RFI raised
VH by at least `sar_rfi.VISIBLE_DB` (the rest are left out of the metrics).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .backgrounds import Swaths, apply_stretch, db_to_power, invert_stretch, product_stretch
from .sar_rfi import draw_stripes, exact_mask, rfi_power, visible_mask
from .synthetic_sar import DEFAULT_RFI_STRENGTH_DB, SAR_SIZE

ENV_VAR = "RFI_MODELS_SENTINEL1"
SPLITS = ("train", "val", "test")
SOURCES = ("quicklook", "bigearthnet")
QUICKLOOK_FOLDER = Path(__file__).resolve().parent / "samples" / "sentinel1" / "quicklooks"  # shipped
QUICKLOOK_SPLITS = {"20150203": "train", "20150222": "train", "20221130": "val", "20210119": "test", "20250118": "test"}
BIGEARTHNET_SHARES = {"train": 0.6, "val": 0.2, "test": 0.2}


class Sentinel1DataMissing(FileNotFoundError):
    pass


class SemiSynthetic(NamedTuple):
    images: np.ndarray  # float32 [N, 2, H, W] in [0, 1], 0 = no-data
    masks: np.ndarray  # bool [N, H, W], exactly the pixels the injected RFI changed
    scene_ids: list[str]
    visible: np.ndarray  # bool [N, H, W], the pixels of `masks` where VH rose by at least VISIBLE_DB


def data_root() -> Path:
    """The external Sentinel-1 evaluation folder: $RFI_MODELS_SENTINEL1, else ../shared/data/sentinel1 from the
    working directory (the repository root, where `make` and the tests run)."""
    return Path(os.environ.get(ENV_VAR) or Path("..") / "shared" / "data" / "sentinel1").resolve()


def require(path: Path) -> Path:
    if not path.exists():
        raise Sentinel1DataMissing(
            f"real Sentinel-1 data not found: {path} does not exist. Put the shared data at ../shared/data/sentinel1 "
            f"next to the repository, or set {ENV_VAR} to the folder holding "
            "bigearthnet_s1_vv_vh_db.npz"
        )
    return path


def acquisition_date(name: str) -> str:
    """YYYYMMDD of the first timestamp in a product or patch name."""
    found = re.search(r"_(\d{8})T\d+", name)
    if found is None:
        raise ValueError(f"no acquisition date in {name!r}")
    return found.group(1)


def quicklook_backgrounds() -> dict[str, tuple[np.ndarray, str, str]]:
    """scene id (the product's last 4 characters) -> (uint8 [2, H, W] R, G channels, mode IW/EW/SM, date)."""
    return read_quicklooks(QUICKLOOK_FOLDER)


@lru_cache(maxsize=2)
def read_quicklooks(folder: Path) -> dict[str, tuple[np.ndarray, str, str]]:
    scenes = {}
    for path in sorted(folder.glob("*.png")):
        product = path.name.split(".")[0]
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
        pixels = np.ascontiguousarray(rgb[..., :2].transpose(2, 0, 1))
        pixels.flags.writeable = False
        scenes[product[-4:]] = (pixels, {"IW": "IW", "EW": "EW"}.get(product[4:6], "SM"), acquisition_date(product))
    if not scenes:
        raise Sentinel1DataMissing(f"no quick-look PNG in {folder}")
    return scenes


def bigearthnet_backgrounds() -> tuple[np.ndarray, list[str]]:
    """(sigma0 dB float32 [N, 2, 120, 120] (VV, VH), patch names)."""
    return read_bigearthnet(data_root())


@lru_cache(maxsize=2)
def read_bigearthnet(root: Path) -> tuple[np.ndarray, list[str]]:
    with np.load(require(root / "bigearthnet_s1_vv_vh_db.npz"), allow_pickle=False) as data:
        db = np.stack([data["vv_db"], data["vh_db"]], axis=1).astype(np.float32)
        names = [str(name) for name in data["names"]]
    db.flags.writeable = False
    return db, names


def bigearthnet_splits() -> dict[str, str]:
    """acquisition date -> split: groups dealt largest first to the split furthest below its share."""
    names = bigearthnet_backgrounds()[1]
    dates = [acquisition_date(name) for name in names]
    groups = sorted(set(dates), key=lambda d: (-dates.count(d), d))
    counts, assigned = dict.fromkeys(SPLITS, 0), {}
    for date in groups:
        split = max(SPLITS, key=lambda s: BIGEARTHNET_SHARES[s] * len(dates) - counts[s])
        assigned[date] = split
        counts[split] += dates.count(date)
    return assigned


def scene_split(scene_id: str) -> str:
    """The split of a scene id: a quick-look id (e.g. '6D00') or a BigEarthNet patch name."""
    if scene_id in quicklook_backgrounds():
        return QUICKLOOK_SPLITS[quicklook_backgrounds()[scene_id][2]]
    return bigearthnet_splits()[acquisition_date(scene_id)]


def split_scenes(split: str, source: str) -> list[str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    ids = list(quicklook_backgrounds()) if source == "quicklook" else bigearthnet_backgrounds()[1]
    return [sid for sid in ids if scene_split(sid) == split]


def scene_window(image: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """[C, H, W] -> a [C, *size] window of it at a random offset, flipped in azimuth (rows) half the time."""
    if image.shape[1] < size[0] or image.shape[2] < size[1]:
        raise ValueError(f"a {image.shape[1]} x {image.shape[2]} scene has no {size[0]} x {size[1]} window: "
                         "backgrounds are windows of one scene at its own scale, never tiled")  # fmt: skip
    row = int(rng.integers(0, image.shape[1] - size[0] + 1))
    col = int(rng.integers(0, image.shape[2] - size[1] + 1))
    crop = image[:, row : row + size[0], col : col + size[1]]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def inject(
    rng: np.random.Generator, clean_db: np.ndarray, stretch: np.ndarray, mode: str, strength_db: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """RFI into a dB background [2, H, W] -> (uint8 [2, H, W] with RFI, exact mask, visible mask); 8-bit through
    `stretch`."""
    clean = np.stack([apply_stretch(clean_db[c], stretch[c]) for c in range(2)])
    label, rbr, _ = draw_stripes(rng, Swaths(rng, clean_db.shape[1:], mode).index, strength_db)
    power = db_to_power(clean_db)
    contaminated_db = 10 * np.log10(power + rfi_power(label, rbr, power))
    hit = label > 0
    contaminated = np.stack([np.where(hit, apply_stretch(contaminated_db[c], stretch[c]), clean[c]) for c in range(2)])
    exact = exact_mask(clean, contaminated, label)
    return contaminated, exact, visible_mask(clean_db[1], contaminated_db[1], exact)


def background_patch(source: str, scene_id: str, size: tuple[int, int], rng: np.random.Generator):
    """(dB [2, H, W], stretch [2, 3], no-data [H, W], sub-swath mode) of one background crop."""
    if source == "quicklook":
        pixels, mode, _ = quicklook_backgrounds()[scene_id]
        crop = scene_window(pixels, size, rng)
        window = np.array([0.0, rng.uniform(25, 40), 1.0], dtype=np.float32)
        stretch = np.stack([window, window])
        return np.stack([invert_stretch(crop[c], window) for c in range(2)]), stretch, (crop == 0).all(0), mode
    db, names = bigearthnet_backgrounds()
    crop = scene_window(db[names.index(scene_id)], size, rng)
    valid = np.ones(size, dtype=bool)
    return crop, product_stretch(rng, crop[0], crop[1], valid), ~valid, "SM"


def semi_synthetic(
    split: str,
    n: int,
    seed: int = 0,
    size: tuple[int, int] = SAR_SIZE,
    rfi_probability: float = 0.5,
    rfi_strength_db: tuple[float, float] = DEFAULT_RFI_STRENGTH_DB,
    sources: tuple[str, ...] = ("quicklook",),
) -> SemiSynthetic:
    """`n` semi-synthetic patches of one split (module docstring); deterministic for a seed."""
    if not sources or not set(sources) <= set(SOURCES):
        raise ValueError(f"sources must be a non-empty subset of {SOURCES}, got {sources}")
    if not 0.0 <= rfi_probability <= 1.0 or not 0 < rfi_strength_db[0] <= rfi_strength_db[1]:
        raise ValueError(f"need 0 <= rfi_probability <= 1 and 0 < low <= high: {rfi_probability}, {rfi_strength_db}")
    scenes = {source: split_scenes(split, source) for source in sources}
    images = np.zeros((n, 2, *size), dtype=np.float32)
    masks = np.zeros((n, *size), dtype=bool)
    visible = np.zeros((n, *size), dtype=bool)
    scene_ids = []
    for i, child in enumerate(np.random.SeedSequence([seed, SPLITS.index(split)]).spawn(n)):
        source = sources[i % len(sources)]
        scene_id = scenes[source][(i // len(sources)) % len(scenes[source])]
        background_rng, rfi_rng = (np.random.default_rng(s) for s in child.spawn(2))
        clean_db, stretch, nodata, mode = background_patch(source, scene_id, size, background_rng)
        if rfi_rng.random() < rfi_probability:
            pixels, masks[i], visible[i] = inject(rfi_rng, clean_db, stretch, mode, rfi_strength_db)
        else:
            pixels = np.stack([apply_stretch(clean_db[c], stretch[c]) for c in range(2)])
        pixels[:, nodata], masks[i][nodata], visible[i][nodata] = 0, False, False
        images[i] = pixels / np.float32(255)
        scene_ids.append(scene_id)
    return SemiSynthetic(images, masks, scene_ids, visible)


def real_quicklooks(split: str | None = None, size: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Real RFI-free quick-looks of a split (all when None) -> {scene id: float32 [2, H, W] in [0, 1]}."""
    chosen = quicklook_backgrounds() if split is None else split_scenes(split, "quicklook")
    result = {}
    for scene_id in chosen:
        pixels = quicklook_backgrounds()[scene_id][0]
        if size is not None:
            top, left = (pixels.shape[1] - size[0]) // 2, (pixels.shape[2] - size[1]) // 2
            if top < 0 or left < 0:
                raise ValueError(f"{scene_id} is {pixels.shape[1]} x {pixels.shape[2]}, smaller than {size}")
            pixels = pixels[:, top : top + size[0], left : left + size[1]]
        result[scene_id] = pixels / np.float32(255)
    return result
