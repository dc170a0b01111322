"""No-model controls, the learned secondary classifier, the detector registry and the reconstruction floor."""

import json

import numpy as np
import pytest

import rfi_models
from rfi_models.artifacts.checkpoint import CheckpointError
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.data import synthetic_sar
from rfi_models.detection.anomaly import score_residual
from rfi_models.detection.controls import CONTROLS, control_reconstruction, control_residual
from rfi_models.detection.detector import CALIBRATION_FILE, Detector, default_detector
from rfi_models.detection.secondary import FEATURES, SecondaryClassifier, pixel_features, train_classifier
from train.evaluate.sar import (
    MAX_FLAGGED,
    capped_threshold,
    classifier_for,
    flagged_share,
    neighbour_patch_floor,
    reconstruction_floor,
)


@pytest.fixture(scope="module")
def patches():
    images, truth = synthetic_sar(6, 340, 500, seed=11, rfi_probability=1.0, rfi_strength_db=(8.0, 15.0))
    keep = np.flatnonzero(truth.sum(axis=(1, 2)) > 500)[:2]  # two patches with RFI in sight
    images, truth = images[keep], truth[keep]
    images[1, :, :, :50] = 0  # no-data columns
    truth[1, :, :50] = False
    return images, truth


def test_control_input_residual_is_the_input(patches):
    images, _ = patches
    assert np.array_equal(control_residual("control-input", images), images)


def test_control_median_is_the_per_patch_per_channel_median_of_valid_pixels(patches):
    images, _ = patches
    reconstruction = control_reconstruction("control-median", images)
    for i in range(2):
        valid = np.any(images[i] != 0, axis=0)
        for c in range(2):
            assert np.all(reconstruction[i, c] == np.median(images[i, c][valid]))
    assert not np.all(np.any(images[1] != 0, axis=0))
    assert np.allclose(control_residual("control-median", images), images - reconstruction)
    with pytest.raises(ValueError, match="control must be one of"):
        control_reconstruction("mean", images)


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method", ["error", "ssim", "rfi"])
def test_controls_are_scored_through_the_models_path(patches, control, method):
    """A control's detector gives exactly score_residual of its residual: the path every model takes."""
    images, _ = patches
    detector = Detector.create(control, method, threshold=0.5)
    expected = score_residual(images, control_residual(control, images), method)
    assert np.array_equal(detector.score_batch(images), expected)
    assert np.all(expected[1][:, :50] == 0)


def test_classifier_training_is_reproducible_from_a_seed(patches):
    images, truth = patches
    sets = {"synthetic": (images, truth)}
    residual_fn = lambda tiles: control_residual("control-median", tiles)  # noqa: E731
    first = classifier_for(residual_fn, sets, seed=3, per_class=2000)
    again = classifier_for(residual_fn, sets, seed=3, per_class=2000)
    other = classifier_for(residual_fn, sets, seed=4, per_class=2000)
    for a, b in zip(first.weights + first.biases, again.weights + again.biases, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(first.weights[0], other.weights[0])
    restored = SecondaryClassifier.from_dict(json.loads(json.dumps(first.to_dict())))
    residual = residual_fn(images)
    scores = restored.scores(images, residual)
    assert np.array_equal(scores, first.scores(images, residual))
    assert scores[truth].mean() > scores[~truth & np.any(images != 0, axis=1)].mean()
    assert np.all(scores[1][:, :50] == 0)


def test_classifier_learns_a_separable_rule():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(4000, len(FEATURES))).astype(np.float32)
    labels = (features[:, 1] + features[:, 3] > 0).astype(np.float32)
    classifier = train_classifier(features, labels, seed=0, steps=200)
    accuracy = ((classifier.probability_of_features(features) > 0.5) == labels).mean()
    assert accuracy > 0.95


