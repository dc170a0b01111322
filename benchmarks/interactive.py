"""What one click in the app costs: reconstructions plus attention rollout, and Integrated Gradients, per image.

`interact_ms` is what the Reconstruction and Explanations pages compute for one image: the three
reconstructions with their error maps and PSNR/SSIM (`reconstruct_all`, MAE at mask ratio 0.75, DAE noise
0.5) and the MAE's attention rollout. `integrated_gradients_ms` is Captum's Integrated Gradients (32 steps,
target: reconstruction error) through each model, as `attribute` runs it for the Explanations page.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import rfi_models
from rfi_models.analysis import attention_rollout, attribute, reconstruct_all
from rfi_models.models import Autoencoder
from rfi_models.names import FAMILIES, MAE_DISPLAY_RATIO, checkpoint_name, checkpoints_dir
from rfi_models.view.gallery import gallery_image

from .timing import median_ms

CHECKPOINTS = checkpoints_dir()
MASK_RATIO = MAE_DISPLAY_RATIO  # the app's default
SEED = 0
IG_STEPS = 32
SAR_GALLERY_INDEX = 1  # a synthetic 340 x 500 test patch


def shipped_models(domain: str, folder: Path = CHECKPOINTS) -> dict[str, Autoencoder]:
    """The shipped checkpoint of every family for `domain`, loaded as the app loads them."""
    return {family: rfi_models.load_checkpoint(folder / checkpoint_name(family, domain))[0] for family in FAMILIES}


def benchmark_image(domain: str) -> np.ndarray:
    """float32 [C, H, W] in [0, 1]: MNIST test digit #0, or a 340 x 500 synthetic SAR test patch."""
    return gallery_image(domain, 0 if domain == "mnist" else SAR_GALLERY_INDEX).image


def interact_ms(models: dict[str, Autoencoder], image: np.ndarray, repeats: int) -> float:
    """Median ms for one image: every model's reconstruction with error map and PSNR/SSIM, plus MAE rollout."""
    x = torch.from_numpy(image)[None]
    mae = models["mae"]

    def interact() -> None:
        reconstruct_all(models, image, MASK_RATIO, SEED)
        attention_rollout(mae, x, MASK_RATIO, SEED)

    return median_ms(interact, repeats)


def integrated_gradients_ms(
    models: dict[str, Autoencoder], image: np.ndarray, repeats: int, steps: int = IG_STEPS
) -> dict[str, float]:
    """Median ms of Integrated Gradients (`steps` steps) on one image, per family."""
    x = torch.from_numpy(image)[None]

    def explain(model: Autoencoder) -> None:
        attribute(model, x, "integrated_gradients", mask_ratio=MASK_RATIO, seed=SEED, steps=steps)

    return {family: median_ms(lambda model=model: explain(model), repeats) for family, model in models.items()}
