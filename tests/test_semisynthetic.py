"""Semi-synthetic SAR data: real backgrounds (the shipped quick-looks; BigEarthNet from ../shared/data/sentinel1),
injected RFI, visible and exact masks, splits by scene."""

import numpy as np
import pytest

from rfi_models.data import semisynthetic
from rfi_models.data.backgrounds import apply_stretch, invert_stretch
from rfi_models.data.semisynthetic import (
    SOURCES,
    SPLITS,
    Sentinel1DataMissing,
    acquisition_date,
    real_quicklooks,
    scene_split,
    semi_synthetic,
)


def take(scene_id: str) -> str:
    """The acquisition a scene belongs to: a quick-look's product date, or a BigEarthNet patch's date."""
    if scene_id in semisynthetic.quicklook_backgrounds():
        return semisynthetic.quicklook_backgrounds()[scene_id][2]
    return acquisition_date(scene_id)


def test_no_scene_and_no_take_in_two_splits():
    seen = {split: semi_synthetic(split, 70, seed=1, size=(60, 80), rfi_probability=0.0, sources=SOURCES).scene_ids
            for split in SPLITS}  # fmt: skip
    for a, b in [("train", "val"), ("train", "test"), ("val", "test")]:
        assert not set(seen[a]) & set(seen[b])
        assert not {take(s) for s in seen[a]} & {take(s) for s in seen[b]}
    every_scene = set(semisynthetic.quicklook_backgrounds()) | set(semisynthetic.bigearthnet_backgrounds()[1])
    assert set().union(*seen.values()) == every_scene  # 70 patches per split visit every scene of it
    assert scene_split("6D00") == scene_split("FEC3") and scene_split("CEAB") == scene_split("3768")


def test_masks_are_exactly_the_injected_pixels_and_seeds_reproduce():
    with_rfi = semi_synthetic("test", 12, seed=3, size=(170, 250), rfi_probability=1.0, rfi_strength_db=(2.0, 20.0))
    clean = semi_synthetic("test", 12, seed=3, size=(170, 250), rfi_probability=0.0)
    assert with_rfi.scene_ids == clean.scene_ids and with_rfi.masks.sum() > 1000
    changed = (with_rfi.images != clean.images).any(axis=1)
    assert np.array_equal(changed, with_rfi.masks)
    again = semi_synthetic("test", 12, seed=3, size=(170, 250), rfi_probability=1.0, rfi_strength_db=(2.0, 20.0))
    assert np.array_equal(again.images, with_rfi.images) and np.array_equal(again.masks, with_rfi.masks)
    other_split = semi_synthetic("val", 12, seed=3, size=(170, 250), rfi_probability=1.0, rfi_strength_db=(2.0, 20.0))
    assert not np.array_equal(other_split.masks, with_rfi.masks)


def test_quicklook_backgrounds_keep_their_real_pixel_values():
    values = np.arange(1, 256, dtype=np.uint8)
    for span in (25.0, 31.7, 40.0):
        window = np.array([0.0, span, 1.0], dtype=np.float32)
        assert np.array_equal(apply_stretch(invert_stretch(values, window), window), values)
    patches = semi_synthetic("train", 4, seed=0, size=(100, 100), rfi_probability=0.0, sources=("quicklook",))
    real = semisynthetic.quicklook_backgrounds()
    for image, scene_id in zip(patches.images, patches.scene_ids, strict=True):
        pixels = np.rint(image * 255).astype(np.uint8)
        assert set(np.unique(pixels)) <= set(np.unique(real[scene_id][0]))  # a crop of the real image


def test_real_quicklooks_for_false_positive_checks():
    every = real_quicklooks()
    assert len(every) == 7 and all(img.dtype == np.float32 and img.shape[0] == 2 for img in every.values())
    test = real_quicklooks("test", size=(340, 500))
    assert sorted(test) == ["4B8B", "8255"] and all(img.shape == (2, 340, 500) for img in test.values())
    assert all(img.min() >= 0 and img.max() <= 1 for img in test.values())


def test_missing_data_and_bad_arguments_say_what_is_wrong(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        semi_synthetic("validation", 1)
    with pytest.raises(ValueError, match="sources must be"):
        semi_synthetic("train", 1, sources=("sentinel2",))
    with pytest.raises(ValueError, match="never tiled"):
        semi_synthetic("train", 1, sources=("bigearthnet",))  # 120 x 120 patches have no 340 x 500 window
    monkeypatch.setenv(semisynthetic.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(Sentinel1DataMissing, match="RFI_MODELS_SENTINEL1"):
        semi_synthetic("train", 1, size=(120, 120), sources=("bigearthnet",))
    assert len(semi_synthetic("train", 1).images) == 1  # the quick-looks ship inside the package


def test_backgrounds_are_windows_of_one_real_scene_at_its_own_scale():
    patches = semi_synthetic("train", 8, seed=5, rfi_probability=0.0)
    real = semisynthetic.quicklook_backgrounds()
    flipped = 0
    for image, scene_id in zip(patches.images, patches.scene_ids, strict=True):
        pixels, scene = np.rint(image * 255).astype(np.uint8), real[scene_id][0]
        h, w = pixels.shape[1:]
        found = [(flip, r, c) for flip, source in ((False, scene), (True, scene[:, ::-1]))
                 for r in range(scene.shape[1] - h + 1) for c in range(scene.shape[2] - w + 1)
                 if np.abs(source[:, r : r + h, c : c + w].astype(int) - pixels).max() <= 1]  # fmt: skip
        # (a grey level of 0 in one channel only comes back as 1 through the dB round trip)
        assert found, f"patch of {scene_id} is not a window of it, nor of its azimuth flip (never a range flip)"
        flipped += found[0][0]
    assert 0 < flipped < len(patches.images)  # azimuth flips happen, not always


def test_the_visible_mask_keeps_stripes_above_the_amount_and_ignores_those_below():
    from rfi_models.data.sar_rfi import VISIBLE_DB, visible_mask

    clean = np.full((4, 10), -20.0)
    raised = clean.copy()
    raised[1, :5] += VISIBLE_DB * 0.5  # a faint stripe: changed, but below the amount
    raised[2, :] += VISIBLE_DB * 2  # a visible one
    exact = raised != clean
    visible = visible_mask(clean, raised, exact)
    assert not visible[1].any() and visible[2].all() and not visible[[0, 3]].any()
    faint = semi_synthetic("test", 6, seed=3, rfi_probability=1.0, rfi_strength_db=(0.2, 0.3))
    strong = semi_synthetic("test", 6, seed=3, rfi_probability=1.0, rfi_strength_db=(8.0, 9.0))
    # 0.3 dB on average changes many grey levels, visibly only where its modulation peaks
    assert faint.masks.sum() > 1000 and faint.visible.sum() < 0.2 * faint.masks.sum()
    assert (strong.visible <= strong.masks).all() and strong.visible.sum() > 0.5 * strong.masks.sum()
