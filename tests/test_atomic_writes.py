"""A save that fails part-way (a write cut off after half the bytes, a full disk, a failed rename) leaves the previous
checkpoint, its manifest entry and its resume file loading as before, and no temporary file behind."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import tiny_model

import rfi_models.artifacts.atomic
from rfi_models import load_checkpoint, save_checkpoint
from rfi_models.artifacts.checkpoint import find_checkpoints
from rfi_models.artifacts.manifest import read_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]


def weights(model) -> dict[str, torch.Tensor]:
    return {name: t.clone() for name, t in model.state_dict().items()}


def same_weights(model, expected: dict[str, torch.Tensor]) -> bool:
    state = model.state_dict()
    return state.keys() == expected.keys() and all(torch.equal(state[k], v) for k, v in expected.items())


@pytest.fixture
def sealed(tmp_path):
    """A folder with one checkpoint (a tiny CAE) and the manifest that vouches for it; returns (path, weights)."""
    first = tiny_model("cae")
    path = save_checkpoint(first, tmp_path / "cae_mnist.safetensors", domain="mnist", training={"epoch": 1})
    write_manifest(tmp_path)
    return path, weights(first)


def changed_model():
    torch.manual_seed(7)
    return tiny_model("cae")


def assert_previous_checkpoint_intact(path: Path, expected: dict[str, torch.Tensor], manifest_before: dict) -> None:
    model, info = load_checkpoint(path)  # checked against the manifest: the hash still matches
    assert same_weights(model, expected) and info["training"] == {"epoch": 1}
    assert read_manifest(path.parent / "MANIFEST.json") == manifest_before
    assert sorted(p.name for p in path.parent.iterdir()) == ["MANIFEST.json", path.name]  # no temporary file
    found, problems = find_checkpoints(path.parent)
    assert [p for p, _ in found] == [path] and problems == []


def failing_rename(source, target):
    assert Path(source).stat().st_size > 1000  # the whole new file was written beside the old one
    raise OSError(errno.EIO, "Input/output error")


def test_a_write_cut_off_after_half_the_bytes_keeps_the_previous_checkpoint(sealed, monkeypatch):
    path, expected = sealed
    manifest_before = read_manifest(path.parent / "MANIFEST.json")
    written = []

    def half_then_full_disk(self, data):
        with self.open("wb") as out:
            written.append(out.write(bytes(data[: len(data) // 2])))
            out.flush()
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", half_then_full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(changed_model(), path, domain="mnist", training={"epoch": 2})
    monkeypatch.undo()
    assert written and written[0] > 1000  # the cut-off write really put half a checkpoint on disk
    assert_previous_checkpoint_intact(path, expected, manifest_before)


def test_a_failed_rename_keeps_the_previous_checkpoint(sealed, monkeypatch):
    path, expected = sealed
    manifest_before = read_manifest(path.parent / "MANIFEST.json")

    monkeypatch.setattr(rfi_models.artifacts.atomic.os, "replace", failing_rename)
    with pytest.raises(OSError, match="Input/output error"):
        save_checkpoint(changed_model(), path, domain="mnist", training={"epoch": 2})
    monkeypatch.undo()
    assert_previous_checkpoint_intact(path, expected, manifest_before)


# A real full disk, as the kernel reports it: the file-size limit (RLIMIT_FSIZE) set to half the checkpoint's size
# makes the write fail with EFBIG part-way, in a process of its own (SIGXFSZ ignored, so that the write raises).
FULL_DISK = """
import json, resource, signal, sys
import torch
sys.path.insert(0, "tests")
from conftest import tiny_model
from rfi_models import save_checkpoint
path, limit = sys.argv[1], int(sys.argv[2])
torch.manual_seed(7)
model = tiny_model("cae")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    save_checkpoint(model, path, domain="mnist", training={"epoch": 2})
except OSError as err:
    print(json.dumps({"errno": err.errno}))
"""


def test_a_full_disk_during_the_save_keeps_the_previous_checkpoint(sealed):
    path, expected = sealed
    manifest_before = read_manifest(path.parent / "MANIFEST.json")
    limit = path.stat().st_size // 2
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), str(limit)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    assert json.loads(result.stdout.splitlines()[-1]) == {"errno": errno.EFBIG}, result.stderr[-2000:]
    assert_previous_checkpoint_intact(path, expected, manifest_before)


def test_a_successful_save_replaces_the_checkpoint_and_its_manifest_entry(sealed):
    path, expected = sealed
    new = changed_model()
    save_checkpoint(new, path, domain="mnist", training={"epoch": 2})
    model, info = load_checkpoint(path)
    assert same_weights(model, weights(new)) and not same_weights(model, expected) and info["training"]["epoch"] == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["MANIFEST.json", path.name]


def test_a_killed_saves_temporary_file_is_neither_listed_nor_covered_by_the_manifest(sealed):
    path, _ = sealed
    stray = rfi_models.artifacts.atomic.partial_path(path).with_name(".cae_mnist.partial-999999999.safetensors")
    stray.write_bytes(path.read_bytes()[:500])  # what a SIGKILL during a save leaves
    found, problems = find_checkpoints(path.parent)
    assert [p for p, _ in found] == [path] and problems == []
    write_manifest(path.parent)
    assert list(read_manifest(path.parent / "MANIFEST.json")) == [path.name]
    assert rfi_models.artifacts.atomic.remove_stale_partials(path.parent) == [stray] and not stray.exists()


def test_a_failed_resume_file_save_keeps_the_previous_resume_file(tmp_path, monkeypatch):
    from train.optim import build_optimizer
    from train.resume import load_resume_state, save_resume_state

    model, path = tiny_model("cae").train(), tmp_path / "cae.resume"
    config = type("Config", (), {"lr": 1e-3, "weight_decay": 0.0, "betas": (0.9, 0.999)})()
    optimizer = build_optimizer(model, config)
    model.training_loss(torch.rand(2, 1, 28, 28)).backward()
    optimizer.step()
    save_resume_state(path, model, optimizer, {"epoch": 1})
    expected = weights(model)
    monkeypatch.setattr(rfi_models.artifacts.atomic.os, "replace", failing_rename)
    with pytest.raises(OSError, match="Input/output error"):
        save_resume_state(path, changed_model(), optimizer, {"epoch": 2})
    monkeypatch.undo()
    fresh = changed_model()
    assert load_resume_state(path, fresh, build_optimizer(fresh, config)) == {"epoch": 1}
    assert same_weights(fresh, expected) and [p.name for p in tmp_path.iterdir()] == [path.name]
