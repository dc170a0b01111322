"""Score images of any size through overlapping tiles with blending, streaming with bounded memory.

Tiles have the model's size and overlap by `overlap` pixels; the last tile of each axis is aligned with
the image's end. Overlapping scores are blended with a separable triangular window (never zero), so
seams between tiles do not show. Images smaller than a tile along an axis are mirrored up to the tile
size and the scores cropped back.

The work is cut into bands: a band is one or more consecutive rows of tiles, scored on its own
(`score_band`, so that bands can run in parallel, on other processes or machines) into a weighted
score sum and a weight. `RowBlender` adds bands in row order and hands out the rows no later band can
touch, so only about one band is held in memory whatever the scene's size. `score_tiled` does both
in one process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

ScoreFn = Callable[[np.ndarray], np.ndarray]  # tiles [B, C, th, tw] in [0, 1] -> scores [B, th, tw]
OVERLAP = (40, 100)  # rows, columns


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering [0, length) with tiles of `tile` that overlap by at least `overlap`."""
    if length <= tile:
        return [0]
    stride = max(1, tile - overlap)
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


def blend_window(height: int, width: int) -> np.ndarray:
    """Separable triangular weights [height, width], 1 in the middle, 0.05 at the border."""

    def axis(n: int) -> np.ndarray:
        ramp = 1 - np.abs(np.linspace(-1, 1, n))
        return np.clip(ramp, 0.05, None)

    return np.outer(axis(height), axis(width)).astype(np.float32)


def read_tile(image, top: int, left: int, tile: tuple[int, int], to_unit: Callable) -> np.ndarray:
    """Tile [C, th, tw] in [0, 1] of an array-like [C, H, W]; mirrored up to the tile size where the image is small."""
    th, tw = tile
    block = to_unit(np.asarray(image[:, top : top + th, left : left + tw]))
    pad_h, pad_w = th - block.shape[1], tw - block.shape[2]
    if pad_h or pad_w:
        block = np.pad(block, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")
    return block


def batched(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Band:
    """Weighted score sum and weight [rows, W] of some rows of tiles, for image rows [top, top + rows)."""

    top: int
    total: np.ndarray
    weight: np.ndarray


def band_tops(shape: tuple[int, int], tile: tuple[int, int], rows_per_band: int, overlap=OVERLAP) -> list[list[int]]:
    """The tops of the rows of tiles, cut into bands of `rows_per_band` rows of tiles."""
    return list(batched(tile_starts(shape[0], tile[0], overlap[0]), max(1, rows_per_band)))


def score_band(
    score_fn: ScoreFn,
    image,
    tile: tuple[int, int],
    tops: list[int],
    overlap: tuple[int, int] = OVERLAP,
    batch_size: int = 4,
    to_unit: Callable = lambda block: block,
    progress: Callable[[int], None] | None = None,
) -> Band:
    """Score the rows of tiles starting at `tops` (consecutive, from `band_tops`) of an array-like [C, H, W]."""
    _, height, width = image.shape
    th, tw = tile
    bottom = min(height, tops[-1] + th)
    total = np.zeros((bottom - tops[0], width), dtype=np.float32)
    weight = np.zeros_like(total)
    window = blend_window(th, tw)
    for top in tops:
        rows = slice(top - tops[0], min(top + th, height) - tops[0])
        visible_rows = rows.stop - rows.start
        for group in batched(tile_starts(width, tw, overlap[1]), batch_size):
            scores = score_fn(np.stack([read_tile(image, top, left, tile, to_unit) for left in group]))
            for left, score in zip(group, scores, strict=True):
                visible = min(tw, width - left)
                total[rows, left : left + visible] += (score * window)[:visible_rows, :visible]
                weight[rows, left : left + visible] += window[:visible_rows, :visible]
            if progress:
                progress(len(group))
    return Band(tops[0], total, weight)


class RowBlender:
    """Adds bands in row order and yields (top, scores [rows, W]) for the rows that are final."""

    def __init__(self, width: int) -> None:
        self.open = Band(0, np.zeros((0, width), np.float32), np.zeros((0, width), np.float32))

    def add(self, band: Band) -> Iterator[tuple[int, np.ndarray]]:
        """Rows above `band.top` are final once it is added: no later band starts higher."""
        done = band.top - self.open.top
        if done > 0:
            yield from self.finish(min(done, self.open.total.shape[0]))
            self.open = Band(band.top, self.open.total[done:], self.open.weight[done:])
        extra = band.total.shape[0] - self.open.total.shape[0]
        if extra > 0:
            padding = np.zeros((extra, band.total.shape[1]), np.float32)
            self.open = Band(self.open.top, np.concatenate([self.open.total, padding]),
                             np.concatenate([self.open.weight, padding]))  # fmt: skip
        rows = band.total.shape[0]
        self.open.total[:rows] += band.total
        self.open.weight[:rows] += band.weight

    def finish(self, rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """The scores of the first `rows` open rows (all of them by default)."""
        end = self.open.total.shape[0] if rows is None else rows
        if end > 0:
            yield self.open.top, self.open.total[:end] / np.maximum(self.open.weight[:end], 1e-12)


def score_tiled(
    score_fn: ScoreFn,
    image,
    tile: tuple[int, int],
    overlap: tuple[int, int] = OVERLAP,
    batch_size: int = 4,
    out: np.ndarray | None = None,
    to_unit: Callable = lambda block: block,
    progress: Callable[[int], None] | None = None,
    threads: int = 1,
) -> np.ndarray:
    """Blend per-tile scores over an array-like image [C, H, W] -> float32 [H, W] (written into `out`, which may
    be a memory-mapped file: rows are written as they become final).

    `to_unit` turns a raw block into [0, 1] floats (e.g. uint8 / 255); `progress(n)` is called after
    every n tiles. With `threads` > 1, that many rows of tiles are scored at once in threads (`score_fn` must
    then be thread-safe; torch releases the GIL while it computes), and at most twice as many are held.
    """
    _, height, width = image.shape
    out = np.zeros((height, width), dtype=np.float32) if out is None else out
    blender = RowBlender(width)

    scored: list[int] = []  # tiles done in the worker threads, reported to `progress` from this thread (a UI's)

    def add(band: Band) -> None:
        for top, scores in blender.add(band):
            out[top : top + len(scores)] = scores
        while progress and scored:
            progress(scored.pop())

    def band(tops: list[int]) -> Band:
        return score_band(score_fn, image, tile, tops, overlap, batch_size, to_unit, scored.append)

    with ThreadPoolExecutor(max(1, threads)) as pool:
        running: deque[Future] = deque()
        for tops in band_tops((height, width), tile, 1, overlap):
            running.append(pool.submit(band, tops))
            if len(running) > 2 * threads:
                add(running.popleft().result())
        while running:
            add(running.popleft().result())
    for top, scores in blender.finish():
        out[top : top + len(scores)] = scores
    return out


def count_tiles(shape: tuple[int, int], tile: tuple[int, int], overlap: tuple[int, int] = OVERLAP) -> int:
    return len(tile_starts(shape[0], tile[0], overlap[0])) * len(tile_starts(shape[1], tile[1], overlap[1]))
