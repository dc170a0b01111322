"""MNIST loading and the synthetic Sentinel-1 generator."""

import numpy as np
import pytest
from scipy import ndimage

from rfi_models.data import load_mnist, load_mnist_sample, synthetic_sar, synthetic_sar_patches
from rfi_models.data.backgrounds import invert_stretch


def test_shipped_mnist_sample_is_the_test_set():
    images, labels = load_mnist_sample()
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]


def test_full_mnist_is_parsed_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("RFI_MODELS_CACHE", str(tmp_path))
    images, labels = load_mnist("test")
    assert (tmp_path / "mnist_test.npz").exists()
    shipped_images, shipped_labels = load_mnist_sample()
    assert np.array_equal(images, shipped_images) and np.array_equal(labels, shipped_labels)
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("validation")


def test_generator_shapes_range_and_determinism():
    images, masks = synthetic_sar(4, 64, 90, seed=5)
    assert images.shape == (4, 2, 64, 90) and images.dtype == np.float32
    assert masks.shape == (4, 64, 90) and masks.dtype == bool
    assert images.min() >= 0 and images.max() <= 1
    again, again_masks = synthetic_sar(4, 64, 90, seed=5)
    assert np.array_equal(images, again) and np.array_equal(masks, again_masks)
    other, _ = synthetic_sar(4, 64, 90, seed=6)
    assert not np.array_equal(images, other)
    first_two, _ = synthetic_sar(2, 64, 90, seed=5)
    assert np.array_equal(first_two, images[:2])  # patch i depends only on (seed, i)


@pytest.mark.parametrize(("height", "width"), [(340, 500), (332, 512), (25, 1500), (700, 60)])
def test_any_size_can_be_generated(height, width):
    images, masks = synthetic_sar(2, height, width, seed=1, rfi_probability=1.0)
    assert images.shape == (2, 2, height, width) and masks.shape == (2, height, width)


def test_masks_are_exactly_the_pixels_rfi_changed():
    with_rfi = synthetic_sar_patches(12, 170, 250, seed=3, rfi_probability=1.0, rfi_strength_db=(2.0, 20.0))
    without = synthetic_sar_patches(12, 170, 250, seed=3, rfi_probability=0.0)
    assert sum(p.rfi.sum() for p in with_rfi) > 500
    for a, b in zip(with_rfi, without, strict=True):
        assert np.array_equal((a.image != b.image).any(axis=0), a.rfi)  # injected pixels == mask
        assert np.array_equal(a.land, b.land) and np.array_equal(a.nodata, b.nodata)


def rfi_gain_db(a, b) -> np.ndarray:
    """Mean dB added by RFI per channel (VV, VH) inside the mask, through the patch's own stretch."""
    return np.array([
        (invert_stretch(a.image[c], a.stretch[c]) - invert_stretch(b.image[c], b.stretch[c]))[a.rfi].mean()
        for c in range(2)
    ])  # fmt: skip


def test_rfi_polarisation_is_vh_dominant_or_equal_as_on_the_real_boxes():
    """Calibrated on the real RFI patches, where VV is unchanged in all 11 boxes: VH-dominant or equal, never VV."""
    with_rfi = synthetic_sar_patches(40, 170, 250, seed=4, rfi_probability=1.0, rfi_strength_db=(6.0, 12.0))
    without = synthetic_sar_patches(40, 170, 250, seed=4, rfi_probability=0.0)
    differences = {"vh": [], "equal": [], "vv": []}
    for a, b in zip(with_rfi, without, strict=True):
        if a.rfi.sum() > 50:
            gain_vv, gain_vh = rfi_gain_db(a, b)
            differences[a.rfi_events[0]["pol_class"]].append(gain_vv - gain_vh)
    counts = {k: len(v) for k, v in differences.items()}
    assert counts["vh"] > 5 * counts["equal"] >= 10 and counts["vv"] == 0, counts
    assert np.median(differences["vh"]) < -1.5 and abs(np.median(differences["equal"])) < 1.5


def test_stripes_are_tilted_and_range_elongated_from_one_row_to_tall_blocks():
    patches = synthetic_sar_patches(60, 170, 250, seed=5, rfi_probability=1.0)
    events = [e for p in patches for e in p.rfi_events]
    tilts = np.array([e["tilt"] for e in events])
    heights = np.array([e["height"] for e in events])
    assert (np.abs(tilts) > 0.01).mean() > 0.3 and heights.min() == 1 and heights.max() >= 30
    slopes = []  # the mask itself is tilted: row centroid against column, one continuous stripe per patch
    for p in patches:
        if len(p.rfi_events) == 1 and not p.rfi_events[0]["dashed"] and p.rfi.sum() > 100:
            rows, cols = np.nonzero(p.rfi)
            if np.ptp(cols) > 40:
                slopes.append((np.polyfit(cols, rows, 1)[0], p.rfi_events[0]["tilt"]))
    assert len(slopes) >= 3
    fitted, drawn = np.array(slopes).T
    assert np.corrcoef(fitted, drawn)[0, 1] > 0.8
    # each emitter's stripe is long in range and short in azimuth (real boxes: median about 140 x 10 px); the mask's
    # pieces are shorter, as the stripes are dashed and the faint parts change no grey level
    assert np.median([(e["col1"] - e["col0"]) / e["height"] for e in events]) > 3


