"""Issue 22: masks that follow RFI stripes (row-masked MAE, band inpainters, band control) and the weight decay
groups of every family."""

import numpy as np
import pytest
import torch

import rfi_models
from rfi_models.detection.anomaly import band_residuals, covering_mask_noise, covering_masks, residuals, score_residual
from rfi_models.detection.controls import band_interpolation, control_residual
from rfi_models.models.bands import (
    band_loss,
    covering_band_rows,
    interpolate_rows,
    random_band_rows,
    training_band_rows,
)
from rfi_models.names import FAMILIES
from train.engine import recipe
from train.optim import NO_DECAY_NAMES, build_optimizer, param_groups_weight_decay


def hidden_rows_of(model, noise: torch.Tensor, ratio: float, scheme: str = "rows") -> torch.Tensor:
    """[K, grid rows, grid cols] bool: the patches each mask of noise [K, L] hides."""
    x = torch.rand(1, model.config.in_chans, *model.config.img_size)
    with torch.no_grad():
        masks = [model.reconstruct(x, mask_ratio=ratio, noise=n[None], mask_scheme=scheme).mask[0] for n in noise]
    (ph, pw) = model.config.patch_size
    return torch.stack(masks)[:, ::ph, ::pw]


@pytest.mark.parametrize("ratio", [0.34, 0.5, 0.6, 0.75])
def test_covering_row_masks_hide_whole_rows_and_every_row_as_stated(ratio):
    """K covering row masks: each hides round(ratio * rows) whole rows of patches, and the K * hidden hides spread
    evenly: every row is hidden by floor(K * hidden / rows) or ceil(K * hidden / rows) masks, at least once."""
    model = rfi_models.create_model("mae", "sar", mask_scheme="rows")
    rows = model.grid_size[0]
    effective = model.effective_mask_ratio(ratio)
    hidden_per_mask = round(ratio * rows)
    assert effective == hidden_per_mask / rows
    k = covering_masks(effective)
    for seed in range(5):
        grid = hidden_rows_of(model, covering_mask_noise(model, k, seed=seed), ratio)
        assert (grid.all(dim=2) | ~grid.any(dim=2)).all(), "a mask hid part of a row"
        assert (grid[:, :, 0].sum(dim=1) == hidden_per_mask).all()
        per_row = grid[:, :, 0].sum(dim=0)  # masks hiding each row
        low, high = (k * hidden_per_mask) // rows, -(-k * hidden_per_mask // rows)
        assert per_row.min() >= max(low, 1) and per_row.max() <= high
        assert int(per_row.sum()) == k * hidden_per_mask


def test_training_row_masks_hide_whole_rows_at_the_trained_ratio():
    model = rfi_models.create_model("mae", "sar", mask_scheme="rows", train_mask_ratio=0.6)
    noise = model.mask_noise(8, generator=torch.Generator().manual_seed(0))
    grid = hidden_rows_of(model, noise, 0.6)
    assert (grid.all(dim=2) | ~grid.any(dim=2)).all()
    assert (grid[:, :, 0].sum(dim=1) == 10).all()  # round(0.6 * 17) of the 17 rows of 20 x 20 patches
    assert len({tuple(g[:, 0].tolist()) for g in grid}) > 1  # rows drawn per image


def test_row_masked_residual_counts_only_hidden_rows():
    model = rfi_models.create_model("mae", "mnist", mask_scheme="rows").eval()
    x = torch.rand(2, 1, 28, 28)
    batched = residuals(model, x, mask_ratio=0.5, seed=1)
    total, counts = torch.zeros_like(x), torch.zeros_like(x)
    with torch.no_grad():
        for n in covering_mask_noise(model, covering_masks(model.effective_mask_ratio(0.5)), seed=1):
            out = model.reconstruct(x, mask_ratio=0.5, noise=n.expand(2, -1))
            hidden = out.mask[:, None].float()
            total += (x - out.image) * hidden
            counts += hidden
    assert counts.min() >= 1
    assert np.allclose(batched, (total / counts).numpy(), atol=1e-5)


