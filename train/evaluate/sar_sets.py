"""The SAR data sets of the evaluation, by purpose: training (the secondary classifier), validation (thresholds,
default detector), test (reported), the RFI-free test backgrounds (reconstruction floor), and the real RFI-free
quick-looks (false positives).

- synthetic: the generator at the seeds of `SPLIT_SEEDS` (train 1000, val 2000, test 3000), half the patches
  with RFI; the RFI-free test set is the same test patches with RFI switched off.
- semi-synthetic (`rfi_models.data.semisynthetic`): generator RFI injected into real RFI-free Sentinel-1
  backgrounds (quick-looks and BigEarthNet-S1 patches), split by acquisition, half the patches with RFI; the
  RFI-free test set is the same test backgrounds without RFI.
- real RFI-free: the seven real quick-looks, whole (red = co-pol, green = cross-pol); no RFI is visible in them,
  so every flagged pixel is a false positive. Four of them are backgrounds of the semi-synthetic training split.
- real RFI (`rfi_models.data.real_rfi`): the three real patches with real RFI and hand-drawn boxes, a
  *validation* set (thresholds and the default detector are chosen on it and the semi-synthetic validation
  set); never trained on. It is reported as its own column, "real RFI (3 patches, validation)".

Generated sets carry both RFI masks (`Labelled`): the visible one is the truth, the rest of the exact one is left
out (`train.evaluate.sar_metrics`).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np

from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.semisynthetic import real_quicklooks, scene_split, semi_synthetic
from rfi_models.data.synthetic_sar import SPLIT_SEEDS, synthetic_sar_truth

from .sar_metrics import Labelled, real_rfi_set


@dataclass
class SarSets:
    train: dict[str, Labelled] = field(default_factory=dict)
    val: dict[str, Labelled] = field(default_factory=dict)
    test: dict[str, Labelled] = field(default_factory=dict)
    clean_test: dict[str, np.ndarray] = field(default_factory=dict)  # RFI-free test images [N, 2, H, W]
    real: dict[str, np.ndarray] = field(default_factory=dict)  # real RFI-free images [2, H, W], any size
    real_rfi: Labelled | None = None  # the real RFI patches (validation)

    def calibration_name(self) -> str:
        """The validation set thresholds and the default detector are chosen on."""
        return "semi_synthetic" if "semi_synthetic" in self.val else "synthetic"

    def describe(self) -> dict:
        """Patches per set, the real images' sizes and the validation set used: what the results were made on."""

        def sizes(group: dict) -> dict:
            return {name: len(value) for name, value in group.items()}

        return {
            "train": sizes(self.train),
            "val": sizes(self.val),
            "test": sizes(self.test),
            "clean_test": sizes(self.clean_test),
            "real_rfi_free": {
                name: {"size": list(image.shape[1:]), "semi_synthetic_split": scene_split(name)}
                for name, image in self.real.items()
            },
            "real_rfi": len(self.real_rfi) if self.real_rfi is not None else 0,
            "calibration": self.calibration_name(),
        }


def add_set_arguments(parser: argparse.ArgumentParser, threads: int = 1) -> None:
    """The SAR set sizes every evaluation program takes (--sar-train, --sar-val, --sar-test) and --threads."""
    parser.add_argument("--sar-train", type=int, default=16, help="SAR training patches per set (the classifier)")
    parser.add_argument("--sar-val", type=int, default=24, help="SAR validation patches per set")
    parser.add_argument("--sar-test", type=int, default=32, help="SAR test patches per set")
    parser.add_argument("--threads", type=int, default=threads, help="torch CPU threads")


def synthetic_set(n: int, split: str, rfi_probability: float = 0.5) -> Labelled:
    images, exact, visible = synthetic_sar_truth(n, seed=SPLIT_SEEDS[split], rfi_probability=rfi_probability)
    return Labelled(images, visible, exact)


def synthetic_sets(n_train: int, n_val: int, n_test: int) -> SarSets:
    sets = SarSets()
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        getattr(sets, split)["synthetic"] = synthetic_set(n, split)
    sets.clean_test["synthetic"] = synthetic_set(n_test, "test", rfi_probability=0.0).images
    return sets


def load_sets(n_train: int, n_val: int, n_test: int) -> SarSets:
    """n_* synthetic and n_* semi-synthetic patches per split, the real RFI-free quick-looks and the real RFI."""
    sets = synthetic_sets(n_train, n_val, n_test)
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        semi = semi_synthetic(split, n, rfi_probability=0.5)
        getattr(sets, split)["semi_synthetic"] = Labelled(semi.images, semi.visible, semi.masks)
    sets.clean_test["semi_synthetic"] = semi_synthetic("test", n_test, rfi_probability=0.0).images
    sets.real = real_quicklooks()
    sets.real_rfi = real_rfi_set(real_rfi_patches())
    return sets
