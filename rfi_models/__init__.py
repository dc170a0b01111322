"""rfi_models: MAE, CAE and DAE autoencoders for MNIST and dual-polarisation Sentinel-1 RFI detection."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .models import Reconstruction, create_model, list_models, list_presets
from .runtime import keep_large_blocks

keep_large_blocks()  # large tensors reuse heap memory instead of fresh pages (see runtime.py)

__all__ = [
    "CheckpointError",
    "Reconstruction",
    "create_model",
    "list_models",
    "list_presets",
    "load_checkpoint",
    "save_checkpoint",
]
