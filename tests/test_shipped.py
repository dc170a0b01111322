"""The shipped checkpoints: every one loads, and each reproduces its recorded reference metrics."""

import json
from pathlib import Path

import numpy as np
import pytest

import rfi_models
from rfi_models.artifacts.checkpoint import find_checkpoints
from rfi_models.data import synthetic_sar_patches
from rfi_models.detection.anomaly import anomaly_maps
from train.evaluate.run import reference_metrics

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
SHIPPED = sorted(CHECKPOINTS.glob("*.safetensors"))
RESULTS = CHECKPOINTS / "results.json"
REFERENCE = json.loads(RESULTS.read_text())["reference"] if RESULTS.exists() else {}


def test_every_shipped_checkpoint_is_readable():
    found, problems = find_checkpoints(CHECKPOINTS)
    assert not problems and len(found) == len(SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_checkpoint_loads_and_was_trained(path):
    _, info = rfi_models.load_checkpoint(path)
    assert path.stat().st_size < 20e6
    assert info["training"]["epochs_completed"] >= 1 and info["training"]["steps"] > 0
    # <family>_<domain>, or a named variant of it (mae_fixed_mnist: the seed report's fixed-ratio MAE)
    family, *_, domain = path.stem.split("_")
    assert (family, domain) == (info["architecture"], info["domain"])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_shipped_checkpoint_reproduces_its_recorded_metrics(name):
    recomputed = reference_metrics(CHECKPOINTS / f"{name}.safetensors")
    assert recomputed == pytest.approx(REFERENCE[name], rel=1e-3)


def test_every_shipped_checkpoint_has_recorded_metrics():
    assert sorted(REFERENCE) == [p.stem for p in SHIPPED]


def test_shipped_sar_mae_scores_rfi_above_clean_rows_ships_and_land():
    """Through the trained model: strong RFI outscores clean rows, and a bright ship or land block of the
    same VH brightness scores lower than the RFI stripe."""
    model, _ = rfi_models.load_checkpoint(CHECKPOINTS / "mae_sar.safetensors")
    patch = synthetic_sar_patches(1, seed=5, rfi_probability=0.0)[0]
    image = patch.image.astype(np.float32) / 255
    image[:, patch.nodata] = 0
    brighter = np.float32(0.25)  # about 10 dB on the quick-look scale
    rfi, ship, land = np.zeros((3, 340, 500), bool)
    rfi[120:130, 30:470] = True
    ship[200:208, 100:108] = True
    land[240:340, 250:500] = True
    for region, channels in ((rfi, [1]), (ship, [0, 1]), (land, [0, 1])):
        for c in channels:
            image[c][region & ~patch.nodata] = np.clip(image[c][region & ~patch.nodata] + brighter, 0, 1)
    score = anomaly_maps(model, image[None], "rfi")[0]
    clean = ~(rfi | ship | land) & ~patch.nodata
    assert score[rfi].mean() > 5 * score[clean].mean()
    assert score[ship].mean() < 0.5 * score[rfi].mean()
    assert score[land].mean() < 0.5 * score[rfi].mean()
