"""The shipped MNIST checkpoints keep the promises of the fair comparison (on official test digits)."""

import itertools
from pathlib import Path

import numpy as np
import pytest

import rfi_models
from rfi_models.view.gallery import mask_ratio_note
from train.evaluate.mnist_study import MAE_RATIOS, cae_border, mae_at, mean_quality, official_test_digits, plain

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
DIGITS = 512


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return official_test_digits(DIGITS)[0]


def shipped(stem: str):
    return rfi_models.load_checkpoint(CHECKPOINTS / f"{stem}.safetensors")[0]


def test_the_mae_is_in_distribution_at_every_ratio_hidden_quality_never_improves_with_more_hiding(digits):
    model = shipped("mae_mnist")
    assert model.config.train_mask_ratio_range is not None
    hidden = [mean_quality(digits, *mae_at(model, digits, ratio)[::2])["psnr_hidden"] for ratio in MAE_RATIOS]
    assert all(later <= earlier for earlier, later in itertools.pairwise(hidden)), hidden


def test_the_mae_composite_at_three_quarters_hidden_reaches_the_target(digits):
    # The target; the measured level on 2000 digits is in RESULTS.md
    raw, _, masks = mae_at(shipped("mae_mnist"), digits, 0.75)
    assert mean_quality(digits, raw, masks)["psnr"] >= 17.5


def test_the_seed_report_setting_is_kept_as_a_second_mae():
    model = shipped("mae_fixed_mnist")
    assert model.config.train_mask_ratio_range is None and model.config.train_mask_ratio == 0.75


def test_the_cae_border_is_trained(digits):
    model = shipped("cae_mnist")
    outputs = plain(model, digits)
    assert model.config.ssim_padding
    assert mean_quality(digits, outputs)["psnr"] >= 22.0
    border = cae_border(digits, outputs)
    # the outer ring no longer holds most of the error: less than its share of the area
    assert border["border_error_share"] < border["border_area_share"]


def test_the_sidebar_says_when_a_ratio_is_outside_what_the_mae_learned():
    assert mask_ratio_note(CHECKPOINTS / "mae_mnist.safetensors", 0.5) is None
    assert "0.75 only" in mask_ratio_note(CHECKPOINTS / "mae_fixed_mnist.safetensors", 0.5)
    assert "0.10-0.90" in mask_ratio_note(CHECKPOINTS / "mae_mnist.safetensors", 0.95)