def test_a_random_mask_mae_can_be_shown_and_scored_with_row_masks():
    model = rfi_models.create_model("mae", "mnist").eval()
    x = torch.rand(1, 1, 28, 28)
    mask = model.reconstruct(x, mask_ratio=0.5, seed=0, mask_scheme="rows").mask[0]
    assert (mask.all(dim=1) | ~mask.any(dim=1)).all()
    assert residuals(model, x, mask_ratio=0.5, mask_scheme="rows").shape == tuple(x.shape)
    with pytest.raises(ValueError, match="mask_scheme"):
        rfi_models.create_model("mae", "mnist", mask_scheme="columns")


def stripe_image() -> tuple[np.ndarray, slice]:
    """A speckle-free background ramp with one VH stripe of 8 rows inside the band of rows 40-59."""
    rows = np.linspace(0.3, 0.4, 340, dtype=np.float32)[:, None] * np.ones((1, 500), np.float32)
    image = np.stack([rows, rows * 0.7])[None].copy()
    stripe = slice(46, 54)
    image[0, 1, stripe, 50:450] += 0.3
    return image, stripe


def test_band_control_flags_the_stripe_not_the_rows_around_it():
    image, stripe = stripe_image()
    residual = control_residual("control-band", image)
    assert np.abs(residual[0, :, : stripe.start]).max() < 0.01  # the top band extrapolates the ramp: 0.006
    assert np.abs(residual[0, :, stripe.stop :]).max() < 0.01
    assert residual[0, 1, stripe, 50:450].min() > 0.25
    for method in ("error", "rfi"):
        scores = score_residual(image, residual, method)[0]
        outside = np.r_[0 : stripe.start - 1, stripe.stop + 1 : 340]
        assert scores[stripe, 100:400].min() > 10 * scores[outside, 100:400].max() + 1e-6, method


def test_band_interpolation_is_linear_between_the_rows_around_each_band():
    image = np.random.default_rng(0).random((1, 2, 45, 7)).astype(np.float32)
    out = band_interpolation(image, band_rows=20)
    above, below = image[:, :, 19], image[:, :, 40]
    assert np.allclose(out[:, :, 20], above + (below - above) / 21, atol=1e-6)
    assert np.allclose(out[:, :, 0], image[:, :, 20])  # the top band: only the row below it exists
    assert np.allclose(out[:, :, 44], image[:, :, 39])  # the last, short band: only the row above


def test_covering_bands_hide_every_row_exactly_once():
    hidden = covering_band_rows(340, 20, 2)
    assert (hidden.sum(dim=0) == 1).all()
    assert hidden[0, :20].all() and not hidden[0, 20:40].any()
    bands = random_band_rows(4, 340, 20, 0.5, torch.Generator().manual_seed(0))
    assert (bands.view(4, 17, 20).float().mean(dim=2) % 1 == 0).all() and (
        bands.view(4, 17, 20)[:, :, 0].sum(1) == 8
    ).all()


def test_an_inpainter_sees_its_hidden_bands_filled_as_the_band_control_predicts_them():
    """The "interpolate" fill of covering bands is the no-model control's prediction, row for row; rows with no
    visible row on one side take the other side's, and an image with every row hidden gets zeros."""
    x = torch.rand(3, 2, 85, 9)
    filled = torch.zeros_like(x)
    for hidden in covering_band_rows(85, 20, 2):
        filled[:, :, hidden] = interpolate_rows(x, hidden.expand(3, -1))[:, :, hidden]
    assert np.allclose(filled.numpy(), band_interpolation(x.numpy(), band_rows=20), atol=1e-6)
    gaps = torch.zeros(3, 85, dtype=torch.bool)
    gaps[0, 10:50] = True  # two adjacent bands: one 40-row gap, interpolated across
    gaps[1, :30] = True  # the top rows: only the row below exists
    gaps[2] = True
    out = interpolate_rows(x, gaps)
    assert torch.allclose(out[0, :, 29], x[0, :, 9] + (x[0, :, 50] - x[0, :, 9]) * 20 / 41, atol=1e-6)
    assert torch.equal(out[1, :, :30], x[1, :, 30:31].expand(-1, 30, -1)) and not out[2].any()
    visible = ~gaps[:, None, :, None].expand_as(x)
    assert torch.equal(out[visible], x[visible])  # visible rows unchanged


