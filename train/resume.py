"""The resume file next to a checkpoint: model weights, optimizer state and progress, in safetensors (nothing is
pickled), written atomically at the end of every epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors import safe_open
from safetensors.torch import save

from rfi_models.artifacts.atomic import write_bytes

if TYPE_CHECKING:
    from rfi_models.models import Autoencoder


def resume_path(checkpoint: str | Path) -> Path:
    """The resume file of the checkpoint path `checkpoint`: beside it, with the suffix .resume."""
    return Path(checkpoint).with_suffix(".resume")


def save_resume_state(path: Path, model: Autoencoder, optimizer: torch.optim.Optimizer, progress: dict) -> None:
    state = optimizer.state_dict()
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    scalars = {}
    for index, slots in state["state"].items():
        for key, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"optim.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    meta = {"progress": progress, "param_groups": state["param_groups"], "scalars": scalars}
    write_bytes(path, save(tensors, metadata={"resume": json.dumps(meta)}))


def load_resume_state(path: Path, model: Autoencoder, optimizer: torch.optim.Optimizer) -> dict:
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["resume"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    slots: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            slots.setdefault(int(index), {})[name] = value
    for key, value in meta["scalars"].items():
        index, name = key.split(".", 1)
        slots.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": slots, "param_groups": meta["param_groups"]})
    return meta["progress"]
