"""How a SAR detector's score maps are judged, one convention for every set of `train.evaluate.sar`.

- Truth: the *visible* RFI (`sar_rfi.VISIBLE_DB`; on the real patches, the hand-drawn RFI boxes). Pixels the RFI
  changed invisibly (the exact mask outside the visible one; on the real patches, the ignore boxes) are left out
  of every metric, neither positive nor negative, as COCO treats its crowd regions. No-data pixels are left out.
  The exact mask is reported beside it (`exact`: pixel ROC-AUC and AP with every changed pixel positive).
- Pixel metrics pool every kept pixel of a set (`rfi_models.metrics.detection_metrics`).
- Boxes: each score map's stripes at the threshold (`detection.stripes.find_stripes`), against truth boxes: on
  generated sets, the stripes of the visible mask (gaps closed the same way; those narrower than MIN_WIDTH and
  the stripes of invisible RFI are crowd boxes); on the real patches, the hand-drawn boxes. COCO box AP at IoU
  0.5, mAP over 0.50:0.95, and box recall and precision at IoU 0.5 (`rfi_models.metrics.rfi_box_metrics`).
- Thresholds: the one that maximises the mean of the pixel F1 over the validation sets given (the semi-synthetic
  validation set and the real RFI patches), each set's F1 counted once whatever its pixel count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rfi_models.data.quicklook_scale import valid_pixels
from rfi_models.data.real_rfi import RealRfiPatch
from rfi_models.detection.stripes import MIN_WIDTH, StripeFinder, close_gaps, find_stripes
from rfi_models.metrics import detection_metrics, rfi_box_metrics

THRESHOLD_CANDIDATES = 400  # quantiles of the validation scores tried as thresholds


@dataclass
class Labelled:
    """A set with RFI truth: images [N, 2, H, W] (or a list of [2, H, W] of any sizes), visible and exact masks
    (bool, [N, H, W] or lists), and for hand-labelled sets the boxes per image: (truth, ignore), inclusive."""

    images: np.ndarray | list[np.ndarray]
    visible: np.ndarray | list[np.ndarray]
    exact: np.ndarray | list[np.ndarray]
    boxes: list[tuple[list, list]] | None = None

    def __len__(self) -> int:
        return len(self.images)

    def kept(self, i: int) -> np.ndarray:
        """bool [H, W]: the pixels of image i that count (valid, and not invisible RFI / ignore boxes)."""
        return valid_pixels(self.images[i]) & ~(self.exact[i] & ~self.visible[i])

    def truth_boxes(self, i: int) -> tuple[list, list]:
        """(truth boxes, crowd boxes) of image i, row0, row1, col0, col1 inclusive."""
        if self.boxes is not None:
            return self.boxes[i]
        finder = StripeFinder()
        finder.add(0, close_gaps(self.visible[i]), self.visible[i].astype(np.float32))
        every = finder.stripes(min_width=1)
        truth = [s for s in every if s["col1"] - s["col0"] + 1 >= MIN_WIDTH]
        crowd = [s for s in every if s["col1"] - s["col0"] + 1 < MIN_WIDTH]
        invisible = StripeFinder()
        invisible.add(0, close_gaps(self.exact[i] & ~self.visible[i]), np.zeros(self.visible[i].shape, np.float32))
        return truth, crowd + invisible.stripes(min_width=1)


def real_rfi_set(patches: dict[str, RealRfiPatch]) -> Labelled:
    """The real RFI patches as a labelled set: RFI boxes visible, ignore boxes left out, the boxes themselves."""
    chosen = list(patches.values())

    def inclusive(boxes):
        return [(r0, r1 - 1, c0, c1 - 1) for r0, r1, c0, c1 in boxes]

    return Labelled(
        images=[p.image for p in chosen],
        visible=[p.positive for p in chosen],
        exact=[p.positive | p.ignore for p in chosen],
        boxes=[(inclusive(p.boxes), inclusive(p.ignore_boxes)) for p in chosen],
    )


def pooled(scores, labelled: Labelled, mask: str = "visible") -> tuple[np.ndarray, np.ndarray]:
    """(scores, truth) of every counted pixel of a set, 1-D; mask "exact" counts every changed pixel positive."""
    values, truth = [], []
    for i in range(len(labelled)):
        keep = labelled.kept(i) if mask == "visible" else valid_pixels(labelled.images[i])
        values.append(np.asarray(scores[i])[keep])
        truth.append(np.asarray(getattr(labelled, mask)[i])[keep])
    return np.concatenate(values).astype(np.float64), np.concatenate(truth)


def f1_at(scores: np.ndarray, truth: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Pixel F1 of `scores >= t` for every t in `thresholds` (1-D arrays)."""
    positives, negatives = np.sort(scores[truth]), np.sort(scores[~truth])
    hits = positives.size - np.searchsorted(positives, thresholds, side="left")
    false = negatives.size - np.searchsorted(negatives, thresholds, side="left")
    return 2 * hits / np.maximum(2 * hits + false + (positives.size - hits), 1)


def joint_threshold(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold maximising the mean pixel F1 over several (scores, truth) sets."""
    every = np.concatenate([s for s, _ in pairs])
    candidates = np.unique(np.quantile(every, np.linspace(0.5, 1.0, THRESHOLD_CANDIDATES)))
    mean_f1 = np.mean([f1_at(s, t, candidates) for s, t in pairs], axis=0)
    return float(candidates[int(np.argmax(mean_f1))])


def box_metrics(scores, labelled: Labelled, threshold: float) -> dict:
    images = []
    for i in range(len(labelled)):
        truth, crowd = labelled.truth_boxes(i)
        found = find_stripes(np.asarray(scores[i]), threshold, valid_pixels(labelled.images[i]))
        images.append({"detections": found, "truth": truth, "ignore": crowd})
    return rfi_box_metrics(images)


def set_metrics(scores, labelled: Labelled, threshold: float | None) -> dict:
    """Pixel metrics on visible RFI (with precision, recall and IoU at `threshold`), the exact mask's ROC-AUC and
    AP, and the box metrics at `threshold` (when given)."""
    result = detection_metrics(*pooled(scores, labelled), threshold=threshold)
    exact = detection_metrics(*pooled(scores, labelled, "exact"))
    result["exact"] = {key: exact[key] for key in ("roc_auc", "average_precision")}
    if threshold is not None:
        result |= box_metrics(scores, labelled, threshold)
    return result
