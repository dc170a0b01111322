"""Placing a new sample into a latent map, as the Latent-space page does for the current image: encode it,
place it on the map and find its nearest neighbours among the map's samples.

The map holds the latents of the 10,000 MNIST test digits under the shipped MAE. Two placements exist: a PCA
map places a sample exactly (its transform); a stored UMAP or t-SNE map (`Projection.from_coordinates`, how the
app reads the precomputed maps) places it at the distance-weighted mean of its neighbours. The cost of the
latter does not depend on the stored coordinates' values, so the PCA coordinates stand in for them.
"""

from __future__ import annotations

import numpy as np

from rfi_models.analysis import Projection, extract_latents
from rfi_models.models import Autoencoder

from .timing import median_ms

NEIGHBOURS = 10


def new_sample(images: np.ndarray) -> np.ndarray:
    """A digit the map has not seen: the first one shifted by two pixels, float32 [C, H, W] in [0, 1]."""
    return np.roll(images[0], 2, axis=-1).astype(np.float32) / np.float32(255)


def placement_ms(model: Autoencoder, map_images: np.ndarray, repeats: int, k: int = NEIGHBOURS) -> dict[str, float]:
    """Median ms to encode, place and find the k nearest neighbours of one new sample, per kind of map.

    map_images: uint8 [N, C, H, W], the map's samples.
    """
    latents = extract_latents(model, map_images)
    pca = Projection("pca", 2)
    pca.fit(latents)
    maps = {"pca": pca, "stored": Projection.from_coordinates("tsne", latents, pca.coords)}
    sample = new_sample(map_images)[None]

    def place(projection: Projection) -> None:
        latent = extract_latents(model, sample)
        projection.place(latent)
        projection.nearest(latent, k)

    return {kind: median_ms(lambda p=projection: place(p), repeats) for kind, projection in maps.items()}
