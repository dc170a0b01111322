"""The MNIST comparison of `python -m train.evaluate`: like-for-like figures for the MAE, CAE and DAE.

Conventions, stated once (rfi_models.metrics): images in [0, 1], PSNR per image averaged over images, SSIM with
scikit-image's convention. A masked model is scored on its composite (visible patches pasted back) and on the
hidden pixels; its raw output is an extra. Every figure is on the official test set, never seen in training.

- `reconstruction`: each MAE checkpoint at several mask ratios; the CAE (whole image, interior and border);
  the DAE at its noise and clean.
- `same_corruption`: every family given the same corrupted input, the seed report's claim "the MAE reconstructs
  much better" made fair: the same masked digits (hidden pixels zeroed) scored on the hidden pixels, and the
  same noisy digits scored against the clean ones.
- `latent`: cluster figures in each model's own latent space (standardised), and the DAE's effective dimension.
- `attention`: rollout vs saliency for the MAE by deletion curves (seed report claim 4).
- `weights`: the share of near-zero weights (claim 2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import rfi_models
from rfi_models.analysis import attention_rollout, attribute, weight_statistics
from rfi_models.analysis.latent import extract_latents, latent_space_quality
from rfi_models.analysis.map_scores import deletion_area, deletion_curve
from rfi_models.data import load_mnist_sample
from rfi_models.metrics import image_quality, psnr
from rfi_models.models.dae import DAE_NOISE
from rfi_models.names import MAE_DISPLAY_RATIO

MAE_RATIOS = (0.25, 0.5, 0.75, 0.9)
# The MNIST MAEs: trained across mask ratios (the app's), and at the seed report's fixed 0.75.
MAE_CHECKPOINTS = {"mae": "mae_mnist", "mae_fixed": "mae_fixed_mnist"}
CAE_BORDER = 5  # the SSIM border scikit-image drops: where the unpadded 1 - SSIM loss left pixels untrained
LIVE_DIMENSION_VARIANCE = 1e-8


def official_test_digits(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` official test digits: float32 [N, 1, 28, 28] in [0, 1] and labels [N]."""
    images, labels = load_mnist_sample()
    return images[:count, None].astype(np.float32) / 255, labels[:count]


def mean_quality(images: np.ndarray, outputs: np.ndarray, masks: np.ndarray | None = None) -> dict[str, float]:
    """image_quality averaged over images [N, C, H, W] (masks [N, H, W] of hidden pixels, or None)."""
    hidden = [None] * len(images) if masks is None else masks
    rows = [image_quality(x, y, m) for x, y, m in zip(images, outputs, hidden, strict=True)]
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


