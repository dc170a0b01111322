"""Several RFI detectors on one image: thresholded masks, how many flag each pixel, and a summary per detector."""

from __future__ import annotations

import numpy as np


def agreement_count(masks: dict[str, np.ndarray]) -> np.ndarray:
    """uint8 [H, W]: how many of the bool masks flag each pixel."""
    return np.sum(list(masks.values()), axis=0, dtype=np.uint8)


def pairwise_iou(masks: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """name -> name -> intersection over union of the two masks (NaN when neither flags anything)."""
    names = list(masks)
    table = {a: {} for a in names}
    for a in names:
        for b in names:
            union = np.count_nonzero(masks[a] | masks[b])
            table[a][b] = np.count_nonzero(masks[a] & masks[b]) / union if union else float("nan")
    return table


def detection_summary(
    name: str, scores: np.ndarray, threshold: float, image: np.ndarray, truth: np.ndarray | None,
    ignore: np.ndarray | None = None,
) -> dict[str, float | str]:  # fmt: skip
    """One detector's row: its threshold, the share of valid pixels it flags, and (truth known) ROC-AUC,
    average precision, best F1, IoU, precision and recall against the true mask. No-data pixels never count, nor
    do the `ignore` pixels (bool [H, W]: invisible RFI, ignore boxes) in the metrics against the truth."""
    from ..metrics import detection_metrics, valid_pixels  # scikit-learn: imported when first needed

    mask, valid = scores >= threshold, valid_pixels(image)
    row: dict[str, float | str] = {"detector": name.upper(), "threshold": threshold,
                                   "flagged share": float(mask[valid].mean()) if valid.any() else 0.0}  # fmt: skip
    if truth is not None:
        kept = valid if ignore is None else valid & ~ignore
        quality = detection_metrics(np.asarray(scores)[kept], np.asarray(truth, dtype=bool)[kept], threshold)
        row |= {k: quality[k] for k in ("roc_auc", "average_precision", "best_f1", "iou", "precision", "recall")}
    return row


def box_summary(stripes: list[dict], boxes, ignore_boxes=()) -> dict[str, float]:
    """A detector's stripes (`detection.stripes`) against hand-drawn boxes (row0, row1, col0, col1, end exclusive;
    the ignore boxes count neither way): box recall and precision at IoU 0.5 (`metrics.rfi_box_metrics`)."""
    from ..metrics import rfi_box_metrics  # pycocotools: imported when first needed

    def inclusive(found) -> list[tuple[int, int, int, int]]:
        return [(row0, row1 - 1, col0, col1 - 1) for row0, row1, col0, col1 in found]

    result = rfi_box_metrics([{"detections": stripes, "truth": inclusive(boxes), "ignore": inclusive(ignore_boxes)}])
    return {"box recall @IoU 0.5": result["box_recall"], "box precision @IoU 0.5": result["box_precision"]}
