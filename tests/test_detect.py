"""The detect CLI: npy and TIFF inputs, any size, a checkpoint or the baseline, exit code 2 on bad input."""

import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

import rfi_models
from rfi_models import detect
from rfi_models.data import synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS
from rfi_models.detect import main, write_mask
from rfi_models.detection.detector import CALIBRATION_PATCHES, Detector
from rfi_models.metrics import valid_pixels


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    images, truth = synthetic_sar(1, 700, 1100, seed=8, rfi_probability=1.0, rfi_strength_db=(10.0, 20.0))
    pixels = np.rint(images[0] * 255).astype(np.uint8)
    np.save(folder / "scene.npy", pixels.transpose(1, 2, 0))  # H x W x 2, memory-mapped by the CLI
    tifffile.imwrite(folder / "scene.tif", pixels)
    return folder, pixels, truth[0]


@pytest.mark.parametrize(("name", "mask_name"), [("scene.npy", "mask.png"), ("scene.tif", "mask.npy")])
def test_baseline_on_npy_and_tif(scene, name, mask_name, capsys):
    folder, _pixels, truth = scene
    out, scores_path = folder / mask_name, folder / f"scores_{name}.npy"
    assert main([str(folder / name), "--checkpoint", "baseline", "--out", str(out), "--scores", str(scores_path)]) == 0
    scores = np.load(scores_path)
    assert scores.shape == (700, 1100) and scores.dtype == np.float32
    mask = np.load(out) if out.suffix == ".npy" else np.asarray(Image.open(out)) > 0
    assert mask.shape == (700, 1100)
    assert scores[truth].mean() > 3 * scores[~truth].mean()
    assert "baseline: 700 x 1100 px" in capsys.readouterr().out


