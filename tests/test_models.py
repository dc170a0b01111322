"""Every registered family, with both presets: the shared interface holds."""

import pytest
import torch
from conftest import ALL_MODELS, sample_batch

import rfi_models
from rfi_models.models import Autoencoder


def test_registry_lists_the_three_families_with_both_presets():
    assert rfi_models.list_models() == ["cae", "dae", "mae"]
    for name in rfi_models.list_models():
        assert rfi_models.list_presets(name) == ["mnist", "sar"]


@pytest.mark.parametrize(("name", "preset"), ALL_MODELS)
def test_shapes_and_values(name, preset):
    model = rfi_models.create_model(name, preset).eval()
    assert isinstance(model, Autoencoder)
    x = sample_batch(model)
    with torch.no_grad():
        latent = model.encode(x)
        out = model.reconstruct(x, mask_ratio=0.5, noise_factor=0.5, seed=1)
    assert latent.shape == (2, model.latent_dim)
    assert out.image.shape == x.shape and out.model_input.shape == x.shape
    assert torch.isfinite(latent).all() and torch.isfinite(out.image).all()
    assert out.image.min() >= 0 and out.image.max() <= 1
    if name == "mae":
        assert out.mask.shape == (2, *x.shape[-2:]) and out.mask.dtype == torch.bool
    else:
        assert out.mask is None


@pytest.mark.parametrize(("name", "preset"), ALL_MODELS)
def test_every_parameter_gets_a_gradient(name, preset):
    model = rfi_models.create_model(name, preset).train()
    loss = model.training_loss(sample_batch(model), generator=torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    zero = [n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() == 0]
    assert not missing and not zero


@pytest.mark.parametrize(("name", "preset"), ALL_MODELS)
def test_wrong_input_shape_is_refused_with_the_expected_shape(name, preset):
    model = rfi_models.create_model(name, preset)
    c = model.config
    with pytest.raises(ValueError, match=r"expects images of shape"):
        model.encode(torch.rand(1, c.in_chans, c.img_size[0] + 4, c.img_size[1]))


def test_overrides_and_bad_names():
    mae = rfi_models.create_model("mae", "sar", depth=2, embed_dim=64)
    assert len(mae.blocks) == 2 and mae.config.embed_dim == 64
    with pytest.raises(ValueError, match="unknown config fields"):
        rfi_models.create_model("mae", "mnist", depht=2)
    with pytest.raises(KeyError, match="available: cae, dae, mae"):
        rfi_models.create_model("vae")
    with pytest.raises(KeyError, match="unknown preset"):
        rfi_models.create_model("cae", "cifar")


def test_cae_output_is_not_a_softmax_over_channels():
    """The original study's softmax forced VV + VH = 1; our outputs are independent per channel."""
    model = rfi_models.create_model("cae", "sar", channels=(4, 4, 4, 4, 4), latent_dim=8).eval()
    with torch.no_grad():
        out = model.reconstruct(sample_batch(model, n=1)).image
    assert not torch.allclose(out.sum(dim=1), torch.ones_like(out[:, 0]), atol=1e-3)


def test_dae_is_the_udacity_conv_denoiser():
    model = rfi_models.create_model("dae", "mnist")
    assert sum(p.numel() for p in model.parameters()) == 9585
    assert model.latent_dim == 72 and model.config.noise_factor == 0.5
    x = sample_batch(model)
    noisy = model.reconstruct(x, noise_factor=0.5, seed=3).model_input
    assert noisy.min() >= 0 and noisy.max() <= 1 and not torch.equal(noisy, x)
    assert torch.equal(noisy, model.reconstruct(x, noise_factor=0.5, seed=3).model_input)


def test_presets_fit_a_cpu_budget():
    """Each shipped checkpoint must stay well under 20 MB (float32)."""
    for name, preset in ALL_MODELS:
        params = sum(p.numel() for p in rfi_models.create_model(name, preset).parameters())
        assert params * 4 < 10e6, (name, preset, params)
