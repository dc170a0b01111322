"""Precomputed latent maps for the app's latent page, so it opens at once.

For each domain, one file checkpoints/latents_{domain}.npz with, per family F:
    F/latents            [N, D] (float16 when D > 1000, e.g. the SAR DAE's 20832-d bottleneck)
    F/error              [N]    per-sample reconstruction MSE (MAE at mask ratio 0.75, others clean)
    F/{pca,umap,tsne}_{2,3}d   [N, 2 or 3] coordinates (default parameters, seed 0)
and shared arrays: `index` (which gallery samples: MNIST test-set indices, or synthetic SAR test patches of
the "test" split seed), `labels` (MNIST) or `rfi_fraction` and F/mean_anomaly_score (SAR).

`precompute_latent_maps` writes it (called by `python -m train.evaluate`); `read_latent_maps` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..artifacts.atomic import atomic_path
from ..artifacts.checkpoint import load_checkpoint
from ..artifacts.manifest import verify_against_manifest
from ..data import load_mnist_sample, synthetic_sar
from ..data.synthetic_sar import SPLIT_SEEDS
from ..names import FAMILIES, MAE_DISPLAY_RATIO, checkpoint_name, latent_maps_name
from .latent import PROJECTIONS, Projection, extract_latents, sar_colour_variables


@dataclass
class LatentMap:
    """One model's map of the gallery samples."""

    latents: np.ndarray  # float32 [N, D]
    error: np.ndarray  # [N] reconstruction MSE
    coordinates: dict[str, np.ndarray] = field(default_factory=dict)  # "tsne_2d" -> [N, 2]
    mean_anomaly_score: np.ndarray | None = None  # [N], SAR only


@dataclass
class LatentMaps:
    """Every family's map of the same gallery samples, with what the samples are."""

    index: np.ndarray  # [N] gallery indices
    maps: dict[str, LatentMap]
    labels: np.ndarray | None = None  # [N] MNIST digits
    rfi_fraction: np.ndarray | None = None  # [N] SAR share of RFI pixels


@torch.no_grad()
def reconstruction_errors(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Per-sample MSE [N] of reconstructions (MAE at MAE_DISPLAY_RATIO, seeded by position, over its hidden pixels)."""
    errors = []
    scale = np.float32(255) if images.dtype == np.uint8 else np.float32(1)
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(np.asarray(images[start : start + batch_size], dtype=np.float32) / scale)
        out = model.reconstruct(x, mask_ratio=MAE_DISPLAY_RATIO, seed=start)
        errors.append(out.squared_error(x).numpy())
    return np.concatenate(errors)


def gallery_samples(domain: str, mnist_per_class: int, sar_patches: int) -> tuple[np.ndarray, dict]:
    """The map's samples [N, C, H, W] and what is known of them (index, labels or RFI masks)."""
    if domain == "mnist":
        images, labels = load_mnist_sample()
        index = np.concatenate([np.flatnonzero(labels == c)[:mnist_per_class] for c in range(10)])
        return images[index, None], {"index": index, "labels": labels[index]}
    images, masks = synthetic_sar(sar_patches, seed=SPLIT_SEEDS["test"], rfi_probability=0.5)
    return images, {"index": np.arange(sar_patches), "rfi_fraction": masks.mean(axis=(1, 2)), "masks": masks}


def measured_map(model, images: np.ndarray, masks: np.ndarray | None, domain: str) -> LatentMap:
    """Latents and errors of `images` for one model (and, given the RFI masks, its mean anomaly scores)."""
    latents = extract_latents(model, images, batch_size=64 if domain == "mnist" else 8)
    result = LatentMap(latents, reconstruction_errors(model, images, 64 if domain == "mnist" else 4))
    if masks is not None:
        result.mean_anomaly_score = sar_colour_variables(model, images, masks)["mean_anomaly_score"]
    return result


def latent_map(model, images: np.ndarray, masks: np.ndarray | None, domain: str) -> LatentMap:
    """`measured_map` plus every default projection of the latents."""
    result = measured_map(model, images, masks, domain)
    for method in PROJECTIONS:
        for dims in (2, 3):
            result.coordinates[f"{method}_{dims}d"] = Projection(method, dims, {"seed": 0}).fit(result.latents)
    return result


def precompute_latent_maps(folder: Path, domain: str, mnist_per_class: int = 200, sar_patches: int = 120) -> Path:
    """Write folder/latents_{domain}.npz for the shipped checkpoints folder/{family}_{domain}.safetensors."""
    images, shared = gallery_samples(domain, mnist_per_class, sar_patches)
    masks = shared.pop("masks", None)
    arrays = dict(shared)
    for family in FAMILIES:
        path = Path(folder) / checkpoint_name(family, domain)
        if not path.exists():
            continue
        model, _ = load_checkpoint(path)
        found = latent_map(model, images, masks, domain)
        arrays[f"{family}/latents"] = found.latents.astype(np.float16 if found.latents.shape[1] > 1000 else np.float32)
        arrays[f"{family}/error"] = found.error
        if found.mean_anomaly_score is not None:
            arrays[f"{family}/mean_anomaly_score"] = found.mean_anomaly_score
        for name, coords in found.coordinates.items():
            arrays[f"{family}/{name}"] = coords
    out = Path(folder) / latent_maps_name(domain)
    with atomic_path(out) as temporary:
        np.savez_compressed(temporary, **arrays)
    return out


def read_latent_maps(path: str | Path) -> LatentMaps:
    """Read a file written by `precompute_latent_maps` (no pickle), checked against the folder's manifest if any
    (CheckpointError when it does not match)."""
    verify_against_manifest(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    maps = {}
    for family in FAMILIES:
        if f"{family}/latents" not in arrays:
            continue
        prefix = f"{family}/"
        coordinates = {
            key[len(prefix) :]: arrays[key]
            for key in arrays
            if key.startswith(prefix) and key[len(prefix) :].split("_")[0] in PROJECTIONS
        }
        maps[family] = LatentMap(
            arrays[f"{family}/latents"].astype(np.float32),
            arrays[f"{family}/error"],
            coordinates,
            arrays.get(f"{family}/mean_anomaly_score"),
        )
    return LatentMaps(arrays["index"], maps, arrays.get("labels"), arrays.get("rfi_fraction"))


def live_latent_maps(models: dict, domain: str, mnist_per_class: int = 200, sar_patches: int = 120) -> LatentMaps:
    """Latents and errors (no projections) of the gallery samples for checkpoints without a precomputed map."""
    images, shared = gallery_samples(domain, mnist_per_class, sar_patches)
    masks = shared.pop("masks", None)
    maps = {family: measured_map(model, images, masks, domain) for family, model in models.items()}
    return LatentMaps(shared["index"], maps, shared.get("labels"), shared.get("rfi_fraction"))


def projection_of(latent_map: LatentMap, method: str, dims: int, params: dict) -> Projection:
    """A fitted Projection of one model's map: the stored coordinates when the parameters are the defaults
    they were computed with (seed 0, nothing else), else a fresh fit."""
    stored = latent_map.coordinates.get(f"{method}_{dims}d")
    if stored is not None and params in ({}, {"seed": 0}):
        return Projection.from_coordinates(method, latent_map.latents, stored, params)
    projection = Projection(method, dims, dict(params))
    projection.fit(latent_map.latents)
    return projection
