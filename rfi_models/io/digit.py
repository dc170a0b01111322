"""Any grey image of a digit -> a 28 x 28 digit prepared the way MNIST was."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from .limits import MNIST_SIZE


def to_mnist_digit(gray: np.ndarray) -> np.ndarray:
    """Gray [H, W] in [0, 1] -> [28, 28] light-on-dark digit, prepared the way MNIST was."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:
        gray = 1.0 - gray
    if gray.shape == (MNIST_SIZE, MNIST_SIZE):
        return gray
    ink = gray > 0.2 * gray.max() if gray.max() > 0 else np.zeros_like(gray, dtype=bool)
    if not ink.any():
        return np.asarray(Image.fromarray(gray).resize((MNIST_SIZE, MNIST_SIZE), Image.Resampling.BILINEAR))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20.0 / max(crop.shape)
    new_h, new_w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    digit = np.asarray(Image.fromarray(crop.astype(np.float32)).resize((new_w, new_h), Image.Resampling.LANCZOS))
    canvas = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    top, left = (MNIST_SIZE - new_h) // 2, (MNIST_SIZE - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = np.clip(digit, 0, 1)
    com_row, com_col = ndimage.center_of_mass(canvas)
    shift = (round(MNIST_SIZE / 2 - com_row), round(MNIST_SIZE / 2 - com_col))
    return ndimage.shift(canvas, shift, order=0, mode="constant")
