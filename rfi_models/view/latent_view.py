"""What the latent page shows of the gallery's maps: the colour of each sample, and several models' maps overlaid
on one standardised scale."""

from __future__ import annotations

import numpy as np

from ..analysis.latent_maps import LatentMaps


def colour_options(maps: LatentMaps) -> list[str]:
    """What the samples can be coloured by: the known class variable, the reconstruction error, or the model."""
    return ["digit" if maps.labels is not None else "RFI fraction", "reconstruction error", "model"]


def colour_values(maps: LatentMaps, family: str, colour_by: str) -> tuple[np.ndarray, bool]:
    """Colour values [N] of the samples in `family`'s map, and whether they are categories (digits)."""
    if colour_by == "reconstruction error":
        return maps.maps[family].error, False
    if colour_by == "digit":
        return maps.labels, True
    return maps.rfi_fraction, False


def standardised(coords: dict[str, np.ndarray], placed: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Each model's map centred and divided by its mean spread, so that maps overlaid in one figure compare; the
    placed samples [M, d] of each map moved the same way."""
    moved_coords, moved_placed = {}, {}
    for family, points in coords.items():
        centre, spread = points.mean(axis=0), max(float(points.std(axis=0).mean()), 1e-12)
        moved_coords[family] = (points - centre) / spread
        if family in placed:
            moved_placed[family] = (placed[family] - centre) / spread
    return moved_coords, moved_placed
