"""The shipped SAR checkpoints earn their place: each reconstructs held-out SAR better than a trivial predictor."""

from pathlib import Path

import pytest

import rfi_models
from rfi_models.data import synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS
from rfi_models.names import FAMILIES
from train.evaluate_sar import reconstruction_floor

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
FLOOR = 0.7  # held-out MSE at most this share of the per-patch, per-channel mean predictor's


@pytest.fixture(scope="module")
def held_out():
    """RFI-free synthetic test patches (the test seed: never trained or tuned on)."""
    return synthetic_sar(6, seed=SPLIT_SEEDS["test"], rfi_probability=0.0)[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_shipped_sar_model_beats_the_per_patch_mean_predictor(family, held_out):
    model, _ = rfi_models.load_checkpoint(CHECKPOINTS / f"{family}_sar.safetensors")
    floor = reconstruction_floor(model, held_out)
    assert floor["ratio"] <= FLOOR, (
        f"{family}: MSE {floor['mse']:.5f} vs mean predictor {floor['mean_predictor_mse']:.5f}"
    )
