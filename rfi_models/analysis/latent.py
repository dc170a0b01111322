"""Latent spaces: batched extraction, 2-D/3-D projections that place new samples, neighbours, cluster quality.

A `Projection` standardises the latents, reduces them with PCA to at most 50 dimensions (UMAP and
t-SNE work on that), and fits PCA, UMAP or t-SNE in 2 or 3 dimensions. A new sample is placed without
refitting: PCA and UMAP transform it; t-SNE has no transform, so the sample lands at the
distance-weighted mean of its k nearest neighbours' coordinates (neighbours found in the reduced
latent space). scikit-learn is imported when first needed, UMAP only when asked for (its numba start-up
costs seconds), so that reading a stored map costs neither.

Cluster quality per class compares models fairly: radii (mean distance to the class centroid) are
given in the projection and in the latent space, each divided by the spread of the whole set (RMS
distance to the global centroid), so a tighter cluster means the same thing for a 64-d CLS token and a
72-d convolutional bottleneck. Silhouette, kNN accuracy and the projection's trustworthiness complete it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..data.quicklook_scale import valid_pixels
from ..detection.anomaly import anomaly_maps
from ..models import Autoencoder

PROJECTIONS = ("pca", "umap", "tsne")
REDUCED_DIMS = 50
KNN_NEIGHBOURS = 5  # the kNN accuracy of the cluster figures
NEAR_ZERO_WEIGHT = 1e-2  # |w| below this counts as near zero (the seed report's comparison)


@torch.no_grad()
def extract_latents(model: Autoencoder, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """images [N, C, H, W] (uint8 or floats in [0, 1]) -> latents float32 [N, latent_dim]."""
    device = next(model.parameters()).device
    scale = np.float32(255) if images.dtype == np.uint8 else np.float32(1)
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.asarray(images[start : start + batch_size], dtype=np.float32) / scale)
        chunks.append(model.encode(batch.to(device)).cpu().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, model.latent_dim), np.float32)


@dataclass
class Projection:
    method: str = "pca"
    dims: int = 2
    params: dict = field(default_factory=dict)  # umap: n_neighbors, min_dist; tsne: perplexity; all: seed
    placement_neighbours: int = 10
    embedder: object = field(default=None, init=False, repr=False)  # the fitted UMAP, when fitted here

    def fit(self, latents: np.ndarray) -> np.ndarray:
        """Fit on latents [N, D]; returns coordinates [N, dims]."""
        if self.method not in PROJECTIONS:
            raise ValueError(f"projection must be one of {PROJECTIONS}, got {self.method!r}")
        if self.dims not in (2, 3):
            raise ValueError(f"dims must be 2 or 3, got {self.dims}")
        seed = int(self.params.get("seed", 0))
        self.fit_reduction(latents)
        if self.method == "pca":
            self.coords = self.reduced[:, : self.dims].copy()
            if self.coords.shape[1] < self.dims:
                self.coords = np.pad(self.coords, ((0, 0), (0, self.dims - self.coords.shape[1])))
        elif self.method == "umap":
            import umap

            self.embedder = umap.UMAP(
                n_components=self.dims,
                n_neighbors=int(self.params.get("n_neighbors", 15)),
                min_dist=float(self.params.get("min_dist", 0.1)),
                random_state=seed,
            )
            self.coords = self.embedder.fit_transform(self.reduced)
        else:
            from sklearn.manifold import TSNE

            perplexity = min(float(self.params.get("perplexity", 30.0)), (len(latents) - 1) / 3)
            self.coords = TSNE(self.dims, perplexity=perplexity, random_state=seed, init="pca").fit_transform(
                self.reduced
            )
        self.coords = np.asarray(self.coords, dtype=np.float32)
        return self.coords

    @classmethod
    def from_coordinates(cls, method: str, latents: np.ndarray, coords: np.ndarray, params=None) -> Projection:
        """A projection whose coordinates [N, dims] were computed earlier (the precomputed maps).

        Only the standardisation, the PCA reduction and the neighbour index are fitted (fast); new samples
        are placed exactly for PCA and by their neighbours otherwise (a stored map keeps no UMAP model).
        """
        projection = cls(method, coords.shape[1], dict(params or {}))
        projection.fit_reduction(latents)
        projection.coords = np.asarray(coords, dtype=np.float32)
        return projection

    def fit_reduction(self, latents: np.ndarray) -> None:
        """Standardise, reduce with PCA to at most REDUCED_DIMS, and index the reduced latents for neighbours."""
        from sklearn.decomposition import PCA
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler().fit(latents)
        scaled = self.scaler.transform(latents)
        seed = int(self.params.get("seed", 0))
        self.reducer = PCA(min(REDUCED_DIMS, *scaled.shape), random_state=seed).fit(scaled)
        self.reduced = self.reducer.transform(scaled)
        self.neighbours = NearestNeighbors(n_neighbors=min(self.placement_neighbours, len(latents))).fit(self.reduced)

    def reduce(self, latents: np.ndarray) -> np.ndarray:
        return self.reducer.transform(self.scaler.transform(latents))

    def place(self, latents: np.ndarray) -> np.ndarray:
        """Coordinates [M, dims] for new latents [M, D], without refitting."""
        reduced = self.reduce(latents)
        if self.method == "pca":
            return np.pad(reduced, ((0, 0), (0, max(0, self.dims - reduced.shape[1]))))[:, : self.dims]
        if self.method == "umap" and self.embedder is not None:
            return np.asarray(self.embedder.transform(reduced), dtype=np.float32)
        distances, indices = self.neighbours.kneighbors(reduced)
        weights = 1.0 / np.maximum(distances, 1e-9)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("mk,mkd->md", weights, self.coords[indices]).astype(np.float32)

    def nearest(self, latents: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Indices and distances [M, k] of the fitted samples nearest to new latents (reduced latent space)."""
        distances, indices = self.neighbours.kneighbors(self.reduce(latents), n_neighbors=min(k, len(self.coords)))
        return indices, distances


