"""Where the app's images come from: the shipped MNIST test set, the synthetic SAR test patches, the
generator with user settings, and user uploads. All return float32 [C, H, W] in [0, 1] at the models' size,
plus the RFI truth mask when it is known."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .checkpoint import find_checkpoints, read_checkpoint_info
from .data import load_mnist_sample, synthetic_sar_patches
from .data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_patch
from .io import InputError, read_image
from .names import FAMILIES

SAR_GALLERY_SIZE = 120  # the synthetic test patches of the precomputed SAR latent map


@dataclass
class CurrentImage:
    image: np.ndarray  # float32 [C, H, W] in [0, 1]
    label: str  # what it is, for captions
    truth: np.ndarray | None = None  # bool [H, W] RFI mask when known


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
    return CurrentImage(patch.image / np.float32(255), f"synthetic SAR test patch #{index}", patch.rfi)


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
    return CurrentImage(patch.image / np.float32(255), label, patch.rfi)


def uploaded_image(data: bytes, name: str, domain: str, model_size: tuple[int, int]) -> CurrentImage:
    """A user upload, read safely; SAR uploads must have the models' size here (the RFI page tiles any size)."""
    image = read_image(data, domain)
    if domain == "sar" and image.shape[1:] != tuple(model_size):
        raise InputError(
            f"{name} is {image.shape[1]} x {image.shape[2]}; this page compares models on "
            f"{model_size[0]} x {model_size[1]} patches (the RFI detection page takes any size)"
        )
    return CurrentImage(image, f"upload {name}")


def checkpoints_by_family(folder: str | Path, domain: str) -> tuple[dict[str, list[Path]], list[str]]:
    """The checkpoint files of `folder` for `domain`, grouped by family (the shipped `<family>_<domain>` first, the
    default), and the problems with unreadable ones."""
    found, problems = find_checkpoints(folder)
    grouped: dict[str, list[Path]] = {family: [] for family in FAMILIES}
    for path, info in found:
        if info["domain"] == domain and info["architecture"] in grouped:
            grouped[info["architecture"]].append(path)
    for family, paths in grouped.items():
        paths.sort(key=lambda path: (path.stem != f"{family}_{domain}", path.name))
    return grouped, problems


def mask_ratio_note(checkpoint: str | Path, ratio: float) -> str | None:
    """A warning when `ratio` lies outside the mask ratios the MAE `checkpoint` was trained at (metadata only)."""
    config = read_checkpoint_info(checkpoint)["config"]
    low, high = config.get("train_mask_ratio_range") or (config["train_mask_ratio"],) * 2
    if low - 1e-9 <= ratio <= high + 1e-9:
        return None
    trained = f"at {low:.2f} only" if low == high else f"across {low:.2f}-{high:.2f}"
    return f"This MAE was trained {trained}: at {ratio:.2f} it works outside what it learned."