def test_inpainters_train_on_the_covering_bands_they_are_scored_with():
    config = rfi_models.create_model("dae", "sar", inpaint=True).config
    drawn = training_band_rows(config, torch.zeros(16, 2, 340, 500), torch.Generator().manual_seed(0))
    masks = covering_band_rows(340, 20)
    assert all(any(torch.equal(rows, mask) for mask in masks) for rows in drawn)
    assert len({tuple(rows.tolist()) for rows in drawn}) == len(masks)  # both covering masks drawn
    config.train_bands = "random"
    drawn = training_band_rows(config, torch.zeros(16, 2, 340, 500), torch.Generator().manual_seed(0))
    assert not all(any(torch.equal(rows, mask) for mask in masks) for rows in drawn)


@pytest.mark.parametrize("family", ["cae", "dae"])
def test_an_untrained_inpainter_is_the_band_control_and_a_zero_fill_one_is_not(family):
    """Fill "interpolate": the last layer starts at zero and corrects the interpolation, so before training the
    inpainter's covering residual is the no-model control's (up to the logit's clamp); fill "zero" starts elsewhere."""
    x = torch.from_numpy(np.random.default_rng(1).uniform(0.2, 0.8, (2, 2, 340, 500)).astype(np.float32))
    control = control_residual("control-band", x.numpy())
    untrained = rfi_models.create_model(family, "sar", inpaint=True).eval()
    assert np.abs(residuals(untrained, x) - control).max() < 1e-3
    zero_fill = rfi_models.create_model(family, "sar", inpaint=True, band_fill="zero").eval()
    assert np.abs(residuals(zero_fill, x) - control).max() > 0.1
    with pytest.raises(ValueError, match="band_fill"):
        rfi_models.create_model(family, "sar", inpaint=True, band_fill="mean")


@pytest.mark.parametrize("family", ["cae", "dae"])
def test_band_inpainter_sees_no_hidden_row_and_is_scored_on_covering_bands(family):
    model = rfi_models.create_model(family, "sar", inpaint=True).eval()
    x = torch.rand(1, 2, 340, 500)
    hidden = covering_band_rows(340, 20, 2)[:1]
    changed = x.clone()
    changed[:, :, hidden[0]] = torch.rand_like(changed[:, :, hidden[0]])
    with torch.no_grad():
        assert torch.equal(
            model.reconstruct(x, hidden_rows=hidden).image, model.reconstruct(changed, hidden_rows=hidden).image
        )
    out = model.reconstruct(x, hidden_rows=hidden)
    assert torch.equal(out.mask[0, :, 0], hidden[0]) and (out.model_input[:, :, hidden[0]] == 0).all()
    assert np.allclose(residuals(model, x), band_residuals(model, x)) and residuals(model, x).shape == (1, 2, 340, 500)
    assert float(band_loss(x, x + hidden[:, None, :, None] * 0 + (~hidden)[:, None, :, None] * 1.0, hidden)) == 0.0


def model_variants():
    for family in FAMILIES:
        for preset in ("mnist", "sar"):
            yield family, preset, {}
    yield "mae", "sar", {"mask_scheme": "rows"}
    yield "cae", "sar", {"inpaint": True}
    yield "dae", "sar", {"inpaint": True}


@pytest.mark.parametrize(("family", "preset", "overrides"), list(model_variants()))
def test_weight_decay_reaches_weight_matrices_only(family, preset, overrides):
    model = rfi_models.create_model(family, preset, **overrides)
    decayed, exempt = param_groups_weight_decay(model, 0.05)
    names = {id(p): name for name, p in model.named_parameters()}
    decayed_names = [names[id(p)] for p in decayed["params"]]
    assert decayed["weight_decay"] == 0.05 and exempt["weight_decay"] == 0.0
    assert len(decayed["params"]) + len(exempt["params"]) == len(names)
    for name in decayed_names:
        leaf = name.split(".")[-1]
        assert leaf != "bias" and leaf not in NO_DECAY_NAMES and "norm" not in name, name
    modules = dict(model.named_modules())
    norms = (torch.nn.LayerNorm, torch.nn.BatchNorm2d)
    assert not any(isinstance(modules[n.rsplit(".", 1)[0]], norms) for n in decayed_names if "." in n)
    assert all(p.ndim >= 2 for p in decayed["params"]) and decayed_names
    optimizer = build_optimizer(model, recipe(family, preset if preset == "sar" else "mnist"))
    assert [g["weight_decay"] for g in optimizer.param_groups] == [optimizer.param_groups[0]["weight_decay"], 0.0]
