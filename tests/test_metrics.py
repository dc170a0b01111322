"""Metrics: one unit (data range 1), 2-D SSIM per channel, masked regions, no-data excluded."""

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from rfi_models.metrics import image_quality, psnr, rfi_box_metrics, rfi_pixel_metrics, ssim

RNG = np.random.default_rng(0)


def test_psnr_of_a_known_error():
    a = np.full((1, 28, 28), 0.5)
    assert psnr(a, a + 0.1) == pytest.approx(20.0)
    assert psnr(a, a) == float("inf")


def test_ssim_is_two_dimensional_per_channel():
    a = RNG.random((2, 40, 50))
    b = np.clip(a + 0.2 * RNG.standard_normal(a.shape), 0, 1)
    per_channel = [
        structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        for x, y in zip(a, b, strict=True)
    ]
    # the convention is scikit-image's own scalar (the map without its 5-pixel border), per channel
    assert ssim(a, b) == pytest.approx(np.mean(per_channel), rel=1e-6)
    assert ssim(a, a) == pytest.approx(1.0)
    # the seed report's bug: rows treated as channels gives another number
    rows_as_channels = structural_similarity(a[0], b[0], data_range=1.0, channel_axis=0, win_size=7)
    assert abs(rows_as_channels - per_channel[0]) > 0.01


def test_masked_region_metrics_only_see_the_mask():
    a = RNG.random((1, 28, 28))
    b = a.copy()
    mask = np.zeros((28, 28), bool)
    mask[:, :14] = True
    b[0, :, :14] = np.clip(b[0, :, :14] + 0.1, 0, 1)
    quality = image_quality(a, b, mask)
    assert quality["psnr_hidden"] < quality["psnr"]
    assert psnr(a, b, ~mask) == float("inf")
    assert set(image_quality(a, b)) == {"psnr", "ssim"}


def test_masked_models_are_scored_on_the_composite_and_the_raw_output_is_an_extra():
    a = RNG.random((1, 28, 28))
    mask = np.zeros((28, 28), bool)
    mask[8:20, 8:20] = True
    raw = np.clip(a + 0.05, 0, 1)  # good on hidden pixels
    raw[:, ~mask] = 0.0  # garbage on visible ones, which an MAE's loss never trains
    quality = image_quality(a, raw, mask)
    assert quality["psnr"] == pytest.approx(psnr(a, np.where(mask, raw, a)))
    assert quality["psnr_hidden"] == pytest.approx(psnr(a, raw, mask))
    assert quality["psnr_raw"] < quality["psnr"] - 10 and quality["ssim_raw"] < quality["ssim"]


def test_rfi_metrics_perfect_and_random_scores():
    truth = np.zeros((4, 30, 40), bool)
    truth[:, 10:13] = True
    images = np.ones((4, 2, 30, 40))
    perfect = rfi_pixel_metrics(truth.astype(float), truth, images, threshold=0.5)
    assert perfect["roc_auc"] == 1.0 and perfect["best_f1"] == 1.0 and perfect["iou"] == 1.0
    noise = rfi_pixel_metrics(RNG.random(truth.shape), truth, images, threshold=0.5)
    assert 0.4 < noise["roc_auc"] < 0.6 and noise["iou"] < 0.2


def test_no_data_pixels_are_excluded():
    truth = np.zeros((30, 40), bool)
    truth[10:13] = True
    scores = truth.astype(float)
    images = np.ones((2, 30, 40))
    images[:, :, :5] = 0  # no-data border with the highest scores and no RFI
    scores[:, :5] = 5.0
    result = rfi_pixel_metrics(scores, truth, images, threshold=0.5)
    assert result["roc_auc"] == 1.0 and result["iou"] == 1.0


def test_single_class_gives_nan_not_an_error():
    result = rfi_pixel_metrics(np.zeros((10, 10)), np.zeros((10, 10), bool), np.ones((2, 10, 10)), threshold=0.5)
    assert np.isnan(result["roc_auc"]) and result["iou"] == 1.0


def test_box_metrics_on_a_hand_computed_case():
    """Two RFI boxes, four stripes found. Ranked by score (the one on the ignore box counts neither way): a hit
    (precision 1, recall 0.5), a false stripe (0.5, 0.5), a hit of IoU 0.62 (2/3, 1). COCO interpolates precision
    at 101 recall points: at IoU 0.5, the 51 points up to recall 0.5 get 1 and the 50 above get 2/3; from IoU 0.65
    on, the second hit is a miss, so the 51 points get 1 and the rest 0."""
    truth = [(10, 14, 0, 99), (50, 59, 100, 199)]  # row0, row1, col0, col1, inclusive
    detections = [
        {"row0": 30, "row1": 34, "col0": 0, "col1": 99, "score": 0.95},  # inside the ignore box
        {"row0": 10, "row1": 14, "col0": 0, "col1": 99, "score": 0.9},  # the first box, IoU 1
        {"row0": 80, "row1": 84, "col0": 0, "col1": 99, "score": 0.8},  # no RFI there
        {"row0": 50, "row1": 59, "col0": 100, "col1": 161, "score": 0.7},  # the second box, IoU 620 / 1000
    ]
    found = rfi_box_metrics([{"truth": truth, "detections": detections, "ignore": [(28, 36, 0, 120)]}])
    ap50 = (51 * 1 + 50 * 2 / 3) / 101
    assert found["box_ap50"] == pytest.approx(ap50)
    assert found["box_map"] == pytest.approx((3 * ap50 + 7 * 51 / 101) / 10)  # IoU 0.50, 0.55, 0.60 | 0.65-0.95
    assert found["box_recall"] == 1.0 and found["box_precision"] == pytest.approx(2 / 3)
    assert found["boxes_truth"] == 2 and found["boxes_detected"] == 4
