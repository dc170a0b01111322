"""rfi_models: MAE, CAE and DAE autoencoders for MNIST and dual-polarisation Sentinel-1 RFI detection."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .models import Reconstruction, create_model, list_models, list_presets

__all__ = [
    "CheckpointError",
    "Reconstruction",
    "create_model",
    "list_models",
    "list_presets",
    "load_checkpoint",
    "save_checkpoint",
]
