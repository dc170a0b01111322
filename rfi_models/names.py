"""Names every layer shares, importable without torch: the data domains, the model families, the shipped files' names
and the checkpoints folder."""

from __future__ import annotations

import os
from pathlib import Path

DOMAINS = ("mnist", "sar")
FAMILIES = ("mae", "cae", "dae")  # in display order; the same set as rfi_models.list_models()
CHECKPOINTS_ENV = "RFI_MODELS_CHECKPOINTS"
MASK_SCHEMES = ("random", "rows")  # what an MAE hides: random patches, or whole rows of patches
MAE_DISPLAY_RATIO = 0.75  # the MAE's mask ratio where one ratio is shown: the app's default, latent maps, tables


def checkpoints_dir() -> Path:
    """The checkpoints folder: $RFI_MODELS_CHECKPOINTS when set, else the repository's `checkpoints/` beside the
    package (never relative to the working directory)."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or Path(__file__).resolve().parents[1] / "checkpoints")


def checkpoint_name(family: str, domain: str) -> str:
    """The file name of a family's shipped checkpoint for a domain (a variant such as `mae_rows` is a family here)."""
    return f"{family}_{domain}.safetensors"


def latent_maps_name(domain: str) -> str:
    """The file name of a domain's precomputed latent maps."""
    return f"latents_{domain}.npz"


def check_domain(domain: str) -> None:
    """ValueError unless `domain` is one of DOMAINS."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
