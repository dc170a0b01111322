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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rfi_models.data import synthetic_sar
from rfi_models.data.semisynthetic import real_quicklooks, scene_split, semi_synthetic
from rfi_models.data.synthetic_sar import SPLIT_SEEDS

Pair = tuple[np.ndarray, np.ndarray]  # images float32 [N, 2, H, W] in [0, 1], truth bool [N, H, W]


@dataclass
class SarSets:
    train: dict[str, Pair] = field(default_factory=dict)
    val: dict[str, Pair] = field(default_factory=dict)
    test: dict[str, Pair] = field(default_factory=dict)
    clean_test: dict[str, np.ndarray] = field(default_factory=dict)  # RFI-free test images [N, 2, H, W]
    real: dict[str, np.ndarray] = field(default_factory=dict)  # real RFI-free images [2, H, W], any size

    def calibration_name(self) -> str:
        """The validation set thresholds and the default detector are chosen on."""
        return "semi_synthetic" if "semi_synthetic" in self.val else "synthetic"

    def describe(self) -> dict:
        """Patches per set, the real images' sizes and the validation set used: what the results were made on."""

        def sizes(group: dict) -> dict:
            return {name: len(value[0] if isinstance(value, tuple) else value) for name, value in group.items()}

        return {
            "train": sizes(self.train),
            "val": sizes(self.val),
            "test": sizes(self.test),
            "clean_test": sizes(self.clean_test),
            "real_rfi_free": {
                name: {"size": list(image.shape[1:]), "semi_synthetic_split": scene_split(name)}
                for name, image in self.real.items()
            },
            "calibration": self.calibration_name(),
        }


def synthetic_sets(n_train: int, n_val: int, n_test: int) -> SarSets:
    sets = SarSets()
    sets.train["synthetic"] = synthetic_sar(n_train, seed=SPLIT_SEEDS["train"], rfi_probability=0.5)
    sets.val["synthetic"] = synthetic_sar(n_val, seed=SPLIT_SEEDS["val"], rfi_probability=0.5)
    sets.test["synthetic"] = synthetic_sar(n_test, seed=SPLIT_SEEDS["test"], rfi_probability=0.5)
    sets.clean_test["synthetic"] = synthetic_sar(n_test, seed=SPLIT_SEEDS["test"], rfi_probability=0.0)[0]
    return sets


def load_sets(n_train: int, n_val: int, n_test: int) -> SarSets:
    """n_* synthetic and n_* semi-synthetic patches per split, and the real RFI-free quick-looks."""
    sets = synthetic_sets(n_train, n_val, n_test)
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        semi = semi_synthetic(split, n, rfi_probability=0.5)
        getattr(sets, split)["semi_synthetic"] = (semi.images, semi.masks)
    sets.clean_test["semi_synthetic"] = semi_synthetic("test", n_test, rfi_probability=0.0).images
    sets.real = real_quicklooks()
    return sets
