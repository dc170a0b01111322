"""The ONNX Runtime engine (and OpenVINO on the same exports): the same residuals and scores as torch on every shipped
SAR checkpoint, refusals of stale and tampered exports, the same masks from every engine, and no torch in a process
that scores with ONNX."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rfi_models import detect
from rfi_models.artifacts.errors import CheckpointError
from rfi_models.artifacts.manifest import write_manifest
from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.synthetic_sar import SPLIT_SEEDS, synthetic_sar
from rfi_models.detection.detector import Detector, model_residual_fn
from rfi_models.detection.onnx_engine import (
    EXPORT_ENGINES,
    check_export,
    engine_for,
    onnx_path,
    onnx_residual_fn,
)
from rfi_models.detection.residual_scores import score_residual

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
SHIPPED_SAR = tuple(sorted(p.stem for p in CHECKPOINTS.glob("*_sar.safetensors")))  # every shipped SAR model
TOLERANCE = 1e-4  # float32, of the residual and the rfi score


def real_tile(tile: tuple[int, int]) -> np.ndarray:
    """A [1, 2, th, tw] tile of the real RFI patch 'tree' (411 x 638): its top-left corner, with its RFI."""
    image = real_rfi_patches()["tree"].image
    return np.ascontiguousarray(image[None, :, : tile[0], : tile[1]], dtype=np.float32)


def test_shipped_exports_are_current():
    from rfi_models.detection.onnx_export import check_folder  # imports torch: not at the top (see torch_imported)

    assert check_folder(CHECKPOINTS) == []


@pytest.mark.parametrize("engine", EXPORT_ENGINES)
@pytest.mark.parametrize("name", SHIPPED_SAR)
def test_onnx_matches_torch_on_every_shipped_sar_checkpoint(name, engine):
    checkpoint = CHECKPOINTS / f"{name}.safetensors"
    onnx_fn, tile = onnx_residual_fn(checkpoint, engine)
    torch_fn, torch_tile = model_residual_fn(checkpoint, "float32")
    assert tuple(tile) == tuple(torch_tile)
    synthetic = synthetic_sar(2, *tile, seed=SPLIT_SEEDS["val"], rfi_probability=1.0)[0]
    for tiles in (real_tile(tile), synthetic):
        ours, theirs = onnx_fn(tiles), torch_fn(tiles)
        assert ours.shape == theirs.shape == tiles.shape and ours.dtype == np.float32
        assert np.abs(ours - theirs).max() <= TOLERANCE
        assert np.abs(score_residual(tiles, ours, "rfi") - score_residual(tiles, theirs, "rfi")).max() <= TOLERANCE


def test_onnx_detector_scores_a_real_patch_as_torch_does():
    image = real_rfi_patches()["one"].image  # 332 x 512: scored in blended tiles
    checkpoint = CHECKPOINTS / "mae_rows_sar.safetensors"
    ours = Detector.create(str(checkpoint), "rfi", 0.5, engine="onnx").score(image)
    theirs = Detector.create(str(checkpoint), "rfi", 0.5, precision="float32", engine="torch").score(image)
    assert np.abs(ours - theirs).max() <= TOLERANCE


def copy_model(tmp_path: Path, name: str = "dae_sar") -> Path:
    """A checkpoint and its export copied into tmp_path (no manifest there: the files are read unchecked)."""
    for suffix in (".safetensors", ".onnx"):
        shutil.copy(CHECKPOINTS / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.safetensors"


def run_detect(tmp_path: Path, checkpoint: Path, engine: str, capsys) -> tuple[int, str]:
    np.save(tmp_path / "scene.npy", real_rfi_patches()["one"].image)
    argv = [str(tmp_path / "scene.npy"), "--checkpoint", str(checkpoint), "--out", str(tmp_path / f"{engine}.npy"),
            "--scores", str(tmp_path / f"{engine}.scores.npy"), "--engine", engine, "--threshold", "0.05",
            "--precision", "float32", "--threads", "1"]  # fmt: skip
    code = detect.main(argv)
    return code, capsys.readouterr().err


def test_a_stale_export_is_refused_with_a_message(tmp_path, capsys):
    from rfi_models.detection.onnx_export import export_folder

    checkpoint = copy_model(tmp_path)
    shutil.copy(CHECKPOINTS / "cae_sar.safetensors", checkpoint)  # another model under the exported one's name
    with pytest.raises(CheckpointError, match=r"is stale.*--export"):
        check_export(checkpoint)
    code, err = run_detect(tmp_path, checkpoint, "onnx", capsys)
    assert code == 2 and "is stale" in err and "Traceback" not in err
    assert engine_for(checkpoint, "auto", "float32")[0] == "torch"  # auto falls back, and says why
    assert "is stale" in engine_for(checkpoint, "auto", "float32")[1]
    [(exported, seconds)] = export_folder(tmp_path)  # the rebuild: only what is not current
    assert exported == onnx_path(checkpoint) and seconds is not None
    assert check_export(checkpoint) == exported and export_folder(tmp_path) == [(exported, None)]


def test_a_tampered_export_is_refused_with_a_message(tmp_path, capsys):
    checkpoint = copy_model(tmp_path)
    write_manifest(tmp_path)
    exported = onnx_path(checkpoint)
    data = bytearray(exported.read_bytes())
    data[len(data) // 2] ^= 0xFF
    exported.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match"):
        check_export(checkpoint)
    code, err = run_detect(tmp_path, checkpoint, "onnx", capsys)
    assert code == 2 and "does not match" in err and "Traceback" not in err


def test_an_unreadable_export_is_refused_with_a_message(tmp_path):
    checkpoint = copy_model(tmp_path)
    onnx_path(checkpoint).write_bytes(b"not an onnx model")
    with pytest.raises(CheckpointError, match="not a readable ONNX model"):
        check_export(checkpoint)
    assert engine_for(checkpoint, "auto", "float32")[0] == "torch"


def test_torch_and_onnx_engines_give_the_same_mask(tmp_path, capsys):
    checkpoint = CHECKPOINTS / "mae_rows_sar.safetensors"
    for engine in ("torch", *EXPORT_ENGINES):
        code, err = run_detect(tmp_path, checkpoint, engine, capsys)
        assert code == 0, err
    for engine in EXPORT_ENGINES:
        assert np.array_equal(np.load(tmp_path / f"{engine}.npy"), np.load(tmp_path / "torch.npy"))
        scores = np.load(tmp_path / f"{engine}.scores.npy") - np.load(tmp_path / "torch.scores.npy")
        assert np.abs(scores).max() <= TOLERANCE


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_one_scene_scores_bit_identically_whatever_the_number_of_rows_at_once(tmp_path, capsys, engine):
    """detect --threads N scores N rows of tiles side by side: the score map is the same to the bit for 1, 2 and 3."""
    image = real_rfi_patches()["one"].image  # [2, H, W], one tile
    scene = np.tile(image, (1, 3, 2))  # 3 x 2 patches: 4 rows of 3 tiles
    np.save(tmp_path / "scene.npy", scene)
    scores = []
    for threads in (1, 2, 3):
        argv = [str(tmp_path / "scene.npy"), "--checkpoint", str(CHECKPOINTS / "mae_rows_sar.safetensors"),
                "--out", str(tmp_path / "mask.npy"), "--scores", str(tmp_path / f"{threads}.npy"), "--engine", engine,
                "--precision", "float32", "--threads", str(threads)]  # fmt: skip
        assert detect.main(argv) == 0, capsys.readouterr().err
        scores.append(np.load(tmp_path / f"{threads}.npy"))
    assert scores[0].shape == scene.shape[1:] and all(np.array_equal(s, scores[0]) for s in scores[1:])


NO_TORCH_SCRIPT = """
import json
import sys
from pathlib import Path
from rfi_models import detect
from rfi_models.screen.cli import parse_arguments, resolve_detector
from rfi_models.screen.inputs import scene_inputs
from rfi_models.screen.work import start_scene
folder = Path(sys.argv[1])
code = detect.main([str(folder / "scene.npy"), "--out", str(folder / "mask.png"), "--scores", str(folder / "s.npy"),
                    "--engine", "onnx"])
