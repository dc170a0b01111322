"""Training and validation sets for both domains, as uint8 tensors (converted to [0, 1] per batch).

MNIST: the official 60k training set split into 55k for training and its last 5k for validation; the
10k test set is never used here (it is for `train.evaluate` and the app).

SAR: synthetic patches from fixed seeds, cached as .npz in the rfi_models cache folder. Seeds are
disjoint by purpose: training 1000, validation 2000, test 3000 (the test set belongs to evaluation).
By default the training set holds RFI-free patches only, so the models learn normal backgrounds and
RFI stays what they cannot reconstruct; `rfi_probability` changes that for the comparison run.
`real_share` replaces that share of the training and validation patches by semi-synthetic ones
(`rfi_models.data.semisynthetic`): real Sentinel-1 backgrounds of the scenes of the same split, with RFI at the
same probability. They are exact 8-bit values, so they are kept as uint8 like the synthetic ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rfi_models.artifacts.atomic import atomic_path
from rfi_models.data import load_mnist
from rfi_models.data.mnist import cache_dir
from rfi_models.data.semisynthetic import semi_synthetic
from rfi_models.data.synthetic_sar import GENERATOR_VERSION, SAR_SIZE, SPLIT_SEEDS, iter_synthetic_sar_patches

MNIST_VALIDATION = 5000


def mnist_split(split: str) -> torch.Tensor:
    """uint8 [N, 1, 28, 28] for split "train" (55k) or "val" (5k)."""
    images, _ = load_mnist("train")
    part = images[:-MNIST_VALIDATION] if split == "train" else images[-MNIST_VALIDATION:]
    return torch.from_numpy(np.ascontiguousarray(part))[:, None]


def sar_patches(n: int, seed: int, rfi_probability: float) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, 2, 340, 500], bool [N, 340, 500]) from the generator, cached on disk."""
    path = Path(cache_dir()) / f"sar_v{GENERATOR_VERSION}_{n}_seed{seed}_rfi{rfi_probability:g}.npz"
    if not path.exists():
        images, rfi = np.zeros((n, 2, *SAR_SIZE), np.uint8), np.zeros((n, *SAR_SIZE), bool)
        for i, patch in enumerate(iter_synthetic_sar_patches(n, seed=seed, rfi_probability=rfi_probability)):
            images[i], rfi[i] = patch.image, patch.rfi  # the other masks are dropped patch by patch
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as partial:  # one per process: trainings started together each write their own
            np.savez_compressed(partial, images=images, rfi=rfi)
    with np.load(path, allow_pickle=False) as data:
        return data["images"], data["rfi"]


def sar_split(split: str, n: int, rfi_probability: float, real_share: float = 0.0) -> torch.Tensor:
    """uint8 [N, 2, 340, 500]: N - round(N * real_share) synthetic patches, then the rest semi-synthetic."""
    if not 0.0 <= real_share < 1.0:
        raise ValueError(f"real_share is the share of patches with real backgrounds, in [0, 1): got {real_share}")
    n_real = round(n * real_share)
    images, _ = sar_patches(n - n_real, SPLIT_SEEDS[split], rfi_probability)
    if not n_real:
        return torch.from_numpy(images)
    real = semi_synthetic(split, n_real, seed=SPLIT_SEEDS[split], rfi_probability=rfi_probability).images
    return torch.from_numpy(np.concatenate([images, np.rint(real * 255).astype(np.uint8)]))


def to_unit(batch: torch.Tensor) -> torch.Tensor:
    return batch.float().div_(255)


def random_crop(batch: torch.Tensor, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """One random crop of `size` (rows, columns) at the same place in every image of batch [N, C, H, W]."""
    (h, w), (height, width) = size, batch.shape[-2:]
    if h > height or w > width:
        raise ValueError(f"crop {h} x {w} is larger than the images ({height} x {width})")
    top = int(torch.randint(0, height - h + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - w + 1, (1,), generator=generator))
    return batch[..., top : top + h, left : left + w]
