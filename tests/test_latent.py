"""Latent spaces on data with known clusters: projections, placement, neighbours, cluster quality."""

import numpy as np
import pytest
import torch

import rfi_models
from rfi_models.analysis.latent import (
    Projection,
    class_radii,
    cluster_quality,
    extract_latents,
    sar_colour_variables,
    weight_statistics,
)
from rfi_models.data import load_mnist_sample, synthetic_sar


def blobs(n_per_class=60, dims=20, spread=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (3, dims))
    labels = np.repeat(np.arange(3), n_per_class)
    return (centres[labels] + rng.normal(0, spread, (len(labels), dims))).astype(np.float32), labels


def test_extract_latents_in_batches_matches_one_pass():
    model = rfi_models.create_model("dae", "mnist").eval()
    images, _ = load_mnist_sample()
    latents = extract_latents(model, images[:70, None], batch_size=32)
    with torch.no_grad():
        reference = model.encode(torch.from_numpy(images[:70, None] / np.float32(255))).numpy()
    assert latents.shape == (70, 72) and np.allclose(latents, reference, atol=1e-5)


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
@pytest.mark.parametrize("dims", [2, 3])
def test_projection_separates_known_clusters_and_places_new_samples(method, dims):
    latents, labels = blobs()
    projection = Projection(method, dims, {"seed": 0, "perplexity": 15})
    coords = projection.fit(latents)
    assert coords.shape == (180, dims)
    quality = cluster_quality(latents, coords, labels)
    assert quality["knn_accuracy"] == 1.0 and quality["silhouette_projection"] > 0.3
    assert quality["trustworthiness"] > 0.85
    # a new sample drawn from cluster 1 lands among cluster 1, and its neighbours are cluster 1
    new = latents[labels == 1].mean(axis=0, keepdims=True) + 0.1
    placed = projection.place(new)
    centroids = np.stack([coords[labels == c].mean(axis=0) for c in range(3)])
    assert np.argmin(np.linalg.norm(centroids - placed, axis=1)) == 1
    indices, distances = projection.nearest(new, k=5)
    assert (labels[indices[0]] == 1).all() and np.all(np.diff(distances[0]) >= 0)


def test_pca_placement_of_a_fitted_point_is_exact():
    latents, _ = blobs()
    projection = Projection("pca", 2)
    coords = projection.fit(latents)
    assert np.allclose(projection.place(latents[:5]), coords[:5], atol=1e-4)


def test_radii_are_normalised_by_the_spread():
    latents, labels = blobs(spread=0.3)
    tight, loose = class_radii(latents, labels), class_radii(latents * 10, labels)
    assert tight == pytest.approx(loose)  # units do not matter
    wide, wide_labels = blobs(spread=3.0)
    assert all(class_radii(wide, wide_labels)[c] > tight[c] for c in range(3))


def test_bad_projection_arguments():
    with pytest.raises(ValueError, match="projection must be one of"):
        Projection("lle").fit(blobs()[0])
    with pytest.raises(ValueError, match="dims must be 2 or 3"):
        Projection("pca", 4).fit(blobs()[0])


def test_weight_statistics_cover_every_parameter():
    model = rfi_models.create_model("dae", "mnist")
    rows = weight_statistics(model)
    assert [r["layer"] for r in rows] == [n for n, _ in model.named_parameters()]
    assert sum(r["count"] for r in rows) == 9585
    assert all(0 <= r["near_zero_share"] <= 1 and sum(r["histogram"]["counts"]) == r["count"] for r in rows)


def test_sar_colour_variables():
    model = rfi_models.create_model("dae", "sar").eval()
    images, masks = synthetic_sar(3, seed=1)
    colours = sar_colour_variables(model, images, masks)
    assert np.allclose(colours["rfi_fraction"], masks.mean(axis=(1, 2)))
    assert colours["mean_anomaly_score"].shape == (3,) and (colours["mean_anomaly_score"] > 0).all()