args = parse_arguments([str(folder / "scene.npy"), "--out-dir", str(folder / "out"), "--engine", "onnx"])
spec = resolve_detector(args)
fields = start_scene(scene_inputs([folder / "scene.npy"])[0], spec, folder, True)
print(json.dumps({"code": code, "engine": spec.engine, "torch": "torch" in sys.modules, "stripes": fields["stripes"]}))
"""


def test_scoring_with_onnx_does_not_import_torch(tmp_path):
    np.save(tmp_path / "scene.npy", real_rfi_patches()["one"].image)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", NO_TORCH_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0 and result["engine"] == "onnx" and result["torch"] is False


def torch_imported() -> bool:
    """Run on a Dask worker, which imports this module to find the function: so the module imports no torch."""
    return "torch" in sys.modules


@pytest.mark.slow  # a Dask LocalCluster
def test_screen_workers_of_the_onnx_engine_do_not_import_torch(tmp_path):
    from rfi_models.screen import work
    from rfi_models.screen.cli import connect, main, parse_arguments, resolve_detector
    from rfi_models.screen.inputs import scene_inputs
    from rfi_models.screen.summary import Summary

    np.save(tmp_path / "scene.npy", real_rfi_patches()["one"].image)
    argv = [str(tmp_path / "scene.npy"), "--out-dir", str(tmp_path / "out"), "--engine", "onnx", "--workers", "1"]
    spec = resolve_detector(parse_arguments(argv))
    assert spec.engine == "onnx" and spec.precision == "float32"
    with connect(1, None) as client:
        client.run(work.load_detector, spec)
        assert list(client.run(torch_imported).values()) == [False]
        scene = scene_inputs([tmp_path / "scene.npy"])[0]
        fields = client.submit(work.start_scene, scene, spec, tmp_path, True).result()
        assert list(client.run(torch_imported).values()) == [False]
    assert fields["height"] == 332 and fields["width"] == 512
    assert main(argv) == 0
    (row,) = Summary(tmp_path / "out").rows.values()
    assert row["engine"] == "onnx" and row["status"] == "ok" and row["detector"] == spec.name
