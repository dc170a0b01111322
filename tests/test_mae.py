"""MAE mechanics: patches, masking, attention, positions."""

import numpy as np
import pytest
import torch
from conftest import sample_batch, tiny_model

import rfi_models
from rfi_models.models.layers import sincos_position_embedding


def tiny_mae(**overrides):
    config = dict(img_size=(12, 20), in_chans=2, mean=(0.5, 0.5), std=(0.2, 0.2), patch_size=(4, 5))
    return tiny_model("mae", **(config | overrides))


@pytest.mark.parametrize(
    "model", [tiny_mae(), rfi_models.create_model("mae", "sar"), tiny_mae(in_chans=1, mean=(0,), std=(1,))]
)
def test_patchify_round_trip_non_square(model):
    x = sample_batch(model)
    patches = model.patchify(x)
    (ph, pw), c = model.config.patch_size, model.config.in_chans
    assert patches.shape == (2, model.num_patches, ph * pw * c)
    assert torch.equal(model.unpatchify(patches), x)
    # patch k is the k-th block in row-major order
    gw = model.grid_size[1]
    k = gw + 1
    block = x[0, :, ph : 2 * ph, pw : 2 * pw].permute(1, 2, 0).reshape(-1)
    assert torch.equal(patches[0, k], block)


@pytest.mark.parametrize("ratio", [0.0, 0.25, 0.5, 0.75, 0.9, 0.95])
def test_mask_ratio_is_honoured(ratio):
    model = rfi_models.create_model("mae", "sar")
    out = model.reconstruct(sample_batch(model, n=1), mask_ratio=ratio, seed=0)
    hidden_patches = out.mask[0, ::20, ::20].sum().item()
    assert hidden_patches == model.num_patches - max(1, int(model.num_patches * (1 - ratio)))
    assert out.mask.float().mean().item() == pytest.approx(ratio, abs=1 / model.num_patches + 1e-6)
    assert torch.all(out.model_input[:, :, out.mask[0]] == 0)


def test_mask_is_reproducible_from_seed_and_from_noise():
    model = tiny_mae()
    x = sample_batch(model)
    a = model.reconstruct(x, mask_ratio=0.5, seed=7)
    b = model.reconstruct(x, mask_ratio=0.5, seed=7)
    c = model.reconstruct(x, mask_ratio=0.5, seed=8)
    d = model.reconstruct(x, mask_ratio=0.5, noise=model.mask_noise(2, seed=7))
    assert torch.equal(a.mask, b.mask) and torch.equal(a.image, b.image)
    assert not torch.equal(a.mask, c.mask)
    assert torch.equal(a.mask, d.mask)


@pytest.mark.parametrize("ratio", [-0.1, 0.96, 1.0])
def test_mask_ratio_out_of_range_is_refused(ratio):
    model = tiny_mae()
    with pytest.raises(ValueError, match=r"mask_ratio must be between 0\.0 and 0\.95"):
        model.reconstruct(sample_batch(model), mask_ratio=ratio)


def test_attention_weights_rows_sum_to_one_and_match_the_fused_path():
    model = tiny_mae()
    imgs = model.normalize(sample_batch(model))
    noise = model.mask_noise(2, seed=0)
    explicit = model.forward_encoder(imgs, 0.5, noise, return_attention=True)
    fused = model.forward_encoder(imgs, 0.5, noise)
    keep = 1 + max(1, int(model.num_patches * 0.5))
    assert len(explicit.attentions) == model.config.depth and fused.attentions == []
    for weights in explicit.attentions:
        assert weights.shape == (2, model.config.num_heads, keep, keep)
        assert torch.allclose(weights.sum(dim=-1), torch.ones(2, model.config.num_heads, keep), atol=1e-5)
    assert torch.allclose(explicit.latent, fused.latent, atol=1e-5)


def test_encode_is_the_cls_token_without_masking():
    model = tiny_mae()
    x = sample_batch(model)
    latent = model.encode(x)
    shuffled = model.forward_encoder(model.normalize(x), 0.0, model.mask_noise(2, seed=3)).latent[:, 0]
    assert latent.shape == (2, 16)
    assert torch.allclose(latent, shuffled, atol=1e-5)  # token order does not change the CLS output


def test_sincos_matches_the_reference_formula():
    """facebookresearch/mae get_2d_sincos_pos_embed, written out in numpy, for a square grid."""
    dim, size = 16, 5

    def one_d(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=np.float64) / (d / 2.0))
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    grid = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32))  # w goes first
    grid = np.stack(grid, axis=0).reshape([2, 1, size, size])
    reference = np.concatenate([one_d(dim // 2, grid[0]), one_d(dim // 2, grid[1])], axis=1)
    ours = sincos_position_embedding(dim, size, size)[1:].numpy()
    # The reference encodes the column in the first half; ours encodes the row first: same information.
    swapped = np.concatenate([reference[:, dim // 2 :], reference[:, : dim // 2]], axis=1)
    assert np.allclose(ours, swapped, atol=1e-6)


def test_loss_counts_hidden_patches_only():
    model = tiny_mae()
    x = sample_batch(model)
    noise = model.mask_noise(2, seed=0)
    loss, pred, mask = model(x, 0.5, noise)
    target = model.patchify(model.normalize(x))
    per_patch = ((pred - target) ** 2).mean(-1)
    assert torch.isclose(loss, (per_patch * mask).sum() / mask.sum())
    norm_pix = tiny_mae(norm_pix_loss=True)
    norm_pix.load_state_dict(model.state_dict())
    assert not torch.isclose(norm_pix(x, 0.5, noise)[0], loss)


def test_training_mask_ratio_is_drawn_per_batch_inside_the_range_or_fixed():
    ranged = tiny_mae(train_mask_ratio_range=(0.2, 0.8))
    generator = torch.Generator().manual_seed(0)
    ratios = [ranged.training_mask_ratio(generator) for _ in range(200)]
    assert 0.2 <= min(ratios) < 0.3 and 0.7 < max(ratios) <= 0.8
    fixed = tiny_mae(train_mask_ratio_range=None, train_mask_ratio=0.6)
    assert {fixed.training_mask_ratio(generator) for _ in range(5)} == {0.6}
    with pytest.raises(ValueError, match="low <= high"):
        tiny_mae(train_mask_ratio_range=(0.8, 0.2))
    with pytest.raises(ValueError, match="mask_ratio"):
        tiny_mae(train_mask_ratio_range=(0.1, 0.99))
