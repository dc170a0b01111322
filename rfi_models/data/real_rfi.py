"""Real Sentinel-1 patches with real RFI and hand-drawn boxes: the only real labelled RFI the project has.

The three test patches of the original RFI study (aalling93/mae_rfi `tests/test_data/`, MIT; contains modified
Copernicus Sentinel data) ship inside the package (`data/samples/sentinel1/rfi/`, with their PROVENANCE.md).
They are a *validation* set and the app's real examples: nothing may be trained on them.

Truth, per patch (labels.json; boxes are [row0, row1, col0, col1), end exclusive):
- `positive`: the pixels of the `rfi` boxes (dashed stripes fill their boxes only partly, so pixel recall
  understates what a detector finds; the box metrics count stripes);
- `ignore`: the pixels of the `ignore` boxes (faint stripe-like structure), left out of every metric, neither
  positive nor negative, as COCO treats its crowd regions;
- everything else that is not no-data (exact 0 in both channels) is a negative.

API: `real_rfi_patches() -> {name: RealRfiPatch}` (names "one", "two", "tree", in that order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parent / "samples" / "sentinel1"
RFI_FOLDER = SAMPLES / "rfi"
NAMES = ("one", "two", "tree")
REAL_RFI_SET = "real_rfi"  # the set's key in every results table
REAL_RFI_LABEL = "real RFI (3 patches, validation)"

Box = tuple[int, int, int, int]  # row0, row1, col0, col1, end exclusive


@dataclass(frozen=True)
class RealRfiPatch:
    name: str
    image: np.ndarray  # float32 [2, H, W] in [0, 1] (VV, VH); 0 in both channels = no-data
    boxes: tuple[Box, ...]  # the RFI boxes
    ignore_boxes: tuple[Box, ...]  # faint structure left out of every metric

    @property
    def positive(self) -> np.ndarray:
        """bool [H, W]: the pixels of the RFI boxes."""
        return box_mask(self.image.shape[1:], self.boxes)

    @property
    def ignore(self) -> np.ndarray:
        """bool [H, W]: the pixels of the ignore boxes, outside every RFI box."""
        return box_mask(self.image.shape[1:], self.ignore_boxes) & ~self.positive


def box_mask(shape: tuple[int, int], boxes: tuple[Box, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for row0, row1, col0, col1 in boxes:
        mask[row0:row1, col0:col1] = True
    return mask


@lru_cache(maxsize=1)
def real_rfi_patches() -> dict[str, RealRfiPatch]:
    """The three real RFI patches with their boxes, read from the package (read-only arrays)."""
    labels = json.loads((RFI_FOLDER / "labels.json").read_text())
    patches = {}
    for name in NAMES:
        pixels = np.load(RFI_FOLDER / f"{name}.npy", allow_pickle=False)  # uint8 [H, W, 2]
        image = np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32) / np.float32(255)
        image.flags.writeable = False
        boxes = tuple(tuple(int(v) for v in box) for box in labels[name]["rfi"])
        ignore = tuple(tuple(int(v) for v in box) for box in labels[name].get("ignore", []))
        patches[name] = RealRfiPatch(name, image, boxes, ignore)
    return patches
