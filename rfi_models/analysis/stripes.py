"""RFI stripes of a mask that arrives a block of rows at a time: connected segments along rows.

A stripe is a connected set of flagged pixels (8-connected: runs along a row joined to the runs of the
next row that touch them, diagonals included). Blocks are labelled with scipy and joined across block
boundaries with a union-find, so the mask is never held whole. Each stripe keeps its row and column
extents (inclusive) and its peak score.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


class StripeFinder:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.extent: dict[int, list[float]] = {}  # root id -> [row0, row1, col0, col1, peak]
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
                            max(first[3], second[3]), max(first[4], second[4])]  # fmt: skip
        self.parent[high] = low

    def add(self, top: int, mask: np.ndarray, scores: np.ndarray) -> None:
        """The next block of rows, starting at row `top`: mask bool [rows, W] and its scores."""
        labels, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
        if count:
            peaks = ndimage.maximum(scores, labels, index=np.arange(1, count + 1))
            ids = np.arange(self.next_id, self.next_id + count)
            for gid, box, peak in zip(ids, ndimage.find_objects(labels), np.atleast_1d(peaks), strict=True):
                self.parent[int(gid)] = int(gid)
                self.extent[int(gid)] = [top + box[0].start, top + box[0].stop - 1, box[1].start, box[1].stop - 1,
                                         float(peak)]  # fmt: skip
            global_labels = np.where(labels > 0, labels + (self.next_id - 1), 0)
            self.next_id += count
        else:
            global_labels = np.zeros(mask.shape, dtype=np.int64)
        if self.last_row is not None and len(mask):
            self.join(self.last_row, global_labels[0])
        if len(mask):
            self.last_row = global_labels[-1].copy()

    def join(self, above: np.ndarray, below: np.ndarray) -> None:
        """Union the components of two adjacent rows that touch (same column or diagonal)."""
        for shift in (-1, 0, 1):
            upper = above[max(0, shift) : len(above) + min(0, shift)]
            lower = below[max(0, -shift) : len(below) + min(0, -shift)]
            touching = (upper > 0) & (lower > 0)
            for a, b in set(zip(upper[touching].tolist(), lower[touching].tolist(), strict=True)):
                self.union(a, b)

    def stripes(self) -> list[dict]:
        """The stripes, strongest first: row0, row1, col0, col1 (inclusive) and peak score."""
        found = [dict(zip(("row0", "row1", "col0", "col1"), map(int, e[:4]), strict=True)) | {"peak": round(e[4], 6)}
                 for e in self.extent.values()]  # fmt: skip
        return sorted(found, key=lambda s: (-s["peak"], s["row0"], s["col0"]))
