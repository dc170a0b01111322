"""Image quality and RFI detection metrics, in one consistent unit.

Images are numpy arrays in [0, 1], [C, H, W] (or [H, W]); data range is always 1.

SSIM, one convention everywhere: scikit-image's `structural_similarity` with a Gaussian window (sigma 1.5,
11 x 11), population covariances and data range 1, computed per channel as 2-D images (never across rows or
channels). The scalar is the mean of the SSIM map without the 5-pixel border whose windows would leave the
image, exactly as scikit-image's own scalar; `ssim_map` keeps the full map for display.

Masked models (the MAE) are scored like facebookresearch/mae shows them: on the composite (the prediction on
hidden pixels, the input on visible ones), plus PSNR over the hidden pixels alone; the raw decoder output, which
the MAE's loss never trains on visible patches, is kept as a labelled extra (`psnr_raw`, `ssim_raw`).
RFI metrics exclude exact-zero no-data pixels (zero in every channel).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from skimage.metrics import structural_similarity
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from .data.quicklook_scale import valid_pixels

SSIM_SIGMA = 1.5
SSIM_BORDER = 5  # (win_size - 1) // 2 for scikit-image's Gaussian window: int(3.5 * sigma + 0.5) = 5


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
                ref,
                est,
                data_range=1.0,
                gaussian_weights=True,
                sigma=SSIM_SIGMA,
                use_sample_covariance=False,
                full=True,
            )[1]
            for ref, est in zip(as_channels(reference), as_channels(estimate), strict=True)
        ]
    )


def ssim(reference: np.ndarray, estimate: np.ndarray) -> float:
    """scikit-image's SSIM scalar: the map's mean without the SSIM_BORDER-pixel border, averaged over channels."""
    full = ssim_map(reference, estimate)
    b = SSIM_BORDER
    return float(full[:, b:-b, b:-b].mean())


def composite(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[C, H, W] the estimate on the pixels of bool [H, W] `mask` (hidden), the reference elsewhere."""
    return np.where(mask, as_channels(estimate), as_channels(reference))