@torch.no_grad()
def mae_at(model, images: np.ndarray, ratio: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MAE at `ratio` on images [N, 1, H, W]: (raw output, masked input, hidden-pixel masks [N, H, W])."""
    out = model.reconstruct(torch.from_numpy(images), mask_ratio=ratio, seed=seed)
    return out.image.numpy(), out.model_input.numpy(), out.mask.numpy()


@torch.no_grad()
def plain(model, inputs: np.ndarray) -> np.ndarray:
    """A model's reconstruction of exactly `inputs` (no corruption of its own; the MAE sees every patch)."""
    return model.reconstruct(torch.from_numpy(inputs), mask_ratio=0.0, noise_factor=0.0).image.numpy()


def cae_border(images: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
    """Whole-image and interior PSNR of the CAE, and the share of its squared error in the outer border."""
    inner = (..., slice(CAE_BORDER, -CAE_BORDER), slice(CAE_BORDER, -CAE_BORDER))
    squared = (images - outputs) ** 2
    return {
        "psnr_interior": float(np.mean([psnr(x[inner], y[inner]) for x, y in zip(images, outputs, strict=True)])),
        "border_error_share": float(1 - squared[inner].sum() / max(squared.sum(), 1e-12)),
        "border_area_share": float(1 - squared[0, 0][inner].size / squared[0, 0].size),
        "border": CAE_BORDER,
    }


def reconstruction(models: dict, images: np.ndarray) -> dict:
    """Each model under its own corruption (MAEs at every ratio, the DAE at its noise and clean, the CAE)."""
    results: dict = {}
    for name, model in models.items():
        if name.startswith("mae"):
            results[name] = {}
            for ratio in MAE_RATIOS:
                raw, _, masks = mae_at(model, images, ratio)
                results[name][f"mask_{ratio}"] = mean_quality(images, raw, masks)
        elif name == "dae":
            noisy = noisy_digits(images)
            results[name] = {f"noise_{DAE_NOISE}": mean_quality(images, plain(model, noisy)),
                             "clean": mean_quality(images, plain(model, images))}  # fmt: skip
        else:
            outputs = plain(model, images)
            results[name] = {"clean": mean_quality(images, outputs) | cae_border(images, outputs)}
    return results


def noisy_digits(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """The DAE's corruption, seeded: images + DAE_NOISE * N(0, 1), clipped to [0, 1]."""
    noise = np.random.default_rng(seed).standard_normal(images.shape).astype(np.float32)
    return np.clip(images + DAE_NOISE * noise, 0, 1)


def same_corruption(models: dict, images: np.ndarray, ratio: float = MAE_DISPLAY_RATIO) -> dict:
    """Every family on the same masked digits (the MAE's mask at `ratio`, hidden pixels zeroed), scored on the
    hidden pixels and the composite; and on the same noisy digits, scored against the clean ones."""
    reference = models.get("mae") or next(iter(models.values()))
    _, masked, masks = mae_at(reference, images, ratio)
    noisy = noisy_digits(images)
    results = {}
    for name, model in models.items():
        inpainted = mae_at(model, images, ratio)[0] if name.startswith("mae") else plain(model, masked)
        results[name] = {"masked": mean_quality(images, inpainted, masks),
                         "noisy": mean_quality(images, plain(model, noisy))}  # fmt: skip
    return {"mask_ratio": ratio, "noise_factor": DAE_NOISE, "models": results}


def latent(models: dict, images: np.ndarray, labels: np.ndarray) -> dict:
    """Cluster figures in each model's own (standardised) latent space, and its live dimensions."""
    results = {}
    for name, model in models.items():
        latents = extract_latents(model, images)
        quality = latent_space_quality(latents, labels)
        results[name] = {
            "latent_dim": int(latents.shape[1]),
            "live_dims": int((latents.var(axis=0) > LIVE_DIMENSION_VARIANCE).sum()),
            "silhouette": quality["silhouette_latent"],
            "knn_accuracy": quality["knn_accuracy"],
            "radius": float(np.mean(list(quality["radius_latent"].values()))),
            "radius_per_class": quality["radius_latent"],
        }
    return results


def attention(model, images: np.ndarray, ratio: float = MAE_DISPLAY_RATIO, steps: int = 10) -> dict:
    """Deletion-curve areas of rollout and saliency for the MAE at `ratio` (target: hidden-pixel error), mean
    over images, with a random ranking as the control. Larger = the map found what drives the target sooner."""
    areas: dict[str, list[float]] = {"rollout": [], "saliency": [], "random": []}
    rng = np.random.default_rng(0)
    for seed, image in enumerate(images):
        x = torch.from_numpy(image[None])
        maps = {
            "rollout": attention_rollout(model, x, ratio, seed).to_pixels(model.config.patch_size),
            "saliency": np.abs(attribute(model, x, "saliency", mask_ratio=ratio, seed=seed)).sum(axis=0),
        }
        maps["random"] = np.where(np.isfinite(maps["rollout"]), rng.random(maps["rollout"].shape), np.nan)
        for name, explanation in maps.items():
            explanation = np.where(np.isfinite(maps["rollout"]), explanation, np.nan)  # visible pixels only
            _, values = deletion_curve(model, x, explanation, steps=steps, mask_ratio=ratio, seed=seed)
            areas[name].append(deletion_area(np.abs(values - values[0])))
    return {"mask_ratio": ratio, "images": len(images)} | {k: float(np.mean(v)) for k, v in areas.items()}


def weights(models: dict) -> dict:
    results = {}
    for name, model in models.items():
        rows = weight_statistics(model)
        count = sum(r["count"] for r in rows)
        results[name] = {
            "parameters": count,
            "near_zero_share": sum(r["near_zero_share"] * r["count"] for r in rows) / count,
            "mean_abs": sum(r["mean_abs"] * r["count"] for r in rows) / count,
        }
    return results


def load_models(folder: Path) -> tuple[dict, dict]:
    """The MNIST checkpoints that exist in `folder`: ({name: model}, {name: training summary})."""
    names = {**MAE_CHECKPOINTS, "cae": "cae_mnist", "dae": "dae_mnist"}
    models, training = {}, {}
    for name, stem in names.items():
        path = folder / f"{stem}.safetensors"
        if path.exists():
            models[name], info = rfi_models.load_checkpoint(path)
            training[name] = info.get("training", {})
    return models, training


def evaluate_mnist(folder: Path, n_images: int, n_latent: int, n_attention: int) -> dict:
    """Every MNIST table of RESULTS.md, from the checkpoints in `folder`."""
    models, training = load_models(folder)
    torch.manual_seed(0)
    images, labels = official_test_digits(max(n_images, n_latent))
    families = {k: m for k, m in models.items() if k != "mae_fixed"}
    return {
        "images": n_images,
        "reconstruction": reconstruction(models, images[:n_images]),
        "same_corruption": same_corruption(models, images[:n_images]),
        "latent": latent(families, images[:n_latent], labels[:n_latent]) | {"images": n_latent},
        "attention": attention(models["mae"], images[:n_attention]) if "mae" in models else {},
        "weights": weights(families),
        "training": training,
    }
