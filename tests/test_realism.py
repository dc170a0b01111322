"""The statistics that compare synthetic SAR patches with the real quick-looks."""

import numpy as np
from scipy import ndimage

from rfi_models.data.synthetic_sar import SarPatch
from train.evaluate.realism import (
    annotated_boxes,
    histogram_distance,
    image_statistics,
    markdown_table,
    rfi_box_statistics,
    stripe_strength,
)


def test_texture_statistics_tell_noise_from_smooth_and_banded_images():
    rng = np.random.default_rng(0)
    noise = rng.integers(60, 200, size=(2, 120, 160)).astype(np.uint8)
    smooth = np.clip(ndimage.gaussian_filter(noise.astype(float), (0, 4, 4)) * 4 - 300, 1, 255).astype(np.uint8)
    banded = np.repeat((np.arange(120) % 20 < 10)[None, :, None] * 100 + 50, 160, axis=2).astype(np.uint8)
    banded = np.repeat(banded, 2, axis=0)
    noisy, flat, bands = image_statistics(noise), image_statistics(smooth), image_statistics(banded)
    assert abs(noisy["vv_acf_row_1"]) < 0.05 and flat["vv_acf_row_1"] > 0.9
    assert bands["vv_row_profile_sd"] > 0.9 and noisy["vv_row_profile_sd"] < 0.1
    assert noisy["vh_brighter"] > 0.4 and bands["vv_minus_vh"] == 0


def test_histogram_distance_is_in_grey_levels_and_ignores_no_data():
    image = np.random.default_rng(1).integers(1, 200, size=(2, 50, 60)).astype(np.uint8)
    shifted = image + 10
    shifted[:, :5] = 0  # no-data does not count
    assert histogram_distance([image], [image], 0) == 0
    assert abs(histogram_distance([image[:, 5:]], [shifted], 1) - 10) < 1e-6


def test_rfi_boxes_close_dashes_like_an_annotator():
    mask = np.zeros((100, 300), dtype=bool)
    mask[40:50, 20:80] = mask[40:50, 100:160] = True  # one dashed stripe, 10 x 140 with its gap
    image = np.full((2, 100, 300), 60, np.uint8)
    image[:, mask] = 90
    empty = np.zeros_like(mask)
    patch = SarPatch(image, mask, empty, empty, empty, empty)
    boxes = rfi_box_statistics([patch])
    assert boxes["box_height"] == 10 and boxes["box_width"] == 140
    assert 60 < boxes["box_brightness"] < 90 and boxes["box_contrast"] > 10
    strength = stripe_strength(image, (40, 50, 20, 160)) | {"boxes": 1.0}
    result = {"statistics": {"a": image_statistics(image)}, "rfi_boxes": {"a": boxes}, "strength": {"a": strength}}
    assert "| box_width | 140.0 |" in markdown_table(result) and "| `lit_rows` | 10.00 |" in markdown_table(result)


def test_stripe_strength_measures_a_dashed_vh_stripe_against_the_rows_around_it():
    image = np.full((2, 60, 200), 50, np.uint8)
    image[1, 24:30, 20:180] = 52  # the stripe's faint floor
    for col0 in range(20, 180, 40):
        image[1, 24:30, col0 : col0 + 16] = 80  # dashes: 16 of every 40 columns lit, VV unchanged
    box = annotated_boxes(image[1] > 51)[0]
    assert box == (24, 30, 20, 180) and annotated_boxes(image[1] > 60) == [(24, 30, 20, 156)]  # dashes joined
    strength = stripe_strength(image, (22, 32, 20, 180))  # drawn with a margin of 2 rows, as by hand
    assert strength["vv_median_excess"] == 0 and strength["vh_median_excess"] == 2
    assert strength["vh_p90_excess"] == 30 and strength["duty"] == 0.4
    assert strength["height"] == 10 and strength["lit_rows"] == 6
    assert stripe_strength(np.zeros_like(image), box) is None  # no valid reference pixel