def image_quality(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """PSNR and SSIM of a reconstruction. With a non-empty hidden-pixel `mask` (the MAE), psnr/ssim are those of
    the composite, psnr_hidden is over the hidden pixels only, and psnr_raw/ssim_raw score the raw output."""
    if mask is None or not mask.any():
        return {"psnr": psnr(reference, estimate), "ssim": ssim(reference, estimate)}
    pasted = composite(reference, estimate, mask)
    return {
        "psnr": psnr(reference, pasted),
        "ssim": ssim(reference, pasted),
        "psnr_hidden": psnr(reference, estimate, mask),
        "psnr_raw": psnr(reference, estimate),
        "ssim_raw": ssim(reference, estimate),
    }


def rfi_pixel_metrics(
    scores: np.ndarray, truth: np.ndarray, images: np.ndarray, threshold: float | None = None
) -> dict[str, float]:
    """Pixel-level detection quality of a score map against the RFI mask, over valid pixels only.

    scores: float [..., H, W] (higher = more RFI-like); truth: bool [..., H, W]; images: [..., C, H, W].
    See `detection_metrics` for what is returned.
    """
    valid = valid_pixels(images)
    return detection_metrics(np.asarray(scores)[valid], np.asarray(truth, dtype=bool)[valid], threshold)


def detection_metrics(scores: np.ndarray, truth: np.ndarray, threshold: float | None = None) -> dict[str, float]:
    """Detection quality of 1-D pixel scores against 1-D bool truth: roc_auc, average_precision, best_f1 (over all
    thresholds) with its threshold, and, when `threshold` is given, iou, precision and recall of
    `scores >= threshold`. AUC/AP are NaN when the pixels hold only one class."""
    s, t = np.asarray(scores, dtype=np.float64), np.asarray(truth, dtype=bool)
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


def coco_box(box) -> list[float]:
    """A stripe box (row0, row1, col0, col1 inclusive: a dict or a tuple) -> COCO [x, y, width, height]."""
    row0, row1, col0, col1 = (box[k] for k in ("row0", "row1", "col0", "col1")) if isinstance(box, dict) else box
    return [float(col0), float(row0), float(col1 - col0 + 1), float(row1 - row0 + 1)]


def coco_sets(images: list[dict]):
    """Ground truth and detections of `rfi_box_metrics` as pycocotools objects (None detections when there are none)."""
    from pycocotools.coco import COCO

    truth = {"images": [{"id": i} for i in range(len(images))], "categories": [{"id": 1, "name": "rfi"}],
             "annotations": []}  # fmt: skip
    detections = []
    for i, image in enumerate(images):
        for crowd, boxes in ((0, image["truth"]), (1, image.get("ignore", []))):
            for box in boxes:
                x, y, w, h = coco_box(box)
                truth["annotations"].append({"id": len(truth["annotations"]) + 1, "image_id": i, "category_id": 1,
                                             "bbox": [x, y, w, h], "area": w * h, "iscrowd": crowd})  # fmt: skip
        detections += [{"image_id": i, "category_id": 1, "bbox": coco_box(d), "score": float(d["score"])}
                       for d in image["detections"]]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        ground = COCO()
        ground.dataset = truth
        ground.createIndex()
        found = ground.loadRes(detections) if detections else None
    return ground, found


def rfi_box_metrics(images: list[dict]) -> dict[str, float]:
    """COCO box metrics of RFI stripes, pooled over images, with pycocotools (ClearSAR's scorer).

    images: one dict per image with "detections" (stripe dicts with a "score", `detection.stripes`), "truth" (RFI
    boxes) and optionally "ignore" (regions left out, COCO's crowd boxes: a detection on them counts neither way);
    boxes are row0, row1, col0, col1, inclusive. Returns box AP at IoU 0.5 (`box_ap50`), COCO mAP over IoU
    0.50:0.95 (`box_map`), and, at IoU 0.5, the recall and precision of all the detections given (`box_recall`,
    `box_precision`), and the counts. One area range (all) and no cap on detections per image."""
    from pycocotools.cocoeval import COCOeval

    n_truth = sum(len(image["truth"]) for image in images)
    n_found = sum(len(image["detections"]) for image in images)
    ground, found = coco_sets(images)
    result = {"boxes_truth": n_truth, "boxes_detected": n_found}
    if found is None or not n_truth:
        return result | {"box_ap50": 0.0 if n_truth else float("nan"), "box_map": 0.0 if n_truth else float("nan"),
                         "box_recall": 0.0 if n_truth else float("nan"), "box_precision": float("nan")}  # fmt: skip
    evaluation = COCOeval(ground, found, "bbox")
    evaluation.params.areaRng, evaluation.params.areaRngLbl = [[0, 1e12]], ["all"]
    evaluation.params.maxDets = [max(n_found, 1)]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation.evaluate()
        evaluation.accumulate()
    precision = evaluation.eval["precision"][:, :, 0, 0, 0]  # [IoU thresholds, recall points]
    per_iou = [float(p[p > -1].mean()) if (p > -1).any() else 0.0 for p in precision]
    hits = detected = truths = 0
    for record in filter(None, evaluation.evalImgs):
        kept = ~np.asarray(record["dtIgnore"][0], dtype=bool)
        hits += int((np.asarray(record["dtMatches"][0])[kept] > 0).sum())
        detected += int(kept.sum())
        truths += int((~np.asarray(record["gtIgnore"], dtype=bool)).sum())
    return result | {"box_ap50": per_iou[0], "box_map": float(np.mean(per_iou)),
                     "box_recall": hits / truths if truths else float("nan"),
                     "box_precision": hits / detected if detected else float("nan")}  # fmt: skip
