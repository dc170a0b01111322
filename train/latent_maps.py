"""Precomputed latent maps for the app's latent page, so it opens at once.

For each domain, one file checkpoints/latents_{domain}.npz with, per family F:
    F/latents            [N, D] (float16 when D > 1000, e.g. the SAR DAE's 20832-d bottleneck)
    F/error              [N]    per-sample reconstruction MSE (MAE at mask ratio 0.75, others clean)
    F/{pca,umap,tsne}_{2,3}d   [N, 2 or 3] coordinates
and shared arrays: `index` (which gallery samples: MNIST test-set indices, or synthetic SAR test patches of
seed 3000), `labels` (MNIST) or `rfi_fraction` and F/mean_anomaly_score (SAR).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import rfi_models
from rfi_models.analysis import Projection, extract_latents, sar_colour_variables
from rfi_models.data import load_mnist_sample, synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS

FAMILIES = ("mae", "cae", "dae")
MAE_MAP_RATIO = 0.75


@torch.no_grad()
def reconstruction_errors(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Per-sample MSE [N] of reconstructions (MAE at MAE_MAP_RATIO, seeded by position)."""
    errors = []
    scale = np.float32(255) if images.dtype == np.uint8 else np.float32(1)
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(np.asarray(images[start : start + batch_size], dtype=np.float32) / scale)
        out = model.reconstruct(x, mask_ratio=MAE_MAP_RATIO, seed=start)
        errors.append(((out.image - x) ** 2).mean(dim=(1, 2, 3)).numpy())
    return np.concatenate(errors)


def gallery(domain: str, mnist_per_class: int, sar_patches: int) -> tuple[np.ndarray, dict]:
    if domain == "mnist":
        images, labels = load_mnist_sample()
        index = np.concatenate([np.flatnonzero(labels == c)[:mnist_per_class] for c in range(10)])
        return images[index, None], {"index": index, "labels": labels[index]}
    images, masks = synthetic_sar(sar_patches, seed=SPLIT_SEEDS["test"], rfi_probability=0.5)
    return images, {"index": np.arange(sar_patches), "rfi_fraction": masks.mean(axis=(1, 2)), "masks": masks}


def precompute_latent_maps(folder: Path, domain: str, mnist_per_class: int = 200, sar_patches: int = 120) -> Path:
    images, shared = gallery(domain, mnist_per_class, sar_patches)
    masks = shared.pop("masks", None)
    arrays = dict(shared)
    for family in FAMILIES:
        path = folder / f"{family}_{domain}.safetensors"
        if not path.exists():
            continue
        model, _ = rfi_models.load_checkpoint(path)
        latents = extract_latents(model, images, batch_size=64 if domain == "mnist" else 8)
        arrays[f"{family}/latents"] = latents.astype(np.float16 if latents.shape[1] > 1000 else np.float32)
        arrays[f"{family}/error"] = reconstruction_errors(model, images, 64 if domain == "mnist" else 4)
        if masks is not None:
            arrays[f"{family}/mean_anomaly_score"] = sar_colour_variables(model, images, masks)["mean_anomaly_score"]
        for method in ("pca", "umap", "tsne"):
            for dims in (2, 3):
                arrays[f"{family}/{method}_{dims}d"] = Projection(method, dims, {"seed": 0}).fit(latents)
    out = folder / f"latents_{domain}.npz"
    np.savez_compressed(out, **arrays)
    return out
