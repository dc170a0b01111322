"""Side-by-side reconstructions of one image by several models, with error maps and PSNR/SSIM."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..metrics import image_quality
from ..models import DAE_NOISE, Autoencoder, MaskedAutoencoder


@dataclass
class ModelReconstruction:
    family: str  # the model's key: its family, or a family with its masking ("mae · rows", `view.model_names`)
    model_input: np.ndarray  # [C, H, W]: masked (MAE, band inpainter), noisy (DAE) or the image (CAE)
    reconstruction: np.ndarray  # [C, H, W] the model's raw output
    composite: np.ndarray  # [C, H, W] MAE: reconstruction on hidden pixels + the visible input; else = reconstruction
    mask: np.ndarray | None  # [H, W] bool, MAE and band inpainters only: hidden pixels
    error: np.ndarray  # [H, W] absolute error of the composite averaged over channels (MAE: 0 on visible pixels)
    quality: dict[str, float]  # rfi_models.metrics.image_quality: psnr, ssim (+ psnr_hidden, psnr_raw, ssim_raw)


@torch.no_grad()
def reconstruct_all(
    models: dict[str, Autoencoder],
    image: np.ndarray,
    mask_ratio: float,
    seed: int,
    noise_factor: float = DAE_NOISE,
    mask_scheme: str | None = None,
) -> list[ModelReconstruction]:
    """Reconstruct image [C, H, W] in [0, 1] with every model (MAE at mask_ratio, hiding random patches or whole
    rows of patches by `mask_scheme`, None = the scheme each MAE was trained with; DAE at noise_factor; a band
    inpainter hides one of the covering band masks it is trained and scored with, drawn by `seed`)."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
    views = []
    for family, model in models.items():
        mae = isinstance(model, MaskedAutoencoder)
        scheme = {"mask_scheme": mask_scheme} if mae else {}
        ratio = mask_ratio if mae else 0.0  # 0: an inpainter's own (covering) bands
        out = model.reconstruct(x, mask_ratio=ratio, noise_factor=noise_factor, seed=seed, **scheme)
        reconstruction, composite = out.image[0].numpy(), out.composite[0].numpy()
        mask = None if out.mask is None else out.mask[0].numpy()
        views.append(
            ModelReconstruction(
                family=family,
                model_input=out.model_input[0].numpy(),
                reconstruction=reconstruction,
                composite=composite,
                mask=mask,
                error=np.abs(image - composite).mean(axis=0),
                quality=image_quality(image, reconstruction, mask),
            )
        )
    return views
