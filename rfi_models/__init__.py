"""rfi_models: MAE, CAE and DAE autoencoders for MNIST and dual-polarisation Sentinel-1 RFI detection.

The names below are imported on first use: the model names import torch (seconds on a small machine), so
a program reading only data, images or checkpoint metadata, like the app's first page, starts without it, and
`python -m rfi_models.artifacts.manifest` runs a module the package has not imported yet.
Importing the package changes no process-wide setting: programs that want glibc to keep large blocks
(training, detection, the app, the benchmarks) call `rfi_models.runtime.keep_large_blocks()` themselves.
"""

from __future__ import annotations

import importlib

HOMES = {
    "CheckpointError": ".artifacts.errors",
    "load_checkpoint": ".artifacts.checkpoint",
    "save_checkpoint": ".artifacts.checkpoint",
    "Reconstruction": ".models",
    "create_model": ".models",
    "list_models": ".models",
    "list_presets": ".models",
}

__all__ = list(HOMES)


def __getattr__(name: str):
    if name in HOMES:
        return getattr(importlib.import_module(HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
