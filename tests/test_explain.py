"""Attention rollout, Captum attributions on all three families, and the numbers that compare them."""

import numpy as np
import pytest
import torch
from conftest import tiny_model

from rfi_models.analysis.attribution import ATTRIBUTION_METHODS, ScalarTarget, attribute, heatmap
from rfi_models.analysis.map_scores import deletion_area, deletion_curve, map_auc
from rfi_models.analysis.rollout import attention_rollout, cls_attention, rollout


def test_rollout_of_identity_attention_is_uniform():
    tokens = 10
    identity = [torch.eye(tokens).expand(1, 3, tokens, tokens) for _ in range(4)]
    cls_row = rollout(identity)[0, 0, 1:]
    assert torch.allclose(cls_row, cls_row[0].expand_as(cls_row))
    uniform = [torch.full((1, 3, tokens, tokens), 1 / tokens) for _ in range(4)]
    cls_row = rollout(uniform, fusion="max")[0, 0, 1:]
    assert torch.allclose(cls_row, cls_row[0].expand_as(cls_row))


def test_rollout_rows_sum_to_one_and_keep_cls():
    attentions = [torch.softmax(torch.randn(2, 4, 8, 8), dim=-1) for _ in range(3)]
    for fusion in ("mean", "max", "min"):
        result = rollout(attentions, fusion, discard_ratio=0.9)
        assert torch.allclose(result.sum(-1), torch.ones(2, 8), atol=1e-5)
    with pytest.raises(ValueError, match="head fusion"):
        rollout(attentions, "median")


@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.9])
def test_model_with_uniform_attention_gives_a_uniform_map_on_the_visible_grid(ratio):
    model = tiny_model("mae")
    with torch.no_grad():
        for block in model.blocks:
            block.attn.qkv.weight.zero_()
            block.attn.qkv.bias.zero_()  # q = k = 0: every token attends equally to all
    grid = attention_rollout(model, torch.rand(1, 1, 28, 28), mask_ratio=ratio, seed=3)
    assert grid.values.shape == (7, 7) and grid.hidden.shape == (7, 7)
    visible = grid.values[~grid.hidden]
    assert np.allclose(visible, 1.0) and np.isnan(grid.values[grid.hidden]).all()
    assert grid.hidden.sum() == 49 - max(1, int(49 * (1 - ratio)))
    assert grid.to_pixels((4, 4)).shape == (28, 28)


def test_raw_cls_attention_of_a_block_and_head():
    model = tiny_model("mae")
    grid = cls_attention(model, torch.rand(1, 1, 28, 28), block=1, head=0, mask_ratio=0.5)
    assert np.nansum(grid.values) < 1.0  # the CLS token also attends to itself
    with pytest.raises(ValueError, match="block must be"):
        cls_attention(model, torch.rand(1, 1, 28, 28), block=5, head=0)


@pytest.mark.parametrize("name", ["mae", "cae", "dae"])
@pytest.mark.parametrize("target", ["reconstruction_error", "region_error", "latent_norm"])
def test_targets_give_one_scalar_per_sample(name, target):
    region = np.zeros((28, 28), bool)
    region[10:20, 10:20] = True
    forward = ScalarTarget(tiny_model(name), target, mask_ratio=0.5, region=region)
    x = torch.rand(3, 1, 28, 28)
    assert forward(x, x[:1]).shape == (3,)


def model_fingerprint(model):
    hooks = sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in model.modules()
    )
    return (
        {k: v.clone() for k, v in model.state_dict().items()},
        model.training,
        [p.requires_grad for p in model.parameters()],
        hooks,
    )


@pytest.mark.parametrize("name", ["mae", "cae", "dae"])
@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_attributions_leave_the_model_unchanged(name, method):
    model = tiny_model(name)
    before = model_fingerprint(model)
    result = attribute(
        model, torch.rand(1, 1, 28, 28), method, "reconstruction_error", mask_ratio=0.5, steps=4, samples=2
    )
    after = model_fingerprint(model)
    assert result.shape == (1, 28, 28) and np.isfinite(result).all() and np.abs(result).sum() > 0
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert before[1:] == after[1:] and after[3] == 0
    assert all(p.grad is None for p in model.parameters())


def test_map_auc_and_deletion_curve():
    truth = np.zeros((28, 28), bool)
    truth[5:9] = True
    image = np.ones((1, 28, 28))
    assert map_auc(truth.astype(float), truth, image) == 1.0
    hidden = truth.astype(float)
    hidden[20:] = np.nan  # unscored pixels are left out, not counted as zeros
    assert map_auc(hidden, truth, image) == 1.0

    model = tiny_model("dae")
    x = torch.rand(1, 1, 28, 28)
    explanation = heatmap(attribute(model, x, "saliency"))
    fractions, values = deletion_curve(model, x, explanation, steps=5)
    assert fractions.tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert values[0] == pytest.approx(ScalarTarget(model, "reconstruction_error")(x, x).item(), rel=1e-5)
    assert 0 <= deletion_area(values) <= values.max()
