"""Where the app's images come from: the shipped MNIST test set, the SAR gallery (the three real Sentinel-1
patches with real RFI and hand-drawn boxes first, then the synthetic test patches), the generator with user
settings, real Sentinel-1 quick-looks, semi-synthetic patches, and user uploads. All return float32 [C, H, W] in
[0, 1], plus the RFI truth when it is known (a mask, the pixels left out of the metrics and, for the real
patches, the boxes) and what was read for files. Real scenes and uploads come at their own size; `windowed` gives
the models' input size through a `Window`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..artifacts.checkpoint import find_checkpoints, read_checkpoint_info
from ..data import load_mnist_sample, synthetic_sar_patches
from ..data.real_rfi import NAMES as REAL_RFI_NAMES
from ..data.real_rfi import real_rfi_patches
from ..data.semisynthetic import QUICKLOOK_FOLDER, semi_synthetic
from ..data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_patch
from ..io import ReadInfo, read_input
from ..names import FAMILIES, checkpoint_name
from .window import Window, crop, shift_boxes

SAR_GALLERY_SIZE = 120  # the synthetic test patches of the precomputed SAR latent map
SEMI_SYNTHETIC_SIZE = 12  # semi-synthetic test patches: real backgrounds, injected RFI
REAL_SCENE_SOURCES = {  # product name prefix -> where the quick-look was published (see PROVENANCE.md there)
    "S1A_IW_GRDH": "pyroSAR test data (MIT)",
    "S1A_EW_GRDM": "stactools-packages/sentinel1 test data (Apache-2.0)",
    "S1C_S4_GRDH": "stactools-packages/sentinel1 test data (Apache-2.0)",
}


Box = tuple[int, int, int, int]  # row0, row1, col0, col1, end exclusive (as `data.real_rfi`)


@dataclass
class CurrentImage:
    image: np.ndarray  # float32 [C, H, W] in [0, 1]
    label: str  # what it is, for captions
    truth: np.ndarray | None = None  # bool [H, W] RFI mask when known (the visible RFI; the real patches' boxes)
    info: ReadInfo | None = None  # what was read, for files
    ignore: np.ndarray | None = None  # bool [H, W]: left out of every metric (invisible RFI, the ignore boxes)
    boxes: tuple[Box, ...] = ()  # hand-drawn RFI boxes (the real patches), drawn as the truth's outline
    ignore_boxes: tuple[Box, ...] = ()  # hand-drawn boxes of faint structure, left out of the metrics

    @property
    def has_boxes(self) -> bool:
        return bool(self.boxes or self.ignore_boxes)


@lru_cache(maxsize=1)
def mnist_gallery() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist_sample()


def gallery_image(domain: str, index: int) -> CurrentImage:
    """Sample `index` of the domain's gallery (MNIST test set; synthetic SAR test patches, the "test" split seed)."""
    if domain == "mnist":
        images, labels = mnist_gallery()
        index = int(np.clip(index, 0, len(images) - 1))
        return CurrentImage(images[index][None] / np.float32(255), f"MNIST test #{index} (digit {labels[index]})")
    index = int(np.clip(index, 0, SAR_GALLERY_SIZE - 1))
    patch = sar_test_patch(index)
    return CurrentImage(patch.image / np.float32(255), f"synthetic SAR test patch #{index}", patch.visible,
                        ignore=patch.rfi & ~patch.visible)  # fmt: skip


SAR_GALLERY = (*REAL_RFI_NAMES, *map(str, range(SAR_GALLERY_SIZE)))  # the SAR gallery's keys: real patches first
REAL_RFI_CREDIT = ("Contains modified Copernicus Sentinel data; a test patch of the original RFI study "
                   "(aalling93/mae_rfi, MIT)")  # fmt: skip


def sar_gallery_label(key: str) -> str:
    """How the sidebar names a SAR gallery entry."""
    if key in REAL_RFI_NAMES:
        return f"real Sentinel-1 with real RFI: {key}"
    return f"synthetic #{key}"


def sar_gallery_image(key: str) -> CurrentImage:
    """A SAR gallery entry: one of the real RFI patches ("one", "two", "tree"), else synthetic test patch `key`."""
    return real_rfi_image(key) if key in REAL_RFI_NAMES else gallery_image("sar", int(key))


def real_rfi_image(name: str) -> CurrentImage:
    """A real Sentinel-1 patch with real RFI at its own size: truth = the RFI boxes' pixels, the ignore boxes left
    out of the metrics, the boxes themselves to draw (validation data of the original study: never trained on)."""
    patch = real_rfi_patches()[name]
    counts = f"RFI boxes: {len(patch.boxes)}, ignore boxes: {len(patch.ignore_boxes)}"
    notes = (REAL_RFI_CREDIT, f"{counts}, drawn by hand on VH (validation data: never trained on)")
    info = ReadInfo("real RFI patch (uint8 .npy)", ("VV", "VH"), patch.image.shape[1:], "quick-look 8-bit",
                    notes=notes)  # fmt: skip
    label = f"real Sentinel-1 with real RFI: {name}"
    return CurrentImage(patch.image, label, patch.positive, info, patch.ignore, patch.boxes, patch.ignore_boxes)


