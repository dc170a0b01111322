"""A movable window of the models' input size (340 x 500 for SAR) over an image of any size.

The pages that need the models' input (reconstruction, explanations, latent space) look through it; the
default window is the one where the baseline detector's mean score is highest, so the most RFI-like part
shows first. An image smaller than the window is padded by mirroring (after its last row and column), and
the window says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    top: int
    left: int
    height: int  # the models' input size
    width: int
    image_shape: tuple[int, int]  # the whole image's rows and columns

    @property
    def padded(self) -> bool:
        return self.image_shape[0] < self.height or self.image_shape[1] < self.width

    @property
    def limits(self) -> tuple[int, int]:
        """The largest top and left."""
        return max(0, self.image_shape[0] - self.height), max(0, self.image_shape[1] - self.width)

    def span(self) -> str:
        """Where the window is, in one short line: 'window rows 51-390, columns 0-499'."""
        rows = min(self.height, self.image_shape[0])
        cols = min(self.width, self.image_shape[1])
        return f"window rows {self.top}-{self.top + rows - 1}, columns {self.left}-{self.left + cols - 1}"

    def describe(self) -> str:
        text = f"{self.span()} of the {self.image_shape[0]} x {self.image_shape[1]} image"
        if self.padded:
            text += f"; the image is smaller than {self.height} x {self.width}, so it is padded by mirroring"
        return text


def place_window(image_shape: tuple[int, int], size: tuple[int, int], top: int = 0, left: int = 0) -> Window:
    """A window of `size` at (top, left), moved inside the image where it would stick out."""
    window = Window(0, 0, *size, tuple(image_shape))
    max_top, max_left = window.limits
    return Window(int(np.clip(top, 0, max_top)), int(np.clip(left, 0, max_left)), *size, tuple(image_shape))


def crop(image: np.ndarray, window: Window) -> np.ndarray:
    """[C, H, W] (or [H, W]) -> the window's [C, height, width], mirror-padded where the image is smaller."""
    rows = slice(window.top, window.top + window.height)
    cols = slice(window.left, window.left + window.width)
    part = image[..., rows, cols]
    missing = (window.height - part.shape[-2], window.width - part.shape[-1])
    if missing == (0, 0):
        return np.ascontiguousarray(part)
    pad = [(0, 0)] * (part.ndim - 2) + [(0, missing[0]), (0, missing[1])]
    return np.pad(part, pad, mode="reflect" if min(part.shape[-2:]) > 1 else "edge")


def best_window(scores: np.ndarray, size: tuple[int, int]) -> Window:
    """The window of `size` with the highest mean score (NaN counts as 0), searched over every position; of windows
    scoring alike (a stripe fits in many), the one in the middle of them, so that what scores is centred."""
    height, width = scores.shape
    rows, cols = min(size[0], height), min(size[1], width)
    table = np.zeros((height + 1, width + 1))
    table[1:, 1:] = np.nan_to_num(scores.astype(np.float64)).cumsum(0).cumsum(1)
    sums = table[rows:, cols:] - table[:-rows, cols:] - table[rows:, :-cols] + table[:-rows, :-cols]
    best = np.argwhere(sums >= sums.max() - 1e-9 * max(abs(sums.max()), 1.0))
    top, left = best[np.argmin(((best - best.mean(axis=0)) ** 2).sum(axis=1))]
    return place_window((height, width), size, int(top), int(left))


def outline(picture: np.ndarray, window: Window, stride: int = 1, colour=(255, 0, 255)) -> np.ndarray:
    """A uint8 RGB picture of the whole image (every `stride`-th pixel) with the window's border drawn on it."""
    from .viz import frame

    height, width = picture.shape[:2]
    bottom = min(height, (window.top + min(window.height, window.image_shape[0])) // stride)
    right = min(width, (window.left + min(window.width, window.image_shape[1])) // stride)
    box = (window.top // stride, bottom, window.left // stride, right)
    return frame(picture.copy(), box, colour, max(2, min(height, width) // 150))


def baseline_window(image: np.ndarray, size: tuple[int, int]) -> Window:
    """The default window of a SAR image [2, H, W]: where the baseline detector's mean score is highest."""
    from ..data.synthetic_sar import SAR_SIZE
    from ..detection.baseline import baseline_scores
    from ..detection.tiling import score_tiled

    return best_window(score_tiled(baseline_scores, image, SAR_SIZE), size)


def shift_boxes(boxes, window: Window) -> tuple[tuple[int, int, int, int], ...]:
    """Boxes (row0, row1, col0, col1, end exclusive) of the whole image -> the same boxes in the window's pixels,
    cut to the part of the window that holds the image (not its mirrored padding); boxes outside it are dropped."""
    rows = min(window.height, window.image_shape[0] - window.top)
    cols = min(window.width, window.image_shape[1] - window.left)
    shifted = []
    for row0, row1, col0, col1 in boxes:
        box = (max(row0 - window.top, 0), min(row1 - window.top, rows),
               max(col0 - window.left, 0), min(col1 - window.left, cols))  # fmt: skip
        if box[0] < box[1] and box[2] < box[3]:
            shifted.append(box)
    return tuple(shifted)