def class_radii(points: np.ndarray, labels: np.ndarray) -> dict[int, float]:
    """Mean distance to the class centroid, divided by the RMS distance of all points to the global centroid."""
    spread = np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean())
    radii = {}
    for label in np.unique(labels):
        members = points[labels == label]
        radii[int(label)] = float(np.linalg.norm(members - members.mean(axis=0), axis=1).mean() / spread)
    return radii


def latent_space_quality(latents: np.ndarray, labels: np.ndarray, k: int = KNN_NEIGHBOURS) -> dict:
    """In the standardised latent space itself: per-class normalised radii, silhouette and kNN accuracy."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler

    standardised = StandardScaler().fit_transform(latents)
    folds = min(5, int(np.bincount(labels).min()))
    knn = KNeighborsClassifier(n_neighbors=k)
    return {
        "radius_latent": class_radii(standardised, labels),
        "silhouette_latent": float(silhouette_score(standardised, labels)),
        "knn_accuracy": float(cross_val_score(knn, standardised, labels, cv=folds).mean()) if folds >= 2 else np.nan,
    }


def cluster_quality(latents: np.ndarray, coords: np.ndarray, labels: np.ndarray, k: int = KNN_NEIGHBOURS) -> dict:
    """`latent_space_quality`, plus radii, silhouette and trustworthiness of a projection `coords`. Projection
    figures describe one picture: t-SNE does not keep cluster sizes, so they do not compare across models."""
    from sklearn.manifold import trustworthiness
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    return latent_space_quality(latents, labels, k) | {
        "radius_projection": class_radii(coords, labels),
        "silhouette_projection": float(silhouette_score(coords, labels)),
        "trustworthiness": float(trustworthiness(StandardScaler().fit_transform(latents), coords, n_neighbors=k)),
    }


def weight_statistics(model: Autoencoder, near_zero: float = NEAR_ZERO_WEIGHT, bins: int = 50) -> list[dict]:
    """Per weight tensor: size, mean, std, mean |w|, share of |w| < near_zero, and a histogram."""
    rows = []
    for name, parameter in model.named_parameters():
        values = parameter.detach().cpu().numpy().ravel()
        counts, edges = np.histogram(values, bins=bins)
        rows.append(
            {
                "layer": name,
                "shape": list(parameter.shape),
                "count": int(values.size),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "mean_abs": float(np.abs(values).mean()),
                "near_zero_share": float((np.abs(values) < near_zero).mean()),
                "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
            }
        )
    return rows


def sar_colour_variables(model: Autoencoder, images: np.ndarray, rfi_masks: np.ndarray, batch_size: int = 8) -> dict:
    """Per SAR sample: the share of RFI pixels (truth) and the model's mean anomaly score (squared error)."""
    scores = np.concatenate(
        [anomaly_maps(model, images[i : i + batch_size], "error") for i in range(0, len(images), batch_size)]
    )
    valid = valid_pixels(images)
    mean_score = (scores * valid).sum(axis=(1, 2)) / np.maximum(valid.sum(axis=(1, 2)), 1)
    return {"rfi_fraction": rfi_masks.mean(axis=(1, 2)), "mean_anomaly_score": mean_score}
