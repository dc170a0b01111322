"""The RFI segmenter (rfi_models.models.segmenter) and the pieces of its study (train.evaluate.segmenter_study)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from rfi_models.artifacts.errors import CheckpointError
from rfi_models.models.segmenter import Segmenter, SegmenterConfig, load_segmenter, parameter_count, save_segmenter
from train.evaluate.sar_metrics import Labelled
from train.evaluate.segmenter_study import StudyConfig, sample_batch, train_run


def tiny(in_chans: int = 2, widths=(4, 8)) -> Segmenter:
    torch.manual_seed(0)
    return Segmenter(SegmenterConfig(in_chans, widths))


@pytest.mark.parametrize(("height", "width"), [(37, 53), (5, 7), (1, 3), (64, 128)])
def test_logits_have_the_input_size_for_any_size(height, width):
    model = tiny(widths=(4, 8, 16)).eval()
    assert model(torch.rand(2, 2, height, width)).shape == (2, 1, height, width)
    scores = model.rfi_scores(np.random.default_rng(0).random((1, 2, height, width), dtype=np.float32))
    assert scores.shape == (1, height, width) and scores.dtype == np.float32 and ((scores > 0) & (scores < 1)).all()


def test_the_default_segmenter_is_small_and_the_wrong_channels_are_refused():
    assert parameter_count(Segmenter(SegmenterConfig(4, (16, 32, 64)))) < 300_000
    with pytest.raises(ValueError, match=r"\[B, 4, H, W\]"):
        Segmenter(SegmenterConfig(4, (4, 8)))(torch.rand(1, 2, 8, 8))
    with pytest.raises(ValueError, match="widths"):
        SegmenterConfig(2, (4,))


def stripe_patch() -> tuple[torch.Tensor, torch.Tensor]:
    """A speckled 2 x 32 x 64 patch with a VH stripe of 3 rows along range, and its mask."""
    rng = np.random.default_rng(1)
    image = (0.3 + 0.1 * rng.standard_normal((1, 2, 32, 64))).clip(0, 1).astype(np.float32)
    mask = np.zeros((1, 1, 32, 64), dtype=np.float32)
    mask[..., 12:15, 6:58] = 1
    image[:, 1] += 0.25 * mask[:, 0]
    return torch.from_numpy(image), torch.from_numpy(mask)


def test_a_tiny_segmenter_overfits_a_constructed_stripe():
    x, y = stripe_patch()
    model = tiny()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(120):
        loss = F.binary_cross_entropy_with_logits(model(x), y, pos_weight=torch.tensor(10.0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:10])
    scores = model.eval().rfi_scores(x)
    assert average_precision_score(y.numpy().ravel() > 0, scores.ravel()) > 0.9


def test_a_checkpoint_rebuilds_the_same_outputs_from_the_file_alone(tmp_path):
    model = tiny(4, (4, 8, 8)).eval()
    path = save_segmenter(model, tmp_path / "segmenter_test_sar.safetensors", inputs=["VV", "VH", "rVV", "rVH"])
    loaded, info = load_segmenter(path)
    x = torch.rand(2, 4, 21, 34)
    assert torch.equal(loaded(x), model(x))
    assert info["architecture"] == "segmenter" and info["config"] == {"in_chans": 4, "widths": [4, 8, 8]}
    assert info["inputs"] == ["VV", "VH", "rVV", "rVH"] and not loaded.training


def test_a_file_that_is_not_a_segmenter_is_refused_with_a_message(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"rfi_models": '{"format": 1, "architecture": "mae", '
                                                          '"config": {}, "domain": "sar"}'})  # fmt: skip
    with pytest.raises(CheckpointError, match="not a segmenter"):
        load_segmenter(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_segmenter(tmp_path / "missing.safetensors")


def test_training_crops_keep_image_and_masks_aligned_through_flips():
    rng = np.random.default_rng(0)
    inputs = rng.random((3, 2, 20, 30)).astype(np.float32)
    target = inputs[:, 1] > 0.5
    weight = inputs[:, 0] > 0.2
    config = StudyConfig(crop=(8, 16), batch_size=16)
    x, y, w = sample_batch(rng, inputs, target, weight, config)
    assert x.shape == (16, 2, 8, 16) and y.shape == w.shape == (16, 1, 8, 16)
    assert torch.equal(y[:, 0], (x[:, 1] > 0.5).float()) and torch.equal(w[:, 0], (x[:, 0] > 0.2).float())


def test_a_run_keeps_the_best_of_each_selection_and_stops_when_none_improves(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((2, 2, 16, 32)).astype(np.float32)
    visible = np.zeros((2, 16, 32), dtype=bool)
    visible[:, 4:6, 2:30] = True
    real = iter([0.1, 0.3, 0.2, 0.25, 0.3, 0.2, 0.9])
    semi = iter([0.1, 0.1, 0.5, 0.4, 0.4, 0.4, 0.9])
    config = StudyConfig(widths=(4, 8), crop=(8, 16), batch_size=2, max_steps=20, warmup=1, eval_every=2, patience=3)
    result = train_run("t", images, Labelled(images, visible, visible),
                       lambda m: {"real_ap": next(real), "semi_val_ap": next(semi)}, config,
                       tmp_path / "logs" / "t.jsonl")  # fmt: skip
    assert result["best"]["real_ap"] == {"ap": 0.3, "step": 4, "evaluation": 2}  # a tie later is no improvement
    assert result["best"]["semi_val_ap"] == {"ap": 0.5, "step": 6, "evaluation": 3}
    assert result["steps"] == 12 and len((tmp_path / "logs" / "t.jsonl").read_text().splitlines()) == 6
    assert set(result["models"]) == {"real_ap", "semi_val_ap"} and not result["models"]["real_ap"].training
