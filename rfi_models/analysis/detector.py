"""RFI detectors: a checkpoint or the baseline, a score map for inputs of any size, and a threshold.

A detector scores tiles of its model's size (the baseline uses the SAR patch size too) and blends
them over the input with `tiling.score_tiled`. The default threshold is the checkpoint's calibrated one
(`metrics.rfi_threshold`, written by the evaluation), else it is calibrated on the spot: the best-F1
threshold on synthetic validation patches (seed of the "val" split, never the test set).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_sar
from .anomaly import METHODS, anomaly_maps
from .baseline import baseline_scores
from .tiling import ScoreFn, score_tiled

CALIBRATION_PATCHES = 32
PRECISIONS = ("float32", "bfloat16")
DEFAULT_PRECISION = "float32"  # of the command lines


@dataclass
class Detector:
    name: str
    score_batch: ScoreFn  # [B, 2, th, tw] in [0, 1] -> [B, th, tw]
    tile: tuple[int, int]
    threshold: float

    @classmethod
    def baseline(cls, threshold: float | None = None) -> Detector:
        detector = cls("baseline", baseline_scores, SAR_SIZE, threshold if threshold is not None else np.nan)
        return detector.calibrated() if threshold is None else detector

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        method: str = "rfi",
        threshold: float | None = None,
        k_masks: int = 4,
        mask_ratio: float = 0.75,
        precision: str = "float32",
    ) -> Detector:
        """`precision` "bfloat16" runs the model's matrix products in bfloat16 (torch.autocast), the rest in float32:
        faster on CPUs with native bfloat16 (AVX512-BF16, AMX), with the same detection metrics (see README)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        model, info = load_checkpoint(path)
        if info["domain"] != "sar" or model.config.in_chans != 2:
            raise CheckpointError(f"{Path(path).name} is a {info['domain']} model; RFI detection needs a SAR model")

        def score_batch(tiles: np.ndarray) -> np.ndarray:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                return anomaly_maps(model, tiles, method, k_masks=k_masks, mask_ratio=mask_ratio)

        stored = info.get("metrics", {}).get(f"rfi_threshold_{method}")
        chosen = threshold if threshold is not None else stored
        detector = cls(Path(path).stem, score_batch, model.config.img_size, np.nan if chosen is None else chosen)
        return detector if chosen is not None else detector.calibrated()

    def calibrated(self, n: int = CALIBRATION_PATCHES) -> Detector:
        """This detector with the best-F1 threshold on `n` synthetic validation patches."""
        from ..metrics import rfi_pixel_metrics  # scikit-learn: imported only when calibrating

        images, truth = synthetic_sar(n, *self.tile, seed=SPLIT_SEEDS["val"], rfi_probability=0.5)
        with torch.no_grad():
            scores = np.concatenate([self.score_batch(images[i : i + 4]) for i in range(0, n, 4)])
        best = rfi_pixel_metrics(scores, truth, images)["best_f1_threshold"]
        return Detector(self.name, self.score_batch, self.tile, float(best))

    def score(
        self, image, out: np.ndarray | None = None, to_unit=lambda block: block, progress=None, threads: int = 1
    ) -> np.ndarray:
        """Score map float32 [H, W] of an array-like [2, H, W] image of any size (at least 20 x 20); `threads` rows of
        tiles at a time (see `tiling.score_tiled`)."""
        return score_tiled(
            self.score_batch, image, self.tile, out=out, to_unit=to_unit, progress=progress, threads=threads
        )


def recorded_baseline_threshold(folder: str | Path) -> float | None:
    """The baseline's calibrated threshold recorded by `python -m train.evaluate` in folder/results.json, if any."""
    try:
        return float(json.loads((Path(folder) / "results.json").read_text())["sar"]["baseline"]["threshold"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store_calibrated_thresholds(path: str | Path, methods: tuple[str, ...] = METHODS) -> dict[str, float]:
    """Calibrate a SAR checkpoint's threshold for every score method and write them into its metadata."""
    model, info = load_checkpoint(path)
    thresholds = {
        f"rfi_threshold_{method}": Detector.from_checkpoint(path, method).threshold
        if info.get("metrics", {}).get(f"rfi_threshold_{method}") is None
        else info["metrics"][f"rfi_threshold_{method}"]
        for method in methods
    }
    extra = {k: v for k, v in info.items() if k not in ("format", "architecture", "config", "normalization")}
    extra["metrics"] = {**info.get("metrics", {}), **thresholds}
    save_checkpoint(model, path, **extra)
    return thresholds
