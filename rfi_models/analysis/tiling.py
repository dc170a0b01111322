"""Score images of any size through overlapping tiles with blending, streaming with bounded memory.

Tiles have the model's size and overlap by `overlap` pixels; the last tile of each axis is aligned with
the image's end. Overlapping scores are blended with a separable triangular window (never zero), so
seams between tiles do not show. Tiles are taken one row of tiles at a time: only one band of
`tile height` rows is accumulated in memory, finished rows go straight to `out` (which may be a
memory-mapped file), so memory does not grow with the scene. Images smaller than a tile along an axis
are mirrored up to the tile size and the scores cropped back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

ScoreFn = Callable[[np.ndarray], np.ndarray]  # tiles [B, C, th, tw] in [0, 1] -> scores [B, th, tw]


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


def score_tiled(
    score_fn: ScoreFn,
    image,
    tile: tuple[int, int],
    overlap: tuple[int, int] = (40, 100),
    batch_size: int = 4,
    out: np.ndarray | None = None,
    to_unit: Callable = lambda block: block,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Blend per-tile scores over an array-like image [C, H, W] -> float32 [H, W] (written into `out`).

    `to_unit` turns a raw block into [0, 1] floats (e.g. uint8 / 255); `progress(n)` is called after
    every n tiles.
    """
    _, height, width = image.shape
    th, tw = tile
    out = np.zeros((height, width), dtype=np.float32) if out is None else out
    rows, cols = tile_starts(height, th, overlap[0]), tile_starts(width, tw, overlap[1])
    window = blend_window(th, tw)
    band = np.zeros((th, width), dtype=np.float32)  # weighted score sum for rows [band_top, band_top + th)
    weight = np.zeros((th, width), dtype=np.float32)
    band_top = rows[0]
    for row_index, top in enumerate(rows):
        shift = top - band_top  # move the band down to start at `top`, writing the rows that are final
        if shift:
            finished = slice(band_top, band_top + shift)
            out[finished] = (band[:shift] / np.maximum(weight[:shift], 1e-12))[: min(shift, height - band_top)]
            band = np.concatenate([band[shift:], np.zeros((shift, width), np.float32)])
            weight = np.concatenate([weight[shift:], np.zeros((shift, width), np.float32)])
            band_top = top
        for group in batched(cols, batch_size):
            tiles = np.stack([read_tile(image, top, left, tile, to_unit) for left in group])
            scores = score_fn(tiles)
            for left, score in zip(group, scores, strict=True):
                visible = min(tw, width - left)
                band[:, left : left + visible] += (score * window)[:, :visible]
                weight[:, left : left + visible] += window[:, :visible]
            if progress:
                progress(len(group))
        if row_index == len(rows) - 1:
            last = min(th, height - band_top)
            out[band_top : band_top + last] = band[:last] / np.maximum(weight[:last], 1e-12)
    return out


def count_tiles(shape: tuple[int, int], tile: tuple[int, int], overlap: tuple[int, int] = (40, 100)) -> int:
    return len(tile_starts(shape[0], tile[0], overlap[0])) * len(tile_starts(shape[1], tile[1], overlap[1]))
