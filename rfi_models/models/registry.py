"""A small model registry: `register_model`, `create_model`, `list_models`, `model_from_config`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Autoencoder

_MODELS: dict[str, type[Autoencoder]] = {}


def register_model(cls: type[Autoencoder]) -> type[Autoencoder]:
    """Class decorator: make a family available under `cls.name`."""
    _MODELS[cls.name] = cls
    return cls


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_class(name: str) -> type[Autoencoder]:
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _MODELS[name]


def list_presets(name: str) -> list[str]:
    return sorted(model_class(name).presets)


def create_model(name: str, preset: str = "mnist", **overrides) -> Autoencoder:
    """Build a model from a named preset ("mnist" or "sar"), with config fields overridden by keyword."""
    cls = model_class(name)
    if preset not in cls.presets:
        raise KeyError(f"unknown preset {preset!r} for {name}; available: {', '.join(list_presets(name))}")
    return model_from_config(name, {**dataclasses.asdict(cls.presets[preset]), **overrides})


def model_from_config(name: str, config: dict) -> Autoencoder:
    """Rebuild a model from its family name and a plain config dict (as stored in checkpoints)."""
    cls = model_class(name)
    known = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown config fields for {name}: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(cls.config_class(**config))
