"""Per-pixel scores of a residual (input - reconstruction): numpy and scipy only, no torch.

Three score maps, all float32 [N, H, W], higher = more anomalous, exactly 0 on no-data:
- "error": squared reconstruction error, averaged over channels.
- "ssim":  1 - local SSIM with the original study's 20 x 100 window (rows x columns), averaged over channels.
- "rfi":   what is left of the residual after RFI's structure is asked for (see `rfi_score`).

Kept apart from `detection.anomaly` (which computes the residuals with torch) so that a process that takes its
residuals from another engine (`detection.onnx_engine`) scores them without importing torch.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..data.quicklook_scale import valid_pixels

METHODS = ("error", "ssim", "rfi")
SSIM_SCORE_WINDOW = (20, 100)  # rows (azimuth) x columns (range), as in the original study
RANGE_SMOOTHING = 41  # columns: RFI is long along range, ships and seams are not
AZIMUTH_BACKGROUND = 81  # rows: anything taller than this (land, wind fronts) is background
C1, C2 = 0.01**2, 0.03**2


def squared_error(residual: np.ndarray) -> np.ndarray:
    return (residual**2).mean(axis=1).astype(np.float32)


def local_ssim_anomaly(images: np.ndarray, reconstructions: np.ndarray, window=SSIM_SCORE_WINDOW) -> np.ndarray:
    """1 - SSIM in a uniform rows x columns window, per channel, averaged: [N, C, H, W] x 2 -> [N, H, W]."""
    size = (1, 1, *window)

    def mean(a):
        return ndimage.uniform_filter(a, size=size, mode="reflect")

    x, y = images.astype(np.float64), reconstructions.astype(np.float64)
    mx, my = mean(x), mean(y)
    vx, vy, cov = mean(x * x) - mx**2, mean(y * y) - my**2, mean(x * y) - mx * my
    ssim = ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx**2 + my**2 + C1) * (vx + vy + C2))
    return (1 - ssim).mean(axis=1).astype(np.float32)


def rfi_score(residual: np.ndarray) -> np.ndarray:
    """Residual [N, 2, H, W] (VV, VH) -> RFI score [N, H, W].

    1. VH excess: RFI adds power mostly in VH, ships and land are bright in both channels, so the score
       starts from the VH residual above what the VV residual explains: relu(r_VH) - relu(r_VV).
    2. Range smoothing: a mean over RANGE_SMOOTHING columns keeps stripes that run along range and
       dilutes compact ships and vertical seams.
    3. Azimuth background: the running median over AZIMUTH_BACKGROUND rows is removed, so that tall
       regions (land, wind texture) drop out while stripes 2 to 30 rows tall stay.
    """
    positive = np.clip(residual, 0, None)
    excess = np.clip(positive[:, 1] - positive[:, 0], 0, None)
    along_range = ndimage.uniform_filter1d(excess, RANGE_SMOOTHING, axis=2, mode="nearest")
    background = running_median_along_rows(along_range, AZIMUTH_BACKGROUND)
    return np.clip(along_range - background, 0, None).astype(np.float32)


def running_median_along_rows(values: np.ndarray, size: int) -> np.ndarray:
    """Running median over `size` rows (edges repeated) of [N, H, W], the same values as
    `ndimage.median_filter(values, size=(1, size, 1), mode="nearest")`.

    scipy's 1-D median filter is much faster than its N-d one with a one-axis window, and its per-call
    overhead exceeds the work on one column: so every column, padded with size // 2 copies of its edge values
    at both ends, goes into one long 1-D array filtered in a single call. No window reaches past its column's
    padding, so each output is the median of its own column's window.
    """
    half = size // 2
    n, height, width = values.shape
    columns = np.moveaxis(values, 1, -1).reshape(-1, height)  # [N * W, H]
    padded = np.concatenate([np.repeat(columns[:, :1], half, 1), columns, np.repeat(columns[:, -1:], half, 1)], 1)
    medians = ndimage.median_filter(padded.reshape(-1), size=size, mode="nearest").reshape(padded.shape)
    return np.ascontiguousarray(np.moveaxis(medians[:, half : half + height].reshape(n, width, height), -1, 1))


def score_residual(images: np.ndarray, residual: np.ndarray, method: str) -> np.ndarray:
    """The score `method` of a residual: images, residual [N, C, H, W] -> scores float32 [N, H, W] (0 on no-data).

    Models and the no-model controls (`detection.controls`) are scored through this one function, so that
    they differ only in the residual."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "error":
        scores = squared_error(residual)
    elif method == "ssim":
        scores = local_ssim_anomaly(images, images - residual)
    else:
        scores = rfi_score(residual)
    scores[~valid_pixels(images)] = 0
    return scores
