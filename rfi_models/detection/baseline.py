"""A non-learned RFI baseline: row-wise robust statistics on VH, per range segment.

Sub-swath seams are not known in a user's patch, so each row is cut into range segments of
SEGMENT_WIDTH columns (narrower than a sub-swath, so a stripe that stops at a seam still fills whole
segments). For each row and segment the median VH value is compared with the running median of the
same segment over the surrounding AZIMUTH_WINDOW rows, in units of the running MAD (a robust z-score).
A stripe that is brighter than the rows around it scores high; land, which is tall, does not.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..data.quicklook_scale import valid_pixels

SEGMENT_WIDTH = 50
AZIMUTH_WINDOW = 81
MAD_TO_SIGMA = 1.4826


def segment_row_medians(vh: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """vh, valid [H, W] -> medians [H, S] over each row's valid pixels in each segment (NaN where none)."""
    height, width = vh.shape
    segments = max(1, int(np.ceil(width / SEGMENT_WIDTH)))
    medians = np.full((height, segments), np.nan, dtype=np.float32)
    for s in range(segments):
        columns = slice(s * SEGMENT_WIDTH, (s + 1) * SEGMENT_WIDTH)
        block = np.where(valid[:, columns], vh[:, columns], np.nan)
        has_data = ~np.isnan(block).all(axis=1)
        medians[has_data, s] = np.nanmedian(block[has_data], axis=1)
    return medians


def baseline_scores(images: np.ndarray) -> np.ndarray:
    """images [N, 2, H, W] in [0, 1] (VV, VH) -> robust z-scores float32 [N, H, W] (>= 0, 0 on no-data)."""
    scores = np.zeros((images.shape[0], *images.shape[2:]), dtype=np.float32)
    for i, image in enumerate(images):
        valid = valid_pixels(image)
        if not valid.any():
            continue
        medians = segment_row_medians(image[1], valid)
        filled = np.where(np.isnan(medians), np.nanmedian(medians), medians)
        background = ndimage.median_filter(filled, size=(AZIMUTH_WINDOW, 1), mode="nearest")
        spread = ndimage.median_filter(np.abs(filled - background), size=(AZIMUTH_WINDOW, 1), mode="nearest")
        z = (filled - background) / (MAD_TO_SIGMA * spread + 1e-3)
        per_pixel = np.repeat(np.clip(z, 0, None), SEGMENT_WIDTH, axis=1)[:, : image.shape[2]]
        scores[i] = np.where(valid, per_pixel, 0)
    return scores
