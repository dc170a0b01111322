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
    name: str, scores: np.ndarray, threshold: float, image: np.ndarray, truth: np.ndarray | None
) -> dict[str, float | str]:
    """One detector's row: its threshold, the share of valid pixels it flags, and (truth known) ROC-AUC,
    average precision, best F1, IoU, precision and recall against the true mask. No-data pixels never count."""
    from ..metrics import rfi_pixel_metrics, valid_pixels  # scikit-learn: imported when first needed

    mask, valid = scores >= threshold, valid_pixels(image)
    row: dict[str, float | str] = {"detector": name.upper(), "threshold": threshold,
                                   "flagged share": float(mask[valid].mean()) if valid.any() else 0.0}  # fmt: skip
    if truth is not None:
        quality = rfi_pixel_metrics(scores, truth, image, threshold)
        row |= {k: quality[k] for k in ("roc_auc", "average_precision", "best_f1", "iou", "precision", "recall")}
    return row