@lru_cache(maxsize=SAR_GALLERY_SIZE)
def sar_test_patch(index: int):
    """Patch `index` of the synthetic test set (patch i depends only on seed and i, so one is enough).

    Every gallery patch may stay cached (about 0.5 MB each): the latent page shows up to 3 x 20 neighbours and a
    selection on every rerun, and generating a patch is far slower than keeping it."""
    sequence = np.random.SeedSequence(SPLIT_SEEDS["test"]).spawn(index + 1)[index]
    return synthetic_patch(sequence, *SAR_SIZE, rfi_probability=0.5)


def generated_image(seed: int, rfi: bool, strength_db: float) -> CurrentImage:
    """A synthetic SAR patch from the generator with user settings."""
    patch = synthetic_sar_patches(1, seed=seed, rfi_probability=1.0 if rfi else 0.0,
                                  rfi_strength_db=(strength_db, strength_db))[0]  # fmt: skip
    label = f"generated SAR patch (seed {seed}, " + (f"RFI {strength_db:g} dB)" if rfi else "no RFI)")
    return CurrentImage(patch.image / np.float32(255), label, patch.visible, ignore=patch.rfi & ~patch.visible)


def uploaded_image(data: bytes, name: str, domain: str) -> CurrentImage:
    """A user upload of any size, read safely (a SAFE .zip too, for SAR)."""
    reading = read_input(data, domain, name=name)
    return CurrentImage(reading.image, f"upload {name}", info=reading.info)


def real_scenes_folder() -> Path:
    return QUICKLOOK_FOLDER  # shipped in the package, with their PROVENANCE.md


def real_scenes() -> list[str]:
    """The names of the real Sentinel-1 quick-looks shipped in the package ([] when the folder is absent)."""
    folder = real_scenes_folder()
    return sorted(p.name for p in folder.glob("*.png")) if folder.is_dir() else []


def short_name(name: str) -> str:
    """'S1A_IW_GRDH_1SDV_20150222T170725_..._CEAB.quick-look.png' -> 'S1A IW 20150222T170725 CEAB'."""
    parts = name.split(".")[0].split("_")
    return " ".join([*parts[:2], parts[4], parts[-1]]) if len(parts) > 4 else name


def attribution(name: str) -> str:
    source = next((s for prefix, s in REAL_SCENE_SOURCES.items() if name.startswith(prefix)), "")
    credit = f"Contains modified Copernicus Sentinel data {name[17:21]}"
    return credit + (f"; quick-look from {source}" if source else "")


@lru_cache(maxsize=8)
def real_scene(name: str) -> CurrentImage:
    """A real Sentinel-1 quick-look by file name: real background, no visible RFI, truth unknown."""
    reading = read_input(real_scenes_folder() / name, "sar")
    label = f"real Sentinel-1 (no visible RFI) {short_name(name)}"
    return CurrentImage(reading.image, label, info=reading.info.with_notes(attribution(name)))


@lru_cache(maxsize=1)
def semi_synthetic_patches():
    """The semi-synthetic test patches (seed 0), every one with injected RFI: about 0.5 s each, made once."""
    return semi_synthetic("test", SEMI_SYNTHETIC_SIZE, rfi_probability=1.0)


def semi_synthetic_image(index: int) -> CurrentImage:
    """Semi-synthetic patch `index`: a real RFI-free background (quick-look or BigEarthNet-S1) with injected RFI,
    whose mask is known exactly."""
    patches = semi_synthetic_patches()
    index = int(np.clip(index, 0, SEMI_SYNTHETIC_SIZE - 1))
    label = f"semi-synthetic SAR #{index} (real background {patches.scene_ids[index]}, injected RFI)"
    visible = patches.visible[index]
    return CurrentImage(patches.images[index], label, visible, ignore=patches.masks[index] & ~visible)


def windowed(scene: CurrentImage, window: Window) -> CurrentImage:
    """The part of `scene` under `window`, at the models' input size (mirror-padded where the scene is smaller)."""
    truth, ignore = (crop(mask, window) if mask is not None else None for mask in (scene.truth, scene.ignore))
    return replace(scene, image=crop(scene.image, window), truth=truth, ignore=ignore,
                   boxes=shift_boxes(scene.boxes, window), ignore_boxes=shift_boxes(scene.ignore_boxes, window),
                   label=f"{scene.label} · {window.span()}")  # fmt: skip


def checkpoints_by_family(folder: str | Path, domain: str) -> tuple[dict[str, list[Path]], list[str]]:
    """The checkpoint files of `folder` for `domain`, grouped by family (the shipped `<family>_<domain>` first, the
    default), and the problems with unreadable ones."""
    found, problems = find_checkpoints(folder)
    grouped: dict[str, list[Path]] = {family: [] for family in FAMILIES}
    for path, info in found:
        if info["domain"] == domain and info["architecture"] in grouped:
            grouped[info["architecture"]].append(path)
    for family, paths in grouped.items():
        paths.sort(key=lambda path: (path.name != checkpoint_name(family, domain), path.name))
    return grouped, problems


def mask_ratio_note(checkpoint: str | Path, ratio: float) -> str | None:
    """A warning when `ratio` lies outside the mask ratios the MAE `checkpoint` was trained at (metadata only)."""
    config = read_checkpoint_info(checkpoint)["config"]
    low, high = config.get("train_mask_ratio_range") or (config["train_mask_ratio"],) * 2
    if low - 1e-9 <= ratio <= high + 1e-9:
        return None
    trained = f"at {low:.2f} only" if low == high else f"across {low:.2f}-{high:.2f}"
    return f"This MAE was trained {trained}: at {ratio:.2f} it works outside what it learned."
