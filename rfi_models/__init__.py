"""rfi_models: MAE, CAE and DAE autoencoders for MNIST and dual-polarisation Sentinel-1 RFI detection.

The model names below are imported on first use (they import torch, about 2 s on a 2-core machine), so that
a program reading only data, images or checkpoint metadata, like the app's first page, starts without it.
Importing the package changes no process-wide setting: programs that want glibc to keep large blocks
(training, detection, the app, the benchmarks) call `rfi_models.runtime.keep_large_blocks()` themselves.
"""

from __future__ import annotations

import importlib

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint

MODEL_NAMES = ("Reconstruction", "create_model", "list_models", "list_presets")

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint", *MODEL_NAMES]


def __getattr__(name: str):
    if name in MODEL_NAMES:
        return getattr(importlib.import_module(".models", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
