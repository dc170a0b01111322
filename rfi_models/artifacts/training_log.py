"""The JSON-lines training log written by `python -m train` (one record per line, see train/engine.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TrainingLog:
    steps: list[int]  # optimiser step of each logged training loss
    step_losses: list[float]  # running mean of the training loss over the last logging interval
    epochs: list[int]
    train_losses: list[float]  # per epoch
    val_losses: list[float]  # per epoch, on the validation split
    log_every: int | None = None  # optimiser steps per logged training loss (from the run's start record)

    def step_loss_label(self) -> str:
        """What a logged training loss averages, for plot legends."""
        return f"training loss (per {self.log_every} steps)" if self.log_every else "training loss (logged steps)"


def read_training_log(path: str | Path) -> TrainingLog:
    """Parse a log; lines that are not JSON objects (e.g. a line cut off by a crash) are skipped. A log may go on
    with a fine-tune of the same model (a start record with `init_from`, see `python -m train --init-from`): its
    epochs and steps are numbered on from where the run before it ended."""
    records: list[dict] = []
    epoch_offset = step_offset = 0
    for line in Path(path).read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("event") == "start" and record.get("init_from") and records:
            epoch_offset = max((r["epoch"] for r in records if r.get("event") == "epoch"), default=0)
            step_offset = max((r["step"] for r in records if r.get("event") == "step"), default=0)
        if epoch_offset or step_offset:
            record = record | {
                key: record[key] + offset
                for key, offset in (("epoch", epoch_offset), ("step", step_offset))
                if isinstance(record.get(key), int)
            }
        records.append(record)
    steps = [r for r in records if r.get("event") == "step"]
    epochs = [r for r in records if r.get("event") == "epoch"]
    starts = [r for r in records if r.get("event") in ("start", "resume") and isinstance(r.get("log_every"), int)]
    return TrainingLog(
        [r["step"] for r in steps],
        [r["loss"] for r in steps],
        [r["epoch"] for r in epochs],
        [r["train_loss"] for r in epochs],
        [r["val_loss"] for r in epochs],
        starts[-1]["log_every"] if starts else None,
    )
