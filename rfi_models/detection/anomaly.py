"""Per-pixel anomaly scores from reconstruction error, and RFI scores that use RFI's structure.

Three score maps, all float32 [N, H, W], higher = more anomalous, exactly 0 on no-data:
- "error": squared reconstruction error, averaged over channels.
- "ssim":  1 - local SSIM with the original study's 20 x 100 window (rows x columns), averaged over channels.
- "rfi":   what is left of the residual after RFI's structure is asked for (see `rfi_score`).

The MAE scores a patch only while it is hidden: K masks whose hidden sets cover every patch are run as
one batch, and each patch's error is averaged over the masks that hid it. K is the fewest that can cover
(`covering_masks`: 2 at ratios from 0.5): more masks average a patch's error over more contexts but cost a
transformer pass each, and on the 480-patch SAR MAE 2 masks instead of 4 left the validation metrics unchanged
(README, "SAR: what is and is not established"). A MAE with row masks (`mask_scheme` "rows") is scored with
covering row masks: the same construction over rows of patches, each hiding whole rows.

Band inpainters (a CAE or DAE with `inpaint`, `models.bands`) score every row while it is hidden: covering bands,
every other band of `band_rows` rows hidden per pass, so that each row is predicted once from the bands around it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..models import Autoencoder, MaskedAutoencoder
from ..models.bands import SCORING_BANDS, covering_band_rows
from ..names import MAE_DISPLAY_RATIO
from .residual_scores import (  # noqa: F401 (re-exported: the scores lived here before residual_scores.py)
    AZIMUTH_BACKGROUND,
    METHODS,
    RANGE_SMOOTHING,
    SSIM_SCORE_WINDOW,
    local_ssim_anomaly,
    rfi_score,
    running_median_along_rows,
    score_residual,
    squared_error,
)


def covering_masks(mask_ratio: float) -> int:
    """The fewest masks at `mask_ratio` whose hidden sets can cover every patch (`covering_mask_noise`)."""
    if not 0.0 < mask_ratio <= 1.0:
        raise ValueError(f"covering masks need a mask ratio in (0, 1], got {mask_ratio}")
    return math.ceil(round(1.0 / mask_ratio, 9))


def covering_mask_noise(model: MaskedAutoencoder, k_masks: int, seed: int, scheme: str | None = None) -> torch.Tensor:
    """Noise [K, L] for K masks that together hide every patch.

    One order of the patches; mask k keeps the cyclic window of that order starting at k * L / K visible, so every
    patch is hidden by all masks but those whose window contains it. The windows start evenly spaced, so every patch
    is hidden by floor(K * hidden / L) or ceil(K * hidden / L) masks. Scheme "random": a random order (`seed`).
    Scheme "rows" (None = the model's): the same over rows of patches, every patch of a row with its row's noise, so
    that each mask keeps or hides whole rows; the order interleaves the rows (0, K, 2K, ..., 1, K + 1, ...), so that
    the rows a mask hides are mostly every K-th one, each between visible rows, as a stripe is scored best.
    """
    if (scheme or model.config.mask_scheme) == "rows":
        rows = model.grid_size[0]
        order = torch.cat([torch.arange(start, rows, k_masks) for start in range(k_masks)])
        return cyclic_window_noise(order, k_masks).repeat_interleave(model.grid_size[1], dim=1)
    return cyclic_window_noise(
        torch.randperm(model.num_patches, generator=torch.Generator().manual_seed(seed)), k_masks
    )


def cyclic_window_noise(order: torch.Tensor, k_masks: int) -> torch.Tensor:
    """Noise [K, L] whose mask k keeps the items of `order` [L] (a permutation) in the cyclic window of ranks
    starting at k * L / K visible: the noise of an item is its rank counted from that start, over L."""
    length = len(order)
    rank = torch.empty(length, dtype=torch.long)
    rank[order] = torch.arange(length)
    shifts = (torch.arange(k_masks) * length) // k_masks
    return ((rank[None, :] - shifts[:, None]) % length).float() / length


def residuals(model: Autoencoder, x: torch.Tensor, *args, **kwargs) -> np.ndarray:
    """x [N, C, H, W] in [0, 1] -> signed residual x - reconstruction [N, C, H, W] (numpy float32): `residual_tensor`
    with the same arguments (k_masks, mask_ratio, seed, mask_scheme)."""
    return residual_tensor(model, x, *args, **kwargs).float().cpu().numpy()


@torch.no_grad()
def residual_tensor(
    model: Autoencoder,
    x: torch.Tensor,
    k_masks: int | None = None,
    mask_ratio: float = MAE_DISPLAY_RATIO,
    seed: int = 0,
    mask_scheme: str | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """x [N, C, H, W] in [0, 1] -> signed residual x - reconstruction [N, C, H, W] (a tensor; the graph that
    `detection.onnx_export` exports, with the covering masks' `noise` [K, L] made beforehand: None = those of
    `covering_mask_noise`, `k_masks` of them).

    MAE: K covering masks (None = `covering_masks` of the ratio the scheme really hides, `effective_mask_ratio`)
    of `mask_scheme` (None = the model's) in one batched pass, error averaged over the masks that hid each patch.
    The arithmetic is that of `reconstruct`, done on patches [K, N, L, P] rather than on K full-size images.
    Band inpainters: covering bands (`band_residuals`). Other CAE/DAE: the plain reconstruction of the clean input.
    """
    if getattr(model.config, "inpaint", False):
        return band_residual_tensor(model, x, k_masks or SCORING_BANDS)
    if not isinstance(model, MaskedAutoencoder):
        return x - model.reconstruct(x).image
    mask_ratio = model.effective_mask_ratio(mask_ratio, mask_scheme)
    k_masks = covering_masks(mask_ratio) if k_masks is None else k_masks
    if mask_ratio < 1.0 / k_masks:
        raise ValueError(f"{k_masks} masks at ratio {mask_ratio} cannot hide every patch; need ratio >= 1/K")
    model.check_input(x)
    n = x.shape[0]
    noise = covering_mask_noise(model, k_masks, seed, mask_scheme) if noise is None else noise
    noise = noise.repeat_interleave(n, dim=0).to(x.device)
    encoded = model.forward_encoder(model.normalize(x), mask_ratio, noise, repeats=k_masks, scheme=mask_scheme)
    pred = model.forward_decoder(encoded.latent, encoded.ids_restore)
    batch = x.repeat(k_masks, 1, 1, 1) if model.config.norm_pix_loss else x  # read only for norm_pix_loss
    patches = model.predictions_to_patches(pred, batch).clamp(0, 1)  # [K*N, L, P]
    patches = patches.view(k_masks, n, *patches.shape[1:])
    hidden = encoded.mask.view(k_masks, n, -1, 1)  # [K, N, L, 1], 1 = hidden
    residual = ((model.patchify(x)[None] - patches) * hidden).sum(0)  # [N, L, P]
    return model.unpatchify(residual / hidden.sum(0).clamp_min(1))


def band_residuals(model: Autoencoder, x: torch.Tensor, k_masks: int = SCORING_BANDS) -> np.ndarray:
    """A band inpainter's residual x - reconstruction [N, C, H, W] (numpy float32): see `band_residual_tensor`."""
    return band_residual_tensor(model, x, k_masks).float().cpu().numpy()


@torch.no_grad()
def band_residual_tensor(model: Autoencoder, x: torch.Tensor, k_masks: int = SCORING_BANDS) -> torch.Tensor:
    """A band inpainter's residual x - reconstruction [N, C, H, W], every row taken from the one pass of the K
    covering band masks (`covering_band_rows`) that hid it."""
    model.check_input(x)
    n, _, height, _ = x.shape
    residual = torch.zeros_like(x)
    for hidden in covering_band_rows(height, model.config.band_rows, k_masks).to(x.device):
        rows = hidden.expand(n, -1)
        image = model.reconstruct(x, hidden_rows=rows).image
        residual += (x - image) * rows[:, None, :, None]
    return residual


def anomaly_maps(
    model: Autoencoder,
    images: np.ndarray,
    method: str = "rfi",
    k_masks: int | None = None,
    mask_ratio: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """images float32 [N, C, H, W] in [0, 1] at the model's size -> scores float32 [N, H, W] (0 on no-data).

    mask_ratio: the MAE's; None = the ratio it was trained at (`scoring_mask_ratio`); k_masks as in `residuals`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device)
    residual = residuals(model, x, k_masks, scoring_mask_ratio(model, mask_ratio), seed)
    return score_residual(images, residual, method)


def scoring_mask_ratio(model: Autoencoder, mask_ratio: float | None = None) -> float:
    """The MAE's mask ratio for scoring: the given one, else the ratio it was trained at (a MAE is out of
    distribution at other ratios); 0 for models without a mask."""
    if mask_ratio is not None:
        return mask_ratio
    return float(getattr(model.config, "train_mask_ratio", 0.0))
