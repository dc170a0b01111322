"""The SAR data sets of the evaluation, by purpose: training (the secondary classifier), validation (thresholds,
default detector), test (reported), the RFI-free test backgrounds (reconstruction floor), and the real RFI-free
quick-looks (false positives).

- synthetic: the generator at the seeds of `SPLIT_SEEDS` (train 1000, val 2000, test 3000), half the patches
  with RFI; the RFI-free test set is the same test patches with RFI switched off.
- real RFI-free: the dual-polarisation quick-looks of ../shared/data/sentinel1/quicklooks (red = co-pol,
  green = cross-pol); no RFI is visible in them, so every flagged pixel is a false positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from rfi_models.data import synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS

SHARED_SENTINEL1 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sentinel1"
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
        def sizes(group: dict) -> dict:
            return {name: len(value[0] if isinstance(value, tuple) else value) for name, value in group.items()}

        return {
            "train": sizes(self.train),
            "val": sizes(self.val),
            "test": sizes(self.test),
            "clean_test": sizes(self.clean_test),
            "real_rfi_free": {name: list(image.shape[1:]) for name, image in self.real.items()},
            "calibration": self.calibration_name(),
        }


def real_rfi_free_quicklooks(folder: Path = SHARED_SENTINEL1 / "quicklooks") -> dict[str, np.ndarray]:
    """{product id: float32 [2, H, W] in [0, 1]} from the dual-pol quick-looks (R, G = co-pol, cross-pol)."""
    out = {}
    for path in sorted(folder.glob("*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
        out[path.name.split(".")[0][-4:]] = np.ascontiguousarray(rgb[..., :2].transpose(2, 0, 1))
    return out


def synthetic_sets(n_train: int, n_val: int, n_test: int) -> SarSets:
    sets = SarSets()
    sets.train["synthetic"] = synthetic_sar(n_train, seed=SPLIT_SEEDS["train"], rfi_probability=0.5)
    sets.val["synthetic"] = synthetic_sar(n_val, seed=SPLIT_SEEDS["val"], rfi_probability=0.5)
    sets.test["synthetic"] = synthetic_sar(n_test, seed=SPLIT_SEEDS["test"], rfi_probability=0.5)
    sets.clean_test["synthetic"] = synthetic_sar(n_test, seed=SPLIT_SEEDS["test"], rfi_probability=0.0)[0]
    return sets


def load_sets(n_train: int, n_val: int, n_test: int) -> SarSets:
    sets = synthetic_sets(n_train, n_val, n_test)
    sets.real = real_rfi_free_quicklooks()
    return sets
