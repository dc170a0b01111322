"""Names every layer shares, importable without torch: the data domains and the model families."""

from __future__ import annotations

import os
from pathlib import Path

DOMAINS = ("mnist", "sar")
FAMILIES = ("mae", "cae", "dae")  # in display order; the same set as rfi_models.list_models()
CHECKPOINTS_ENV = "RFI_MODELS_CHECKPOINTS"


def checkpoints_dir() -> Path:
    """The checkpoints folder: $RFI_MODELS_CHECKPOINTS when set, else the repository's `checkpoints/` beside the
    package (never relative to the working directory)."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or Path(__file__).resolve().parents[1] / "checkpoints")


def check_domain(domain: str) -> None:
    """ValueError unless `domain` is one of DOMAINS."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