def test_pixel_features_have_the_declared_order(patches):
    images, _ = patches
    residual = control_residual("control-median", images)
    features = pixel_features(images, residual)
    assert features.shape == (2, len(FEATURES), 340, 500)
    assert np.array_equal(features[:, FEATURES.index("residual_vh")], residual[:, 1])
    assert np.array_equal(features[:, FEATURES.index("input_vv")], images[:, 0])


def test_learned_detector_reads_its_classifier_and_threshold_from_the_calibration_file(tmp_path, patches):
    images, truth = patches
    model = rfi_models.create_model("dae", "sar")
    path = rfi_models.save_checkpoint(model, tmp_path / "dae_sar.safetensors", domain="sar")
    classifier = classifier_for(
        lambda t: control_residual("control-input", t), {"s": (images, truth)}, seed=0, per_class=500
    )
    sha = file_sha256(path)
    entries = {
        "dae_sar/learned": {"threshold": 0.7, "classifier": classifier.to_dict(), "checkpoint_sha256": sha},
        "control-input/learned": {"threshold": 0.6, "classifier": classifier.to_dict()},
        "baseline": {"threshold": 4.5},
    }
    calibration = {"default": {"source": "control-input", "method": "learned"}, "detectors": entries}
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(calibration))
    assert Detector.create(str(path), "learned").threshold == 0.7
    control = Detector.create("control-input", "learned", folder=tmp_path)
    assert control.threshold == 0.6
    assert np.array_equal(control.score_batch(images), classifier.scores(images, images))
    assert Detector.create("baseline", folder=tmp_path).threshold == 4.5
    assert default_detector(tmp_path) == ("control-input", "learned")
    with pytest.raises(CheckpointError, match="no learned classifier"):
        Detector.create("control-median", "learned", folder=tmp_path)
    rfi_models.save_checkpoint(model, path, domain="sar", training={"epochs": 2})  # another file: entry ignored
    with pytest.raises(CheckpointError, match="no learned classifier"):
        Detector.create(str(path), "learned")


def test_reconstruction_floor_of_a_perfect_and_a_mean_model():
    images, _ = synthetic_sar(2, 340, 500, seed=5, rfi_probability=0.0)

    class Echo:
        config = rfi_models.create_model("cae", "sar").config

        def reconstruct(self, x, **_):
            return rfi_models.models.Reconstruction(image=x, model_input=x)

    assert reconstruction_floor(Echo(), images)["ratio"] == 0
    model = rfi_models.create_model("cae", "sar").eval()
    floor = reconstruction_floor(model, images)
    assert floor["mean_predictor_mse"] > 0 and floor["ratio"] > 0


def test_the_neighbour_patch_control_interpolates_smooth_scenes_and_not_noise():
    rows, cols = np.mgrid[0:340, 0:500]
    smooth = 0.5 + 0.2 * np.sin(rows / 60) * np.cos(cols / 80)  # structure much larger than a 20 x 20 patch
    noise = np.random.default_rng(0).uniform(0.2, 0.8, (2, 340, 500))
    assert neighbour_patch_floor(np.stack([smooth, smooth])[None], (20, 20), 0.6)["ratio"] < 0.2
    assert neighbour_patch_floor(noise[None], (20, 20), 0.6)["ratio"] > 0.95  # nothing to interpolate


def test_thresholds_are_capped_by_the_validation_scene_false_positives_only():
    rng = np.random.default_rng(0)
    clean = {"BB15": rng.random(10_000), "8255": rng.random(10_000) + 5}  # validation scene, test scene
    raised = capped_threshold(0.5, clean)
    assert 0.98 < raised <= 1 and flagged_share(clean, raised)["per_image"]["BB15"] <= MAX_FLAGGED
    assert flagged_share(clean, raised)["per_image"]["8255"] == 1  # a test scene never moves the threshold
    assert capped_threshold(0.999, clean) == 0.999  # already strict enough: kept
    assert capped_threshold(0.5, {"8255": clean["8255"]}) == 0.5  # no validation scene: no cap
