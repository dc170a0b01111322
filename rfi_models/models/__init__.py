"""The three autoencoder families, one file each, behind a small registry."""

from .base import Autoencoder, AutoencoderConfig, Reconstruction

# Importing each family registers it.
from .cae import CAEConfig, ConvAutoencoder
from .dae import DAE_NOISE, DAEConfig, DenoisingAutoencoder
from .mae import MAEConfig, MaskedAutoencoder
from .registry import create_model, list_models, list_presets, model_class, model_from_config, register_model

__all__ = [
    "DAE_NOISE",
    "Autoencoder",
    "AutoencoderConfig",
    "CAEConfig",
    "ConvAutoencoder",
    "DAEConfig",
    "DenoisingAutoencoder",
    "MAEConfig",
    "MaskedAutoencoder",
    "Reconstruction",
    "create_model",
    "list_models",
    "list_presets",
    "model_class",
    "model_from_config",
    "register_model",
]
