"""One definition of the detectors: the checkpoints folder rule, and the same default in detect and screen."""

import json
from pathlib import Path

import numpy as np
import pytest

import rfi_models
from rfi_models import detect
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.detection.detector import CALIBRATION_FILE, choose_detector, default_detector
from rfi_models.names import CHECKPOINTS_ENV, checkpoints_dir
from rfi_models.screen import cli as screen


def test_the_checkpoints_folder_is_the_repositorys_unless_the_variable_says_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv(CHECKPOINTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # never relative to the working directory
    repository = Path(rfi_models.__file__).resolve().parents[1] / "checkpoints"
    assert checkpoints_dir() == repository
    monkeypatch.setenv(CHECKPOINTS_ENV, str(tmp_path / "elsewhere"))
    assert checkpoints_dir() == tmp_path / "elsewhere"
    (tmp_path / "elsewhere").mkdir()
    write_calibration(tmp_path / "elsewhere", "control-band", "error", {})
    assert default_detector() == ("control-band", "error")  # the detectors read the same folder


def write_calibration(folder: Path, source: str, method: str, detectors: dict) -> None:
    """detectors.json as the evaluation writes it now: the default's entry records how it was chosen."""
    default = {"source": source, "method": method, "rule": "mean of the semi-synthetic and real validation AP",
               "validation_score": 0.31}  # fmt: skip
    (folder / CALIBRATION_FILE).write_text(json.dumps({"default": default, "detectors": detectors}))


@pytest.fixture
def scene(tmp_path):
    pixels = np.random.default_rng(0).integers(20, 200, (40, 60, 2), dtype=np.uint8)
    np.save(tmp_path / "scene.npy", pixels)
    return tmp_path / "scene.npy"


def detect_choice(scene: Path, folder: Path, capsys) -> str:
    """What `python -m rfi_models.detect SCENE` (no --checkpoint, no --method) prints as its detector and threshold."""
    assert detect.main([str(scene), "--out", str(folder / "m.npy"), "--scores", str(folder / "s.npy")]) == 0
    name, rest = capsys.readouterr().out.split(": 40 x 60 px, threshold ")
    return f"{name}, threshold {rest.split(',')[0]}"


def screen_choice(scene: Path, folder: Path) -> str:
    """The detector and threshold `python -m rfi_models.screen SCENE --out-dir DIR` screens with."""
    spec = screen.resolve_detector(screen.parse_arguments([str(scene), "--out-dir", str(folder / "out")]))
    return f"{spec.name}, threshold {spec.threshold:.4g}"  # as detect prints it


@pytest.mark.parametrize("default", ["control-median", "mae_sar"])
def test_detect_and_screen_pick_the_same_recorded_default(scene, tmp_path, monkeypatch, capsys, default):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    entry = {"threshold": 0.0123}
    if default == "mae_sar":
        model = rfi_models.create_model("mae", "sar", depth=1, embed_dim=32, decoder_depth=1, decoder_embed_dim=32)
        entry["checkpoint_sha256"] = file_sha256(rfi_models.save_checkpoint(model, folder / "mae_sar.safetensors",
                                                                            domain="sar"))  # fmt: skip
    write_calibration(folder, default, "rfi", {f"{default}/rfi": entry, f"{default}/error": {"threshold": 9.0}})
    monkeypatch.setenv(CHECKPOINTS_ENV, str(folder))
    source, method = choose_detector()
    assert method == "rfi" and source == (
        default if default.startswith("control") else str(folder / f"{default}.safetensors")
    )
    spec = screen.resolve_detector(screen.parse_arguments([str(scene), "--out-dir", str(tmp_path / "out")]))
    assert (spec.name, spec.method, spec.threshold) == (f"{default} (rfi)", "rfi", 0.0123)  # the recorded threshold
    assert (
        detect_choice(scene, tmp_path, capsys) == screen_choice(scene, tmp_path) == f"{default} (rfi), threshold 0.0123"
    )


def test_without_a_recorded_default_both_use_the_baseline(scene, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / CALIBRATION_FILE).write_text(json.dumps({"detectors": {"baseline": {"threshold": 7.5}}}))
    monkeypatch.setenv(CHECKPOINTS_ENV, str(tmp_path / "empty"))
    assert choose_detector() == ("baseline", "")
    assert screen_choice(scene, tmp_path) == detect_choice(scene, tmp_path, capsys) == "baseline, threshold 7.5"


def test_screen_offers_the_learned_score_and_every_no_model_control(scene, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CHECKPOINTS_ENV, str(tmp_path))  # no calibration file: nothing learned is recorded
    for control in ("control-input", "control-median", "control-band"):
        args = screen.parse_arguments([str(scene), "--out-dir", str(tmp_path / "o"), "--checkpoint", control,
                                       "--method", "error", "--threshold", "0.5"])  # fmt: skip
        assert screen.resolve_detector(args).name == f"{control} (error)"
    code = screen.main([str(scene), "--out-dir", str(tmp_path / "o"), "--checkpoint", "control-band", "--method",
                        "learned"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no learned classifier is recorded for control-band" in err and "Traceback" not in err
