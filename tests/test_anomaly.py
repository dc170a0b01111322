"""Anomaly and RFI scores, the baseline, and tiling."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

import rfi_models
from rfi_models.data import synthetic_sar_patches
from rfi_models.detection.anomaly import (
    anomaly_maps,
    covering_mask_noise,
    covering_masks,
    residuals,
    rfi_score,
    running_median_along_rows,
)
from rfi_models.detection.baseline import baseline_scores
from rfi_models.detection.tiling import blend_window, score_tiled, tile_starts


def test_covering_masks_hide_every_patch():
    model = rfi_models.create_model("mae", "sar")
    noise = covering_mask_noise(model, 4, seed=0)
    x = torch.rand(1, 2, 340, 500)
    hidden = torch.stack([model.reconstruct(x, mask_ratio=0.75, noise=n[None]).mask[0] for n in noise])
    assert hidden.any(dim=0).all()
    assert hidden.float().mean().item() == pytest.approx(0.75, abs=0.01)


def test_mae_residual_counts_only_hidden_patches():
    model = rfi_models.create_model("mae", "mnist").eval()
    x = torch.rand(2, 1, 28, 28)
    batched = residuals(model, x, k_masks=4, mask_ratio=0.5, seed=1)
    noise = covering_mask_noise(model, 4, seed=1)
    total, counts = torch.zeros_like(x), torch.zeros_like(x)
    with torch.no_grad():
        for n in noise:
            out = model.reconstruct(x, mask_ratio=0.5, noise=n.expand(2, -1))
            hidden = out.mask[:, None].float()
            total += (x - out.image) * hidden
            counts += hidden
    assert np.allclose(batched, (total / counts.clamp_min(1)).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="cannot hide every patch"):
        residuals(model, x, k_masks=2, mask_ratio=0.25)


def stripe_ship_land_residual() -> tuple[np.ndarray, dict]:
    """An oracle residual with an RFI stripe, a ship and a land block of the same VH brightness."""
    residual = np.zeros((1, 2, 340, 500), np.float32)
    residual += np.random.default_rng(0).normal(0, 0.01, residual.shape).astype(np.float32)
    regions = {
        "rfi": (slice(100, 110), slice(40, 460)),
        "ship": (slice(200, 208), slice(100, 108)),
        "land": (slice(220, 340), slice(250, 500)),
    }
    residual[0, 1][regions["rfi"]] += 0.2  # RFI: VH only
    residual[0, 0][regions["rfi"]] += 0.02
    for name in ("ship", "land"):  # bright in both channels
        residual[0, :, regions[name][0], regions[name][1]] += 0.2
    return residual, regions


def test_rfi_rows_score_higher_than_clean_rows_ships_and_land():
    residual, regions = stripe_ship_land_residual()
    score = rfi_score(residual)[0]
    rfi_level = score[regions["rfi"]].mean()
    clean = score[20:80].mean()
    assert rfi_level > 10 * clean
    assert score[regions["ship"]].max() < 0.2 * rfi_level
    assert score[regions["land"]].max() < 0.2 * rfi_level


def test_vh_only_compact_blob_is_diluted_by_range_smoothing():
    residual, regions = stripe_ship_land_residual()
    residual[0, 1, 300:306, 60:66] += 0.2  # compact and VH-only: still not a stripe
    score = rfi_score(residual)[0]
    assert score[300:306, 60:66].max() < 0.3 * score[regions["rfi"]].mean()


def test_baseline_scores_rfi_rows_above_clean_rows_and_ignores_no_data():
    # the hand-written baseline on the data it was written for (the legacy recipe's VH-dominant stripes)
    patches = synthetic_sar_patches(6, seed=21, rfi_probability=1.0, rfi_strength_db=(10.0, 15.0), recipe="legacy")
    images = np.stack([p.image for p in patches]) / np.float32(255)
    scores = baseline_scores(images)
    for patch, score in zip(patches, scores, strict=True):
        if patch.rfi.sum() > 200:
            assert score[patch.rfi].mean() > 3 * score[~patch.rfi & ~patch.nodata].mean()
        assert np.all(score[patch.nodata] == 0)


@pytest.mark.parametrize("method", ["error", "ssim", "rfi"])
def test_anomaly_maps_are_zero_on_no_data(method):
    model = rfi_models.create_model("dae", "sar").eval()
    images = np.random.default_rng(0).random((1, 2, 340, 500)).astype(np.float32)
    images[:, :, :, :60] = 0
    scores = anomaly_maps(model, images, method)
    assert scores.shape == (1, 340, 500) and scores.dtype == np.float32
    assert np.all(scores[:, :, :60] == 0) and scores[:, :, 60:].max() > 0


def test_tile_starts_cover_the_axis():
    assert tile_starts(340, 340, 40) == [0]
    assert tile_starts(100, 340, 40) == [0]
    starts = tile_starts(1000, 340, 40)
    assert starts[0] == 0 and starts[-1] == 660 and all(b - a <= 300 for a, b in itertools.pairwise(starts))


def test_tiled_inference_matches_whole_image_inference():
    """A fully convolutional model scored through 60 x 92 tiles agrees with one pass over 124 x 188."""
    torch.manual_seed(0)
    small = rfi_models.create_model("dae", "sar", img_size=(60, 92)).eval()
    whole = rfi_models.create_model("dae", "sar", img_size=(124, 188)).eval()
    whole.load_state_dict(small.state_dict())
    images = synthetic_sar_patches(1, 124, 188, seed=3, rfi_probability=1.0)[0].image[None] / np.float32(255)
    reference = anomaly_maps(whole, images, "error")[0]
    tiled = score_tiled(lambda tiles: anomaly_maps(small, tiles, "error"), images[0], (60, 92), overlap=(20, 30))
    assert tiled.shape == reference.shape
    assert np.corrcoef(tiled.ravel(), reference.ravel())[0, 1] > 0.95
    assert np.abs(tiled - reference).mean() < 0.1 * reference.mean()


@pytest.mark.parametrize("height", [5, 81, 340])
def test_running_median_is_scipys_median_filter_along_rows(height):
    values = np.random.default_rng(height).random((2, height, 37)).astype(np.float32)
    values[:, ::3, 5] = 0.5  # ties
    expected = ndimage.median_filter(values, size=(1, 81, 1), mode="nearest")
    assert np.array_equal(running_median_along_rows(values, 81), expected)


def test_threaded_banded_scoring_gives_the_masks_of_a_plain_tile_loop():
    """The fast path (bands of tiles in 2 threads, one embedding for the K masks, the one-call median) against a
    plain loop over every tile blended over the whole image, on a small scene with a small MAE."""
    torch.manual_seed(0)
    model = rfi_models.create_model("mae", "sar", img_size=(100, 140), depth=1, embed_dim=32, decoder_depth=1,
                                    decoder_embed_dim=32).eval()  # fmt: skip
    image = synthetic_sar_patches(1, 230, 370, seed=4, rfi_probability=1.0)[0].image / np.float32(255)
    tile, overlap = (100, 140), (20, 30)
    total, weight = np.zeros((230, 370)), np.zeros((230, 370))
    window = blend_window(*tile)
    for top in tile_starts(230, 100, 20):
        for left in tile_starts(370, 140, 30):
            block = image[None, :, top : top + 100, left : left + 140]
            total[top : top + 100, left : left + 140] += anomaly_maps(model, block, "rfi")[0] * window
            weight[top : top + 100, left : left + 140] += window
    reference = (total / weight).astype(np.float32)
    fast = score_tiled(lambda tiles: anomaly_maps(model, tiles, "rfi"), image, tile, overlap, threads=2)
    assert np.allclose(fast, reference, rtol=1e-5, atol=1e-7)
    threshold = np.quantile(reference, 0.95)
    assert np.array_equal(fast >= threshold, reference >= threshold)


def test_bfloat16_matrix_products_keep_the_shipped_detectors_masks():
    """--precision bfloat16: the shipped MAE's mask on synthetic patches with RFI stays within a few pixels of
    float32's (the README gives the detection metrics of both)."""
    from rfi_models.detection.detector import Detector

    shipped = Path(__file__).resolve().parents[1] / "checkpoints" / "mae_sar.safetensors"
    images = np.stack([p.image for p in synthetic_sar_patches(2, 340, 500, seed=7, rfi_probability=1.0)])
    images = images / np.float32(255)
    exact = Detector.from_checkpoint(shipped)
    fast = Detector.from_checkpoint(shipped, precision="bfloat16")
    reference, scores = exact.score_batch(images), fast.score_batch(images)
    assert scores.dtype == np.float32 and np.abs(scores - reference).max() < 0.1 * exact.threshold
    masks = reference >= exact.threshold, scores >= exact.threshold
    assert masks[0].sum() > 100 and (masks[0] != masks[1]).sum() < 0.02 * masks[0].sum()


def test_auto_precision_is_bfloat16_only_where_the_cpu_has_amx(monkeypatch):
    import torch

    from rfi_models.detection.detector import resolve_precision

    for amx, expected in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda amx=amx: amx, raising=False)
        assert resolve_precision("auto") == expected
    assert resolve_precision("float32") == "float32" and resolve_precision("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("float16")


@pytest.mark.parametrize(("ratio", "masks"), [(0.25, 4), (0.3, 4), (0.5, 2), (0.6, 2), (0.75, 2), (1.0, 1)])
def test_the_fewest_covering_masks_hide_every_patch_and_one_fewer_cannot(ratio, masks):
    model = rfi_models.create_model("mae", "mnist").eval()
    assert covering_masks(ratio) == masks
    x = torch.rand(1, 1, 28, 28)
    if ratio < 1.0:
        hidden = torch.stack(
            [
                model.reconstruct(x, mask_ratio=ratio, noise=n[None]).mask[0]
                for n in covering_mask_noise(model, masks, 0)
            ]
        )
        assert hidden.any(dim=0).all()
    if masks > 1:
        with pytest.raises(ValueError, match="cannot hide every patch"):
            residuals(model, x, k_masks=masks - 1, mask_ratio=ratio)
