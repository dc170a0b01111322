"""Checkpoint artifacts: loading never unpickles, hostile metadata cannot allocate a giant model, and a folder
with a manifest serves only the files it lists with matching sha256 (the shipped checkpoints/ among them)."""

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from hostile_corpus import PicklePayload, forbid_unpickling
from safetensors.torch import save_file

import rfi_models
from rfi_models import CheckpointError, load_checkpoint, save_checkpoint
from rfi_models.artifacts.checkpoint import METADATA_KEY, find_checkpoints, read_checkpoint_info
from rfi_models.artifacts.manifest import (
    MANIFEST_NAME,
    cached_sha256,
    file_sha256,
    read_manifest,
    verify_folder,
    write_manifest,
)
from rfi_models.artifacts.manifest import main as manifest_main

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


@pytest.fixture
def marker(tmp_path):
    """The file a PicklePayload would create: it must not exist after the test."""
    path = tmp_path / "payload_was_executed"
    yield path
    assert not path.exists()


@pytest.fixture
def no_unpickling(monkeypatch):
    """Any unpickling fails the test outright."""
    forbid_unpickling(monkeypatch)


def small_model():
    return rfi_models.create_model("dae", "mnist")


def tensors_of(model) -> dict:
    return {name: t.contiguous() for name, t in model.state_dict().items()}


def metadata_of(path: Path) -> dict:
    return {METADATA_KEY: json.dumps(read_checkpoint_info(path))}


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------------------------------- no pickle
@pytest.mark.parametrize("writer", ["torch.save", "pickle.dumps"])
def test_a_pickle_renamed_to_safetensors_is_refused_unexecuted(tmp_path, marker, writer):
    path = tmp_path / "evil.safetensors"
    if writer == "torch.save":
        torch.save({"state_dict": small_model().state_dict(), "extra": PicklePayload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"state_dict": PicklePayload(marker)}))
    with pytest.raises(CheckpointError, match="not a readable safetensors checkpoint"):
        load_checkpoint(path)


def test_pickles_inside_a_safetensors_file_are_never_executed(tmp_path, marker, no_unpickling):
    """A pickle as metadata text, as the whole rfi_models document, and as an extra tensor's bytes."""
    payload = pickle.dumps(PicklePayload(marker)).decode("latin-1")
    good = save_checkpoint(small_model(), tmp_path / "good.safetensors", domain="mnist")
    carrier = tmp_path / "carrier.safetensors"
    save_file(tensors_of(small_model()), str(carrier), metadata={**metadata_of(good), "payload": payload})
    _, info = load_checkpoint(carrier)  # loads; the payload stays a string nobody reads
    assert info["architecture"] == "dae"

    document = tmp_path / "document.safetensors"
    save_file(tensors_of(small_model()), str(document), metadata={METADATA_KEY: payload})
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(document)

    extra = tmp_path / "extra.safetensors"
    pickled = torch.frombuffer(bytearray(pickle.dumps(PicklePayload(marker))), dtype=torch.uint8)
    save_file({**tensors_of(small_model()), "payload": pickled}, str(extra), metadata=metadata_of(good))
    with pytest.raises(CheckpointError, match=r"weights do not match the dae config .*unexpected payload"):
        load_checkpoint(extra)


# ------------------------------------------------------------------------------------------- hostile metadata
def test_metadata_describing_a_giant_model_is_refused_before_allocating(tmp_path):
    """A MAE whose metadata claims 65536-wide layers (hundreds of GB) over small weights; then one whose
    weights fit but whose image size makes its (unsaved) position embeddings 25 GB."""
    mae = rfi_models.create_model("mae", "mnist")
    info = json.loads(metadata_of(save_checkpoint(mae, tmp_path / "mae.safetensors", domain="mnist"))[METADATA_KEY])
    for change, message in (
        ({"embed_dim": 65536}, r"describes a mae model of [\d,]+ MiB"),
        ({"img_size": [40000, 40000]}, r"describes a mae model of [\d,]+ MiB"),
        ({"depth": 5}, r"weights do not match the mae config \(missing blocks\.4\."),
    ):
        path = tmp_path / "giant.safetensors"
        document = info | {"config": info["config"] | change}
        save_file(tensors_of(mae), str(path), metadata={METADATA_KEY: json.dumps(document)})
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(path)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        (json.dumps({"format": 1, "architecture": "dae", "config": {}, "domain": "cifar"}), "unknown domain"),
        (json.dumps({"format": 1, "architecture": "dae", "config": {"in_chans": -3}, "domain": "mnist"}), "rebuild"),
        (json.dumps({"format": 1, "architecture": "vae", "config": {}, "domain": "mnist"}), "cannot rebuild"),
        (json.dumps({"format": 99, "architecture": "dae", "config": {}, "domain": "mnist"}), "unsupported checkpoint"),
    ],
)
def test_malformed_metadata_is_a_checkpoint_error(tmp_path, metadata, message):
    path = tmp_path / "odd.safetensors"
    save_file(tensors_of(small_model()), str(path), metadata={METADATA_KEY: metadata})
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


