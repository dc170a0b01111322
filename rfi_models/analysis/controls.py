"""No-model controls: "reconstructions" made without any model, scored exactly like a model's.

A model earns its place in RFI detection only if its residual (input - reconstruction) carries more about
RFI than a residual that needs no model. Two such residuals, each put through the same scores
(`anomaly.score_residual`: `error`, `ssim`, `rfi`) and the same learned secondary step:

- `control-input`: the reconstruction is nothing (zeros), so the residual is the input itself;
- `control-median`: the reconstruction is each patch's per-channel median over its valid pixels (no-data,
  exact zeros in every channel, left out), so the residual is the input minus that constant.
"""

from __future__ import annotations

import numpy as np

from ..data.quicklook import valid_pixels

CONTROLS = ("control-input", "control-median")


def control_reconstruction(name: str, images: np.ndarray) -> np.ndarray:
    """images float32 [N, C, H, W] in [0, 1] -> the control's reconstruction, float32 [N, C, H, W]."""
    if name == "control-input":
        return np.zeros_like(images, dtype=np.float32)
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