def test_horizontal_confounders_are_never_in_the_mask():
    clean = synthetic_sar_patches(40, 170, 250, seed=6, rfi_probability=0.0)
    assert sum(p.confounders.any() for p in clean) >= 10  # fronts, range coastlines, bursts
    assert not any(p.rfi.any() for p in clean)
    contaminated = synthetic_sar_patches(40, 170, 250, seed=6, rfi_probability=1.0)
    for p, q in zip(contaminated, clean, strict=True):
        assert np.array_equal(p.confounders, q.confounders)
        outside = p.confounders & ~p.rfi  # a confounder pixel is RFI only where a stripe was added on it
        assert np.array_equal(p.image[:, outside], q.image[:, outside])


def test_legacy_rfi_is_stronger_in_vh_than_vv_and_elongated_along_range():
    with_rfi = synthetic_sar_patches(12, seed=4, rfi_probability=1.0, rfi_strength_db=(5.0, 20.0), recipe="legacy")
    without = synthetic_sar_patches(12, seed=4, rfi_probability=0.0, recipe="legacy")
    for a, b in zip(with_rfi, without, strict=True):
        if not a.rfi.any():
            continue
        gain = a.image.astype(float) - b.image.astype(float)
        assert gain[1, a.rfi].mean() > gain[0, a.rfi].mean() + 5
        boxes = ndimage.find_objects(ndimage.label(a.rfi)[0])
        heights = [box[0].stop - box[0].start for box in boxes]
        widths = [box[1].stop - box[1].start for box in boxes]
        assert max(heights) <= 60 and sum(widths) >= 2 * sum(heights)


def test_no_data_borders_ships_and_land_never_carry_rfi():
    patches = synthetic_sar_patches(40, seed=9, rfi_probability=1.0)
    assert any(p.nodata.any() for p in patches) and any(p.ships.any() for p in patches)
    for p in patches:
        assert not (p.rfi & p.nodata).any()
        assert np.all(p.image[:, p.nodata] == 0)
        assert np.all(p.image[:, ~p.nodata] > 0)  # zero is reserved for no-data
    # ships and land are part of the background: identical with RFI switched off, never in the mask
    clean = synthetic_sar_patches(40, seed=9, rfi_probability=0.0)
    for p, q in zip(patches, clean, strict=True):
        assert np.array_equal(p.ships, q.ships) and not q.rfi.any()


def test_clean_patches_are_common():
    _, masks = synthetic_sar(60, 64, 96, seed=11)
    has_rfi = masks.reshape(60, -1).any(axis=1).mean()
    assert 0.3 <= has_rfi <= 0.7


def test_vh_is_darker_than_vv_in_db_whatever_the_stretch():
    patches = synthetic_sar_patches(20, 170, 250, seed=2, rfi_probability=0.0)
    gaps = [
        np.median(invert_stretch(p.image[0], p.stretch[0])[~p.nodata])
        - np.median(invert_stretch(p.image[1], p.stretch[1])[~p.nodata])
        for p in patches
    ]
    assert np.median(gaps) > 4.5  # VH sits near the noise floor, 5-11 dB under VV
    brighter_vh = [np.median(p.image[1][~p.nodata]) > np.median(p.image[0][~p.nodata]) for p in patches]
    assert 0 < sum(brighter_vh) < len(patches)  # per-channel stretches: in 8 bits VH may look brighter


def test_seed_reproduces_every_recipe():
    for recipe in ("quicklook", "legacy"):
        a = synthetic_sar_patches(3, 60, 80, seed=8, recipe=recipe)
        b = synthetic_sar_patches(3, 60, 80, seed=8, recipe=recipe)
        assert all(np.array_equal(p.image, q.image) and np.array_equal(p.rfi, q.rfi) for p, q in zip(a, b, strict=True))


def test_bad_arguments():
    with pytest.raises(ValueError, match="rfi_probability"):
        synthetic_sar(1, rfi_probability=2.0)
    with pytest.raises(ValueError, match="rfi_strength_db"):
        synthetic_sar(1, rfi_strength_db=(5.0, 1.0))
    with pytest.raises(ValueError, match="recipe must be one of"):
        synthetic_sar(1, recipe="fancy")
