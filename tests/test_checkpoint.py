"""Checkpoints: round trip, metadata, and clear errors for wrong, corrupt or mismatched files (hostile files and
manifests: test_artifacts.py)."""

import json
import os

import pytest
import torch
from conftest import ALL_MODELS, sample_batch
from safetensors.torch import save_file

import rfi_models
from rfi_models import CheckpointError, load_checkpoint, save_checkpoint
from rfi_models.artifacts.checkpoint import read_checkpoint_info


@pytest.mark.parametrize(("name", "preset"), ALL_MODELS)
def test_round_trip_gives_equal_outputs(tmp_path, name, preset):
    model = rfi_models.create_model(name, preset).eval()
    path = save_checkpoint(model, tmp_path / f"{name}.safetensors", domain=preset, training={"epochs": 1}, note="x")
    loaded, info = load_checkpoint(path)
    x = sample_batch(model)
    with torch.no_grad():
        a, b = model.reconstruct(x, mask_ratio=0.5, seed=2), loaded.reconstruct(x, mask_ratio=0.5, seed=2)
        assert torch.equal(a.image, b.image)
        assert torch.equal(model.encode(x), loaded.encode(x))
    assert not loaded.training
    assert info["architecture"] == name and info["domain"] == preset and info["note"] == "x"
    assert info["config"] == json.loads(json.dumps(model.config.to_dict()))
    assert info["normalization"]["mean"] == list(model.config.mean)
    assert info["training"] == {"epochs": 1} and info["metrics"] == {}


@pytest.fixture
def saved(tmp_path):
    model = rfi_models.create_model("dae", "mnist")
    return save_checkpoint(model, tmp_path / "dae.safetensors", domain="mnist")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.safetensors")


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(os.urandom(2000))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(path)


def test_truncated_file_is_refused(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError):
        load_checkpoint(saved)


def test_foreign_safetensors_without_metadata(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError, match="not an rfi_models checkpoint"):
        load_checkpoint(path)


def test_mismatched_config_and_weights(saved, tmp_path):
    info = read_checkpoint_info(saved)
    wrong = rfi_models.create_model("cae", "mnist")
    path = tmp_path / "mismatch.safetensors"
    tensors = {k: v.contiguous() for k, v in wrong.state_dict().items()}
    save_file(tensors, str(path), metadata={"rfi_models": json.dumps(info)})
    with pytest.raises(CheckpointError, match="weights do not match the dae config"):
        load_checkpoint(path)


def test_bad_domain_is_refused_when_saving(tmp_path):
    with pytest.raises(ValueError, match="domain must be one of"):
        save_checkpoint(rfi_models.create_model("dae", "mnist"), tmp_path / "x.safetensors", domain="cifar")