def test_checkpoint_with_explicit_threshold_and_tif_mask(scene, tmp_path):
    folder, _pixels, _ = scene
    model = rfi_models.create_model("mae", "sar", depth=1, embed_dim=32, decoder_depth=1, decoder_embed_dim=32)
    ckpt = rfi_models.save_checkpoint(model, tmp_path / "mae_sar.safetensors", domain="sar")
    out = tmp_path / "mask.tif"
    code = main([str(folder / "scene.npy"), "--checkpoint", str(ckpt), "--out", str(out), "--scores",
                 str(tmp_path / "s.npy"), "--threshold", "0.01"])  # fmt: skip
    assert code == 0
    assert tifffile.imread(out).shape == (700, 1100)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"just text", "text file"), (np.zeros((50, 50, 3), np.uint8), "bands")],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    code = main(
        [str(path), "--checkpoint", "baseline", "--out", str(tmp_path / "m.png"), "--scores", str(tmp_path / "s.npy")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err and "Traceback" not in err


def test_mnist_checkpoint_is_refused(tmp_path, capsys, scene):
    folder, _, _ = scene
    ckpt = rfi_models.save_checkpoint(
        rfi_models.create_model("dae", "mnist"), tmp_path / "d.safetensors", domain="mnist"
    )
    code = main(
        [
            str(folder / "scene.npy"),
            "--checkpoint",
            str(ckpt),
            "--out",
            str(tmp_path / "m.png"),
            "--scores",
            str(tmp_path / "s.npy"),
        ]
    )
    assert code == 2 and "RFI detection needs a SAR model" in capsys.readouterr().err


def f1_at(scores: np.ndarray, truth: np.ndarray, threshold: float) -> float:
    predicted = scores >= threshold
    return 2 * float((predicted & truth).sum()) / float(predicted.sum() + truth.sum())


def check_best_f1_on_validation_patches(detector: Detector) -> None:
    """The detector's calibrated threshold gives the best F1 on the validation patches it is calibrated on: no
    threshold on a grid of score quantiles does better, and it beats flagging every pixel."""
    images, truth = synthetic_sar(CALIBRATION_PATCHES, *detector.tile, seed=SPLIT_SEEDS["val"], rfi_probability=0.5)
    with torch.no_grad():
        scores = np.concatenate([detector.score_batch(images[i : i + 4]) for i in range(0, len(images), 4)])
    valid = valid_pixels(images)
    scores, truth = scores[valid], truth[valid]
    best = f1_at(scores, truth, detector.threshold)
    assert scores.min() < detector.threshold <= scores.max()
    assert best >= max(f1_at(scores, truth, t) for t in np.quantile(scores, np.linspace(0.5, 0.999, 60))) - 1e-9
    assert best > f1_at(scores, truth, -np.inf) + 0.1  # flagging everything: 2p / (1 + p)


def test_the_calibrated_baseline_threshold_is_the_best_f1_one_on_validation_patches():
    check_best_f1_on_validation_patches(Detector.baseline())


def test_module_entry_point_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 20)
    command = [sys.executable, "-m", "rfi_models.detect", str(bad), "--checkpoint", "baseline"]
    command += ["--out", str(tmp_path / "m.png"), "--scores", str(tmp_path / "s.npy")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "error: the TIFF holds no image\n"


def test_without_a_recorded_threshold_a_detector_is_calibrated_on_validation_patches(tmp_path):
    model = rfi_models.create_model("dae", "sar")
    path = rfi_models.save_checkpoint(model, tmp_path / "dae_sar.safetensors", domain="sar", training={"epochs": 1})
    check_best_f1_on_validation_patches(Detector.from_checkpoint(path, "rfi"))


@pytest.mark.parametrize("control", ["control-input", "control-median", "control-band"])
def test_a_no_model_control_is_a_detector_choice(scene, tmp_path, control, capsys):
    folder, _pixels, _ = scene
    code = main([str(folder / "scene.npy"), "--checkpoint", control, "--method", "rfi", "--threshold", "0.02",
                 "--out", str(tmp_path / "m.npy"), "--scores", str(tmp_path / "s.npy")])  # fmt: skip
    assert code == 0
    assert f"{control} (rfi): 700 x 1100 px, threshold 0.02" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["mask.png", "mask.tif", "mask.npy"])
def test_masks_are_written_a_chunk_of_rows_at_a_time_with_the_same_pixels(tmp_path, monkeypatch, name):
    monkeypatch.setattr(detect, "ROWS_PER_CHUNK", 16)  # 50 rows: 3 whole chunks and a partial one
    scores = np.random.default_rng(0).random((50, 33)).astype(np.float32)
    path = tmp_path / name
    assert write_mask(scores, 0.7, path) == (scores >= 0.7).sum()
    readers = {".png": lambda p: np.asarray(Image.open(p)), ".tif": tifffile.imread, ".npy": np.load}
    mask = readers[path.suffix](path)
    assert mask.shape == (50, 33)
    assert np.array_equal(mask, (scores >= 0.7) * (1 if mask.dtype == bool else 255))


@pytest.mark.slow  # SIGKILL
def test_killed_detection_leaves_no_output_and_a_rerun_completes(tmp_path):
    images, _ = synthetic_sar(1, 2400, 2400, seed=5, rfi_probability=1.0)
    np.save(tmp_path / "scene.npy", np.rint(images[0] * 255).astype(np.uint8).transpose(1, 2, 0))

    def command(name):
        outputs = ["--out", str(tmp_path / f"{name}.tif"), "--scores", str(tmp_path / f"{name}.npy")]
        return [sys.executable, "-m", "rfi_models.detect", str(tmp_path / "scene.npy"), "--checkpoint", "baseline",
                "--threshold", "6", *outputs]  # fmt: skip

    assert subprocess.run(command("reference"), capture_output=True, timeout=300).returncode == 0
    run = subprocess.Popen(command("mask"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while run.poll() is None and not list(tmp_path.glob(".mask.partial-*")):
        time.sleep(0.01)
    run.kill()  # SIGKILL while the scores are being written
    assert run.wait(timeout=60) == -9
    assert not (tmp_path / "mask.tif").exists() and not (tmp_path / "mask.npy").exists()
    assert subprocess.run(command("mask"), capture_output=True, timeout=300).returncode == 0
    assert np.array_equal(np.load(tmp_path / "mask.npy"), np.load(tmp_path / "reference.npy"))
    assert np.array_equal(tifffile.imread(tmp_path / "mask.tif"), tifffile.imread(tmp_path / "reference.tif"))
