"""Checkpoints: one safetensors file per model, JSON metadata beside the weights, no pickle.

The safetensors header carries one metadata entry, "rfi_models", a JSON document:
    {"format": 1, "architecture": "mae", "config": {...}, "domain": "mnist",
     "normalization": {"input_range": [0, 1], "mean": [...], "std": [...]},
     "training": {...}, "metrics": {...}, ...any other info given to save_checkpoint}
`load_checkpoint` rebuilds the model from that document alone and loads the tensors strictly.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .models import Autoencoder, model_from_config

FORMAT_VERSION = 1
METADATA_KEY = "rfi_models"
DOMAINS = ("mnist", "sar")


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, of another format, or does not match its model."""


def save_checkpoint(
    model: Autoencoder,
    path: str | Path,
    *,
    domain: str,
    training: dict | None = None,
    metrics: dict | None = None,
    **info,
) -> Path:
    """Write `model` to `path` (.safetensors). Every value in `info` must be JSON-serialisable."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    config = model.config.to_dict()
    document = {
        "format": FORMAT_VERSION,
        "architecture": model.name,
        "config": config,
        "domain": domain,
        "normalization": {"input_range": [0.0, 1.0], "mean": config["mean"], "std": config["std"]},
        "training": training or {},
        "metrics": metrics or {},
        **info,
    }
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(document)})
    return path


def read_checkpoint_info(path: str | Path) -> dict:
    """The metadata document of a checkpoint, without loading its tensors."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name}: not a readable safetensors checkpoint ({err})") from None
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path.name}: a safetensors file, but not an rfi_models checkpoint (no metadata)")
    try:
        document = json.loads(metadata[METADATA_KEY])
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path.name}: checkpoint metadata is not valid JSON ({err})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path.name}: unsupported checkpoint format (expected format {FORMAT_VERSION})")
    for key in ("architecture", "config", "domain"):
        if key not in document:
            raise CheckpointError(f"{path.name}: checkpoint metadata lacks {key!r}")
    return document


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[Autoencoder, dict]:
    """Rebuild the model described by the file and load its weights; returns (model in eval mode, info)."""
    path = Path(path)
    info = read_checkpoint_info(path)
    try:
        model = model_from_config(info["architecture"], info["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path.name}: cannot rebuild the model from its metadata ({err})") from None
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            state = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open has no iterator)
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name}: corrupt tensor data ({err})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        summary = str(err).splitlines()[0]
        raise CheckpointError(
            f"{path.name}: weights do not match the {info['architecture']} config ({summary})"
        ) from None
    return model.to(device).eval(), info


def find_checkpoints(folder: str | Path) -> tuple[list[tuple[Path, dict]], list[str]]:
    """Every *.safetensors checkpoint in `folder` -> ([(path, info)], [problems with unreadable files])."""
    found, problems = [], []
    for path in sorted(Path(folder).glob("*.safetensors")):
        try:
            found.append((path, read_checkpoint_info(path)))
        except CheckpointError as err:
            problems.append(str(err))
    return found, problems
