"""MNIST loading and the synthetic Sentinel-1 generator."""

import numpy as np
import pytest
from scipy import ndimage

from rfi_models.data import load_mnist, load_mnist_sample, quicklook_to_db, synthetic_sar, synthetic_sar_patches


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


def test_masks_match_the_injected_rfi():
    with_rfi = synthetic_sar_patches(12, seed=3, rfi_probability=1.0, rfi_strength_db=(6.0, 20.0))
    without = synthetic_sar_patches(12, seed=3, rfi_probability=0.0)
    for a, b in zip(with_rfi, without, strict=True):
        changed = a.image.astype(int) != b.image.astype(int)
        assert not changed[:, ~a.rfi].any()  # nothing changes outside the mask
        assert changed[1, a.rfi].mean() > 0.97  # VH changes almost everywhere inside it
        assert np.array_equal(a.land, b.land) and np.array_equal(a.nodata, b.nodata)


def test_rfi_is_stronger_in_vh_than_vv_and_elongated_along_range():
    with_rfi = synthetic_sar_patches(12, seed=4, rfi_probability=1.0, rfi_strength_db=(5.0, 20.0))
    without = synthetic_sar_patches(12, seed=4, rfi_probability=0.0)
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


def test_vh_is_darker_than_vv():
    images, _ = synthetic_sar(20, seed=2, rfi_probability=0.0)
    db_per_unit = quicklook_to_db(255) - quicklook_to_db(0)
    gaps = [np.median(vv[vv > 0]) - np.median(vh[vh > 0]) for vv, vh in images]
    assert np.median(gaps) * db_per_unit > 4.5  # VH sits near the noise floor, 4-9 dB under VV


def test_bad_arguments():
    with pytest.raises(ValueError, match="rfi_probability"):
        synthetic_sar(1, rfi_probability=2.0)
    with pytest.raises(ValueError, match="rfi_strength_db"):
        synthetic_sar(1, rfi_strength_db=(5.0, 1.0))
