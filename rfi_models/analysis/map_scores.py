"""Explanation maps compared by numbers: `map_auc` (ROC-AUC of a map against a truth mask, e.g. the RFI
mask) and `deletion_curve` (the target as the most-explained pixels are removed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.quicklook_scale import valid_pixels
from ..models import Autoencoder
from .attribution import ScalarTarget


def map_auc(explanation: np.ndarray, truth: np.ndarray, image: np.ndarray) -> float:
    """ROC-AUC of an [H, W] map against a bool [H, W] truth mask, no-data and NaN pixels excluded."""
    from ..metrics import rfi_pixel_metrics  # scikit-learn: imported when first needed

    finite = np.isfinite(explanation)
    usable = np.where(finite, explanation, 0.0)
    keep = image * finite[None]  # NaN pixels (hidden patches) count as no-data
    return rfi_pixel_metrics(usable, truth, keep)["roc_auc"]


@torch.no_grad()
def deletion_curve(
    model: Autoencoder,
    x: torch.Tensor,
    explanation: np.ndarray,
    target: str = "reconstruction_error",
    steps: int = 10,
    mask_ratio: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fractions [steps + 1] and the target after removing (zeroing) that fraction of the most-explained pixels.

    Only pixels that removal can change are ranked: those with a finite map value (not a hidden MAE patch)
    and a non-zero value in some channel (zeroing a black MNIST background pixel does nothing). All
    fractions run as one batch. A map that finds what drives the target changes it fastest.
    """
    candidates = np.flatnonzero(np.isfinite(explanation).ravel() & valid_pixels(x[0].cpu().numpy()).ravel())
    order = candidates[np.argsort(-explanation.ravel()[candidates], kind="stable")]
    fractions = np.linspace(0, 1, steps + 1)
    batch = x[:1].repeat(steps + 1, 1, 1, 1).clone()
    flat = batch.view(steps + 1, batch.shape[1], -1)
    for i, fraction in enumerate(fractions):
        flat[i, :, order[: round(fraction * order.size)]] = 0.0
    forward = ScalarTarget(model, target, mask_ratio, seed, None)
    return fractions, forward(batch, x[:1]).cpu().numpy()


def deletion_area(values: np.ndarray) -> float:
    """Normalised area under a deletion curve (trapezoid over fractions 0..1)."""
    return float(np.trapezoid(values, dx=1 / (len(values) - 1)))


@dataclass
class ExplanationScore:
    """How one [H, W] explanation map does: agreement with the RFI mask, and its deletion curve."""

    name: str
    rfi_auc: float  # ROC-AUC of the map against the RFI mask; NaN when the truth is unknown
    deletion_change: float  # mean |target change| over the deletion curve: higher = found what drives it sooner
    fractions: np.ndarray  # [steps + 1] share of pixels removed
    deletion: np.ndarray  # [steps + 1] the target after removing them


def score_explanations(
    model: Autoencoder,
    x: torch.Tensor,
    maps: dict[str, np.ndarray],
    truth: np.ndarray | None = None,
    target: str = "reconstruction_error",
    mask_ratio: float = 0.0,
    seed: int = 0,
    steps: int = 10,
) -> list[ExplanationScore]:
    """Score every named map [H, W] for one image x [1, C, H, W]: RFI-mask ROC-AUC (when `truth` is given) and
    the deletion curve of `target` (region targets are scored on the whole image)."""
    deletion_target = "reconstruction_error" if target == "region_error" else target
    scores = []
    for name, explanation in maps.items():
        auc = map_auc(explanation, truth, x[0].cpu().numpy()) if truth is not None else float("nan")
        fractions, values = deletion_curve(model, x, explanation, deletion_target, steps, mask_ratio, seed)
        scores.append(ExplanationScore(name, auc, deletion_area(np.abs(values - values[0])), fractions, values))
    return scores
