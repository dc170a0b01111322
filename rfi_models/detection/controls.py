"""No-model controls: "reconstructions" made without any model, scored exactly like a model's.

A model earns its place in RFI detection only if its residual (input - reconstruction) carries more about
RFI than a residual that needs no model. Two such residuals, each put through the same scores
(`anomaly.score_residual`: `error`, `ssim`, `rfi`) and the same learned secondary step:

- `control-input`: the reconstruction is nothing (zeros), so the residual is the input itself;
- `control-median`: the reconstruction is each patch's per-channel median over its valid pixels (no-data,
  exact zeros in every channel, left out), so the residual is the input minus that constant;
- `control-band`: band interpolation, what a band inpainter or a row-masked MAE does with no model. The rows are
  cut into bands of `BAND_ROWS` (the covering bands of `models.bands`, every row in exactly one band), and each
  band is predicted, per column and channel, by linear interpolation between the row just above it and the row
  just below it (the one that exists, at the top and bottom of the patch). A stripe inside a band is not in
  either row, so it stays in the residual; the rows around it are predicted from background.
"""

from __future__ import annotations

import numpy as np

from ..data.quicklook_scale import valid_pixels

CONTROLS = ("control-input", "control-median", "control-band")


def band_interpolation(images: np.ndarray, band_rows: int | None = None) -> np.ndarray:
    """images [N, C, H, W] -> float32 [N, C, H, W]: each band of band_rows rows (None = `models.bands.BAND_ROWS`)
    interpolated, per column, between the row above the band and the row below it (the nearer one alone at the
    patch's top and bottom edge)."""
    if band_rows is None:
        from ..models.bands import BAND_ROWS as band_rows  # torch: imported only where a band control scores
    height = images.shape[2]
    out = np.empty_like(images, dtype=np.float32)
    for top in range(0, height, band_rows):
        bottom = min(top + band_rows, height)  # the band is rows [top, bottom)
        has_above, has_below = top > 0, bottom < height
        if not (has_above or has_below):  # one band covers the patch: nothing outside it to interpolate from
            out[:] = images.mean(axis=2, keepdims=True)
            break
        above = images[:, :, top - 1] if has_above else images[:, :, bottom]
        below = images[:, :, bottom] if has_below else images[:, :, top - 1]
        weight = ((np.arange(top, bottom) - (top - 1)) / (bottom - top + 1))[None, None, :, None]
        out[:, :, top:bottom] = (1 - weight) * above[:, :, None] + weight * below[:, :, None]
    return out


def control_reconstruction(name: str, images: np.ndarray) -> np.ndarray:
    """images float32 [N, C, H, W] in [0, 1] -> the control's reconstruction, float32 [N, C, H, W]."""
    if name == "control-input":
        return np.zeros_like(images, dtype=np.float32)
    if name == "control-band":
        return band_interpolation(images)
    if name != "control-median":
        raise ValueError(f"control must be one of {CONTROLS}, got {name!r}")
    valid = valid_pixels(images)  # [N, H, W]
    out = np.zeros_like(images, dtype=np.float32)
    for i, (image, keep) in enumerate(zip(images, valid, strict=True)):
        if keep.any():
            out[i] = np.median(image[:, keep], axis=1)[:, None, None]
    return out


def control_residual(name: str, images: np.ndarray) -> np.ndarray:
    """images [N, C, H, W] -> residual images - control reconstruction, float32 [N, C, H, W]."""
    images = np.asarray(images, dtype=np.float32)
    return images - control_reconstruction(name, images)


def control_residual_fn(name: str):
    """The control's residual as a function of tiles [B, C, H, W], like a model's (`detector.model_residual_fn`)."""
    if name not in CONTROLS:
        raise ValueError(f"control must be one of {CONTROLS}, got {name!r}")
    return lambda tiles: control_residual(name, tiles)