# ------------------------------------------------------------------------------------------- manifest
@pytest.fixture
def sealed(tmp_path):
    """A folder like checkpoints/: two checkpoints (one in a subfolder), a latent map, and a manifest."""
    folder = tmp_path / "checkpoints"
    save_checkpoint(small_model(), folder / "dae_mnist.safetensors", domain="mnist")
    save_checkpoint(small_model(), folder / "ablation" / "dae_mnist_b.safetensors", domain="mnist")
    (folder / "latents_mnist.npz").write_bytes(b"PK\x05\x06" + bytes(18))
    write_manifest(folder)
    return folder


def test_manifest_lists_every_loadable_file(sealed):
    assert sorted(read_manifest(sealed / MANIFEST_NAME)) == [
        "ablation/dae_mnist_b.safetensors",
        "dae_mnist.safetensors",
        "latents_mnist.npz",
    ]
    assert verify_folder(sealed) == []
    found, problems = find_checkpoints(sealed)
    assert len(found) == 1 and not problems
    load_checkpoint(sealed / "ablation" / "dae_mnist_b.safetensors")


@pytest.mark.parametrize("name", ["dae_mnist.safetensors", "ablation/dae_mnist_b.safetensors"])
def test_a_tampered_listed_file_is_refused_naming_it(sealed, name):
    path = sealed / name
    flip_byte(path, path.stat().st_size - 5)  # inside the last tensor: safetensors alone would not notice
    with pytest.raises(CheckpointError, match=rf"{name}: its sha256 does not match .*{MANIFEST_NAME}"):
        load_checkpoint(path)
    assert any(name in problem for problem in verify_folder(sealed))


def test_a_truncated_listed_file_is_refused(sealed):
    path = sealed / "dae_mnist.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="sha256 does not match"):
        load_checkpoint(path)


def test_find_checkpoints_reports_a_tampered_or_unlisted_file_as_a_problem(sealed):
    flip_byte(sealed / "dae_mnist.safetensors", 200)
    save_file(tensors_of(small_model()), str(sealed / "stray.safetensors"))
    found, problems = find_checkpoints(sealed)
    assert found == []
    assert len(problems) == 2
    assert "dae_mnist.safetensors: its sha256 does not match" in problems[0]
    assert "stray.safetensors is not listed" in problems[1]


def test_files_outside_any_manifest_load_and_unlisted_ones_inside_do_not(tmp_path, sealed):
    free = save_checkpoint(small_model(), tmp_path / "elsewhere" / "dae.safetensors", domain="mnist")
    load_checkpoint(free)
    stray = sealed / "copied_in.safetensors"
    stray.write_bytes(free.read_bytes())
    with pytest.raises(CheckpointError, match=r"copied_in\.safetensors is not listed in"):
        load_checkpoint(stray)


def test_saving_into_a_sealed_folder_records_the_new_hash(sealed):
    path = save_checkpoint(rfi_models.create_model("dae", "mnist", noise_factor=0.3), sealed / "new.safetensors",
                           domain="mnist")  # fmt: skip
    assert read_manifest(sealed / MANIFEST_NAME)["new.safetensors"] == file_sha256(path)
    assert load_checkpoint(path)[0].config.noise_factor == 0.3
    assert verify_folder(sealed) == []


def test_an_unreadable_manifest_is_a_clear_error(sealed):
    (sealed / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(CheckpointError, match=r"unreadable manifest .* --write"):
        load_checkpoint(sealed / "dae_mnist.safetensors")
    (sealed / MANIFEST_NAME).write_text(json.dumps({"sha256": {}}))
    with pytest.raises(CheckpointError, match="not an rfi_models manifest"):
        load_checkpoint(sealed / "dae_mnist.safetensors")


def test_hashes_are_cached_until_the_file_changes(tmp_path):
    path = tmp_path / "f.npz"
    path.write_bytes(b"one")
    first = file_sha256(path)
    hits = cached_sha256.cache_info().hits
    assert file_sha256(path) == first and cached_sha256.cache_info().hits == hits + 1
    path.write_bytes(b"two!")
    assert file_sha256(path) != first


def test_manifest_command_writes_and_verifies(sealed, capsys):
    os.remove(sealed / MANIFEST_NAME)
    assert manifest_main(["--verify", str(sealed)]) == 1
    assert manifest_main(["--write", str(sealed)]) == 0
    assert manifest_main(["--verify", str(sealed)]) == 0
    flip_byte(sealed / "latents_mnist.npz", 3)
    assert manifest_main(["--verify", str(sealed)]) == 1
    err = capsys.readouterr().err
    assert "has no MANIFEST.json" in err and "latents_mnist.npz: its sha256 does not match" in err


def test_the_shipped_checkpoints_match_their_manifest():
    assert verify_folder(CHECKPOINTS) == []
    listed = read_manifest(CHECKPOINTS / MANIFEST_NAME)
    assert {name for name in listed if name.startswith("latents_")} == {"latents_mnist.npz", "latents_sar.npz"}
    assert any(name.startswith("ablation/") for name in listed)
