"""RFI stripes of a mask that arrives a block of rows at a time: connected segments along rows.

A stripe is a connected set of flagged pixels (8-connected: runs along a row joined to the runs of the
next row that touch them, diagonals included), after the gaps of dashed stripes are closed along rows
(`close_gaps`), and at least MIN_WIDTH columns wide. Blocks are labelled with scipy and joined across block
boundaries with a union-find, so the mask is never held whole. Each stripe keeps its row and column
extents (inclusive), its peak score and its mean score over its pixels (the box's score for box AP).

The same stripes everywhere: `python -m rfi_models.detect --boxes`, the screening summary, the detection page
and the evaluation's box metrics all come from `StripeFinder` (`find_stripes` for a whole map).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


class StripeFinder:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.extent: dict[int, list[float]] = {}  # root id -> [row0, row1, col0, col1, peak, score sum, pixels]
        self.last_row: np.ndarray | None = None  # global ids of the previous block's last row
        self.next_id = 1

    def root(self, node: int) -> int:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        a, b = self.root(a), self.root(b)
        if a == b:
            return
        low, high = sorted((a, b))
        first, second = self.extent.pop(high), self.extent[low]
        self.extent[low] = [min(first[0], second[0]), max(first[1], second[1]), min(first[2], second[2]),
                            max(first[3], second[3]), max(first[4], second[4]), first[5] + second[5],
                            first[6] + second[6]]  # fmt: skip
        self.parent[high] = low

    def add(self, top: int, mask: np.ndarray, scores: np.ndarray) -> None:
        """The next block of rows, starting at row `top`: mask bool [rows, W] and its scores."""
        labels, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
        if count:
            index = np.arange(1, count + 1)
            peaks = np.atleast_1d(ndimage.maximum(scores, labels, index=index))
            sums = np.atleast_1d(ndimage.sum_labels(scores.astype(np.float64), labels, index=index))
            pixels = np.bincount(labels.ravel(), minlength=count + 1)[1:]
            ids = np.arange(self.next_id, self.next_id + count)
            for gid, box, peak, total, n in zip(ids, ndimage.find_objects(labels), peaks, sums, pixels, strict=True):
                self.parent[int(gid)] = int(gid)
                self.extent[int(gid)] = [top + box[0].start, top + box[0].stop - 1, box[1].start, box[1].stop - 1,
                                         float(peak), float(total), int(n)]  # fmt: skip
            global_labels = np.where(labels > 0, labels + (self.next_id - 1), 0)
            self.next_id += count
        else:
            global_labels = np.zeros(mask.shape, dtype=np.int64)
        if self.last_row is not None and len(mask):
            self.join(self.last_row, global_labels[0])
        if len(mask):
            self.last_row = global_labels[-1].copy()

    def add_scores(self, top: int, scores: np.ndarray, threshold: float, valid: np.ndarray | None = None) -> None:
        """The next block of rows of a score map, starting at row `top`: its pixels at or above `threshold` (valid
        ones only, when `valid` is given), gaps along rows closed (`close_gaps`). Every caller that turns scores into
        stripes (detect, screen, `find_stripes`) comes through here, so they all find the same stripes."""
        flagged = scores >= threshold
        self.add(top, close_gaps(flagged if valid is None else flagged & valid), scores)

    def join(self, above: np.ndarray, below: np.ndarray) -> None:
        """Union the components of two adjacent rows that touch (same column or diagonal)."""
        for shift in (-1, 0, 1):
            upper = above[max(0, shift) : len(above) + min(0, shift)]
            lower = below[max(0, -shift) : len(below) + min(0, -shift)]
            touching = (upper > 0) & (lower > 0)
            for a, b in set(zip(upper[touching].tolist(), lower[touching].tolist(), strict=True)):
                self.union(a, b)

    def stripes(self, min_width: int | None = None) -> list[dict]:
        """The stripes at least `min_width` (None: MIN_WIDTH) columns wide, strongest first: row0, row1, col0, col1
        (inclusive), peak and mean score."""
        min_width = MIN_WIDTH if min_width is None else min_width
        found = [dict(zip(("row0", "row1", "col0", "col1"), map(int, e[:4]), strict=True))
                 | {"peak": round(e[4], 6), "score": round(e[5] / max(e[6], 1), 6)}
                 for e in self.extent.values() if e[3] - e[2] + 1 >= min_width]  # fmt: skip
        return sorted(found, key=lambda s: (-s["score"], s["row0"], s["col0"]))


GAP_COLUMNS = 32  # a dashed stripe's gaps (real: up to about 30 columns) are closed before components are found
MIN_WIDTH = 24  # columns: RFI runs along range (real boxes are 95 to 420 columns wide); shorter blobs are not stripes


def close_gaps(mask: np.ndarray) -> np.ndarray:
    """bool [H, W] -> the same mask with gaps of up to GAP_COLUMNS along each row filled (rows stay independent,
    so a mask that arrives a block of rows at a time gives the same result)."""
    closed = ndimage.binary_closing(mask, structure=np.ones((1, GAP_COLUMNS + 1), dtype=bool))
    return closed | mask


def find_stripes(scores: np.ndarray, threshold: float, valid: np.ndarray | None = None) -> list[dict]:
    """The RFI stripes of one score map [H, W] at `threshold`: the pixels at or above it (valid ones only),
    gaps along rows closed (`close_gaps`), 8-connected components at least MIN_WIDTH columns wide, each a box
    row0, row1, col0, col1 (inclusive) with its peak and mean score, strongest (mean) first."""
    finder = StripeFinder()
    finder.add_scores(0, scores, threshold, valid)
    return finder.stripes()
