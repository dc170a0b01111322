"""Image quality and RFI detection metrics, in one consistent unit.

Images are numpy arrays in [0, 1], [C, H, W] (or [H, W]); data range is always 1. SSIM is the 2-D
SSIM of Wang et al. (Gaussian window, sigma 1.5) computed per channel, never across rows or channels.
"Masked" variants average over the pixels of a bool [H, W] mask (e.g. the MAE's hidden patches).
SSIM is the mean of the full SSIM map, borders included (skimage's scalar drops a 5-pixel border),
so whole-image and masked SSIM average the same map.
RFI metrics exclude exact-zero no-data pixels (zero in every channel).
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from .data.quicklook import valid_pixels


def as_channels(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    return image[None] if image.ndim == 2 else image


def psnr(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB for data range 1, over all pixels or those of `mask`."""
    squared = (as_channels(reference) - as_channels(estimate)) ** 2  # [C, H, W]
    mse = squared[:, mask].mean() if mask is not None else squared.mean()
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def ssim_map(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM [C, H, W], each channel as its own 2-D image."""
    return np.stack(
        [
            structural_similarity(
                ref, est, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True
            )[1]
            for ref, est in zip(as_channels(reference), as_channels(estimate), strict=True)
        ]
    )


def ssim(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM over all pixels or those of `mask`, averaged over channels."""
    full = ssim_map(reference, estimate)
    return float(full[:, mask].mean() if mask is not None else full.mean())


def image_quality(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """PSNR and SSIM over the whole image, plus over the masked region when a non-empty mask is given."""
    result = {"psnr": psnr(reference, estimate), "ssim": ssim(reference, estimate)}
    if mask is not None and mask.any():
        result |= {"psnr_masked": psnr(reference, estimate, mask), "ssim_masked": ssim(reference, estimate, mask)}
    return result


def rfi_pixel_metrics(
    scores: np.ndarray, truth: np.ndarray, images: np.ndarray, threshold: float | None = None
) -> dict[str, float]:
    """Pixel-level detection quality of a score map against the RFI mask, over valid pixels only.

    scores: float [..., H, W] (higher = more RFI-like); truth: bool [..., H, W]; images: [..., C, H, W].
    Returns roc_auc, average_precision, best_f1 (over all thresholds) with its threshold, and, when
    `threshold` is given, iou, precision and recall of `scores >= threshold`. AUC/AP are NaN when
    the valid pixels hold only one class.
    """
    valid = valid_pixels(images)
    s, t = np.asarray(scores)[valid].astype(np.float64), np.asarray(truth, dtype=bool)[valid]
    result: dict[str, float] = {"positive_fraction": float(t.mean()) if t.size else float("nan")}
    if t.any() and not t.all():
        precision, recall, thresholds = precision_recall_curve(t, s)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        best = int(np.argmax(f1[:-1])) if thresholds.size else 0
        result |= {
            "roc_auc": float(roc_auc_score(t, s)),
            "average_precision": float(average_precision_score(t, s)),
            "best_f1": float(f1[best]),
            "best_f1_threshold": float(thresholds[best]) if thresholds.size else float("nan"),
        }
    else:
        result |= {k: float("nan") for k in ("roc_auc", "average_precision", "best_f1", "best_f1_threshold")}
    if threshold is not None:
        predicted = s >= threshold
        union = np.logical_or(predicted, t).sum()
        hits = np.logical_and(predicted, t).sum()
        result |= {
            "iou": float(hits / union) if union else 1.0,
            "precision": float(hits / predicted.sum()) if predicted.any() else float("nan"),
            "recall": float(hits / t.sum()) if t.any() else float("nan"),
        }
    return result
