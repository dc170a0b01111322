"""The shipped SAR checkpoints earn their place: each reconstructs held-out SAR better than a trivial predictor."""

from pathlib import Path

import pytest

import rfi_models
from rfi_models.data import synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS
from rfi_models.names import FAMILIES
from train.evaluate.sar import reconstruction_floor

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
SHIPPED_SAR = sorted(CHECKPOINTS.glob("*_sar.safetensors"))
FLOOR = 0.7  # held-out MSE at most this share of the per-patch, per-channel mean predictor's


@pytest.fixture(scope="module")
def held_out():
    """RFI-free synthetic test patches (the test seed: never trained or tuned on)."""
    return synthetic_sar(6, seed=SPLIT_SEEDS["test"], rfi_probability=0.0)[0]


def test_every_shipped_sar_checkpoint_is_a_known_family():
    assert SHIPPED_SAR and {rfi_models.load_checkpoint(p)[1]["architecture"] for p in SHIPPED_SAR} <= set(FAMILIES)
    assert {f"{family}_sar" for family in FAMILIES} <= {p.stem for p in SHIPPED_SAR}  # the study's three


# Shipped SAR models that measured above the floor (checkpoints/README.md): expected to fail until one is retrained
# to pass, and then the strict mark fails too, so that this list shrinks.
BELOW_FLOOR = {
    "mae_sar": "0.61 x the mean predictor's MSE on hidden patches over the evaluation's 32 synthetic test patches "
    "but 0.80 x over these 6 and 0.83 x semi-synthetic: not a robust pass; ahead of the no-model neighbour "
    "interpolation (0.74 / 0.91); its last fine-tune was still improving",
    "mae_rows_sar": "0.65 x over the evaluation's 32 synthetic test patches but 0.74 x over these 6 and 0.75 x "
    "semi-synthetic (its own row masks): not a robust pass; its fixed 10-epoch fine-tune had flattened",
    "cae_sar": "0.64 x over the evaluation's 32 synthetic test patches but 0.86 x over these 6 and 0.91 x "
    "semi-synthetic; its last fine-tune was still improving",
    "cae_rows_sar": "0.83 x on its bands over these 6 (0.70 x over 16 test patches, covering bands): no better than "
    "band interpolation with no model, 0.86 x over these 6 and 0.70 x over the 16",
    "dae_rows_sar": "0.76 x on its bands over these 6, against 0.86 x for band interpolation with no model; 0.65 x "
    "over 16 test patches (covering bands, interpolation 0.70 x) but 0.75 x semi-synthetic",
}


def floor_case(path: Path):
    reason = BELOW_FLOOR.get(path.stem)
    return pytest.param(path, marks=pytest.mark.xfail(strict=True, reason=reason) if reason else ())


@pytest.mark.parametrize("path", [floor_case(p) for p in SHIPPED_SAR], ids=[p.stem for p in SHIPPED_SAR])
def test_shipped_sar_model_beats_the_per_patch_mean_predictor(path, held_out):
    model, _ = rfi_models.load_checkpoint(path)
    family = path.stem
    floor = reconstruction_floor(model, held_out)
    assert floor["ratio"] <= FLOOR, (
        f"{family}: MSE {floor['mse']:.5f} vs mean predictor {floor['mean_predictor_mse']:.5f}"
    )
