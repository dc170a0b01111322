"""The training recipes: the settings of one run (`TrainConfig`) and each family's defaults per domain (`RECIPES`),
found by `recipe(model, domain, **changes)`. The loop that runs them is `train.engine`."""

from __future__ import annotations

from dataclasses import dataclass, field

from rfi_models.names import checkpoint_name, checkpoints_dir


@dataclass
class TrainConfig:
    model: str
    domain: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_epochs: float = 1.0
    min_lr_ratio: float = 0.01
    seed: int = 0
    train_size: int | None = None  # SAR: patches generated; MNIST: first N of the 55k (None = all)
    val_size: int | None = None
    rfi_probability: float = 0.0  # SAR training patches carrying RFI
    real_share: float = 0.0  # SAR: share of training and validation patches with real backgrounds (train/data.py)
    overrides: dict = field(default_factory=dict)  # model config fields
    out: str = ""
    log: str = ""
    log_every: int = 10
    max_steps: int | None = None  # stop early (tests)
    crop: tuple[int, int] | None = None  # train on random crops of this size (fully convolutional models); val: whole
    # Convergence: stop once validation loss improved by less than converge_tolerance (relative) over the last
    # converge_window epochs; `epochs` is then only the ceiling (and the length of the cosine schedule).
    converge_window: int = 3
    converge_tolerance: float = 0.01
    # Fine-tuning: start from this checkpoint's weights (same family and model config) with a fresh optimizer and
    # schedule, instead of from seeded random weights. A resume file, when continued, replaces them.
    init_from: str | None = None


RECIPES: dict[tuple[str, str], dict] = {
    ("mae", "mnist"): dict(epochs=24, batch_size=128, lr=1e-3, weight_decay=0.05, betas=(0.9, 0.95)),
    ("cae", "mnist"): dict(epochs=40, batch_size=128, lr=1e-3, weight_decay=1e-4),
    ("dae", "mnist"): dict(epochs=20, batch_size=20, lr=1e-3, weight_decay=0.0, warmup_epochs=0.1),
    # SAR: 480 RFI-free synthetic patches, 24 for validation; short epochs so that the convergence stop is checked
    # often; the DAE trains on 84 x 124 crops (it is fully convolutional), the CAE and MAE on whole patches. The
    # MAE gets 1920 patches: on 480 it stayed behind interpolating hidden patches from their neighbours.
    ("mae", "sar"): dict(
        epochs=12, batch_size=8, lr=1e-3, weight_decay=0.05, betas=(0.9, 0.95), train_size=1920, val_size=24
    ),
    ("cae", "sar"): dict(
        epochs=20, batch_size=4, lr=1e-3, weight_decay=1e-4, warmup_epochs=0.5, train_size=480, val_size=24
    ),
    ("dae", "sar"): dict(
        epochs=40,
        batch_size=8,
        lr=3e-3,
        weight_decay=0.0,
        warmup_epochs=0.2,
        train_size=480,
        val_size=24,
        crop=(84, 124),
    ),
}
VAL_SIZES = {"mnist": 5000, "sar": 64}


def recipe(model: str, domain: str, **changes) -> TrainConfig:
    """The default recipe for a family and domain, with fields changed by keyword (None = keep)."""
    base = dict(model=model, domain=domain, **RECIPES[(model, domain)])
    base |= {k: v for k, v in changes.items() if v is not None}
    config = TrainConfig(**base)
    config.out = config.out or str(checkpoints_dir() / checkpoint_name(model, domain))
    config.log = config.log or str(checkpoints_dir() / "logs" / f"{model}_{domain}.jsonl")
    return config
