"""What both representation studies (MNIST: `train.evaluate.representation_study`, SAR:
`train.evaluate.representation_sar`) share: the checkpoints they load and their random-init copies, the feature
cache, and the fixed probe protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rfi_models
from rfi_models.analysis.probes import C_GRID, MAX_ITER, VALIDATION_SHARE
from rfi_models.analysis.representation import random_copy
from rfi_models.artifacts.atomic import atomic_path
from rfi_models.artifacts.manifest import file_sha256

RANDOM_SEED = 0
PROBE_SEED = 0
RANDOM = " (random init)"


def load_models(folder: Path, stems: dict[str, str]) -> tuple[dict, dict]:
    """The checkpoints of `stems` that exist: ({name: model}, {name: {"file", "sha256"}})."""
    models, records = {}, {}
    for name, stem in stems.items():
        path = Path(folder) / f"{stem}.safetensors"
        if path.exists():
            models[name] = rfi_models.load_checkpoint(path)[0]
            records[name] = {"file": path.name, "sha256": file_sha256(path)}
    return models, records


def with_random_copies(models: dict) -> dict:
    """The models, plus one random-init copy per architecture (a family once: the fixed MAE shares the MAE's)."""
    copies = {}
    for model in models.values():
        if not any(f"{model.name}{RANDOM}" == key for key in copies):
            copies[f"{model.name}{RANDOM}"] = random_copy(model, RANDOM_SEED)
    return models | copies


def cached_features(path: Path, compute) -> dict[str, dict[str, np.ndarray]]:
    """{set: {stage: features}} from the .npz at `path`, or compute() and write it there (atomically)."""
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            found: dict = {}
            for key in data.files:
                name, _, stage = key.partition("/")
                found.setdefault(name, {})[stage] = data[key]
            return found
    found = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        np.savez(temporary, **{f"{name}/{stage}": v for name, stages in found.items() for stage, v in stages.items()})
    return found


def cache_key(records: dict, *extra) -> str:
    return "_".join([*(r["sha256"][:8] for r in records.values()), *map(str, extra)])


def protocol(extra: dict) -> dict:
    fixed = {"C_grid": list(C_GRID), "max_iter": MAX_ITER, "validation_share": VALIDATION_SHARE, "solver": "lbfgs",
             "probe_seed": PROBE_SEED, "random_init_seed": RANDOM_SEED, "standardised": True}  # fmt: skip
    return fixed | extra
