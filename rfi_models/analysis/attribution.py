"""Captum attributions for all three families, through one scalar per sample.

Captum needs one scalar per sample: `ScalarTarget` wraps a model and returns the reconstruction error
over the image or a region (against the clean image, given as an additional forward argument) or the
latent norm. The wrapper holds a reference, never registers hooks, never changes the mode or
requires_grad of the model it wraps, so a model shared by every app session can be explained safely:
only the input gets gradients.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models import Autoencoder, MaskedAutoencoder

TARGETS = ("reconstruction_error", "region_error", "latent_norm")
ATTRIBUTION_METHODS = ("saliency", "integrated_gradients", "smoothgrad", "gradient_shap", "occlusion")


class ScalarTarget(nn.Module):
    """One scalar per sample from an autoencoder, for Captum. x [N, C, H, W] -> [N].

    reconstruction_error / region_error: mean squared error between the reconstruction of x and the
    clean image `reference` [1, C, H, W] (over `region` [H, W] bool for region_error). The MAE uses one
    fixed mask for every sample of the batch, so attributions do not mix masks, and is scored on its hidden
    pixels only (its visible-patch output is never trained); a region with no hidden pixel falls back to all.
    latent_norm: the L2 norm of `encode(x)`.
    """

    def __init__(self, model: Autoencoder, target: str, mask_ratio: float = 0.0, seed: int = 0, region=None) -> None:
        super().__init__()
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        if target == "region_error" and (region is None or not np.any(region)):
            raise ValueError("region_error needs a non-empty region mask [H, W]")
        self.model = model
        self.target, self.mask_ratio, self.seed = target, mask_ratio, seed
        self.region = None if region is None else torch.as_tensor(np.asarray(region), dtype=torch.bool)

    def forward(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        if self.target == "latent_norm":
            return self.model.encode(x).norm(dim=1)
        options = {}
        if isinstance(self.model, MaskedAutoencoder):
            options["noise"] = self.model.mask_noise(1, seed=self.seed).expand(x.shape[0], -1)
        out = self.model.reconstruct(x, mask_ratio=self.mask_ratio, **options)
        squared = (out.image - reference) ** 2  # [N, C, H, W]
        # What the model predicts: every pixel, or the MAE's hidden ones (one mask for the whole batch).
        scored = torch.ones(squared.shape[-2:], dtype=torch.bool) if out.mask is None else out.mask[0].cpu()
        if self.region is not None and self.target == "region_error":
            scored = scored & self.region
        if not scored.any():
            return squared.mean(dim=(1, 2, 3))
        return squared[:, :, scored].mean(dim=(1, 2))


# 2 SAR patches of 340 x 500, or every step for an MNIST digit: the DAE, the slowest model under Integrated
# Gradients (its 32-channel full-size activations are memory-bound), runs faster at 2 patches per pass than at 4
# (per-model times: `sar_ig_ms_per_model` in benchmarks/results.json).
GRADIENT_BATCH_PIXELS = 340_000


def gradient_batch(x: torch.Tensor, steps: int) -> int:
    """How many of `steps` interpolated inputs share one backward pass: as many as GRADIENT_BATCH_PIXELS
    allows. Larger batches of large images fall out of the CPU caches and run slower, not faster."""
    return max(1, min(steps, GRADIENT_BATCH_PIXELS // (x.shape[-2] * x.shape[-1])))


def attribute(
    model: Autoencoder,
    x: torch.Tensor,
    method: str = "saliency",
    target: str = "reconstruction_error",
    mask_ratio: float = 0.0,
    seed: int = 0,
    region=None,
    steps: int = 32,
    samples: int = 8,
    window: tuple[int, int] | None = None,
) -> np.ndarray:
    """Attribution [C, H, W] for one image x [1, C, H, W] in [0, 1]."""
    from captum.attr import GradientShap, IntegratedGradients, NoiseTunnel, Occlusion, Saliency  # slow import

    if method not in ATTRIBUTION_METHODS:
        raise ValueError(f"method must be one of {ATTRIBUTION_METHODS}, got {method!r}")
    forward = ScalarTarget(model, target, mask_ratio, seed, region)
    x = x[:1].detach()
    extra = (x,)
    baseline = torch.zeros_like(x)
    with torch.enable_grad():
        inputs = x.clone().requires_grad_(True)
        if method == "saliency":
            result = Saliency(forward).attribute(inputs, additional_forward_args=extra, abs=True)
        elif method == "integrated_gradients":
            result = IntegratedGradients(forward).attribute(
                inputs,
                baselines=baseline,
                n_steps=steps,
                internal_batch_size=gradient_batch(x, steps),
                additional_forward_args=extra,
            )
        elif method == "smoothgrad":
            result = NoiseTunnel(Saliency(forward)).attribute(
                inputs, nt_type="smoothgrad", nt_samples=samples, stdevs=0.1, additional_forward_args=extra
            )
        elif method == "gradient_shap":
            baselines = torch.cat([baseline, torch.full_like(x, float(x.mean()))])
            result = GradientShap(forward).attribute(
                inputs, baselines=baselines, n_samples=samples, stdevs=0.05, additional_forward_args=extra
            )
        else:
            h, w = window or default_occlusion_window(x.shape[-2:])
            result = Occlusion(forward).attribute(
                x, sliding_window_shapes=(x.shape[1], h, w), strides=(x.shape[1], h // 2, w // 2),
                baselines=0.0, additional_forward_args=extra, perturbations_per_eval=16,
            )  # fmt: skip
    return result[0].detach().cpu().numpy()


def default_occlusion_window(size) -> tuple[int, int]:
    height, width = int(size[0]), int(size[1])
    return max(2, height // 7), max(2, width // 7)


def heatmap(attribution: np.ndarray) -> np.ndarray:
    """[C, H, W] attribution -> [H, W] magnitude (sum of |a| over channels)."""
    return np.abs(attribution).sum(axis=0)
