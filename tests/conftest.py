import io
import json
import sys

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import rfi_models
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.detection.detector import CALIBRATION_FILE

PYTEST_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _deterministic_torch():
    torch.manual_seed(0)
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _pytest_stays_main():
    """Streamlit's AppTest runs the app script as `__main__` and leaves it in sys.modules. A process spawned later
    in the session (a Dask worker) re-runs its parent's `__main__` file, so it would run the app script, fail to
    import the app's modules and never start ("Nanny failed to start"). Put pytest's back after every test."""
    yield
    sys.modules["__main__"] = PYTEST_MAIN


def sample_batch(model, n=2, seed=0):
    """A batch in [0, 1] that fits `model`."""
    c = model.config
    return torch.rand(n, c.in_chans, *c.img_size, generator=torch.Generator().manual_seed(seed))


# The smallest configs of each family that keep every part (two MAE blocks, two CAE stages): built in milliseconds.
TINY = {
    "mae": dict(embed_dim=16, depth=2, num_heads=2, decoder_embed_dim=8, decoder_depth=1, decoder_num_heads=2),
    "cae": dict(channels=(4, 8), latent_dim=8),
    "dae": {},
}


def tiny_model(name: str, preset: str = "mnist", **overrides):
    """A TINY model of family `name` for `preset`'s images, in eval mode; `overrides` change config fields."""
    return rfi_models.create_model(name, preset, **(TINY[name] | overrides)).eval()


ALL_MODELS = [(name, preset) for name in rfi_models.list_models() for preset in rfi_models.list_presets(name)]


# The app under test (streamlit's AppTest): its script, tiny checkpoints, and what a page drew.
APP = "../app/streamlit_app.py"


def write_tiny_checkpoints(folder, domain: str, overrides_by_family: dict, **info) -> None:
    for family, overrides in overrides_by_family.items():
        model = rfi_models.create_model(family, domain, **overrides)
        rfi_models.save_checkpoint(model, folder / f"{family}_{domain}.safetensors", domain=domain, **info)


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("RFI_MODELS_CHECKPOINTS", str(tmp_path))
    write_tiny_checkpoints(tmp_path, "mnist", TINY)
    return tmp_path


@pytest.fixture
def sar_checkpoints(checkpoints):
    """Tiny SAR checkpoints with fixed thresholds, and a recorded baseline threshold (no calibration runs)."""
    write_tiny_checkpoints(checkpoints, "sar", TINY)
    detectors = {"baseline": {"threshold": 6.0}}
    for family in TINY:
        sha = file_sha256(checkpoints / f"{family}_sar.safetensors")
        for method in ("rfi", "error", "ssim"):
            detectors[f"{family}_sar/{method}"] = {"threshold": 0.01, "checkpoint_sha256": sha}
    (checkpoints / CALIBRATION_FILE).write_text(json.dumps({"detectors": detectors}))
    return checkpoints


@pytest.fixture
def two_sar_maes(sar_checkpoints):
    """The tiny SAR checkpoints and a second tiny SAR MAE trained hiding rows (`mae_rows_sar`), with thresholds."""
    model = rfi_models.create_model("mae", "sar", **TINY["mae"], mask_scheme="rows")
    path = sar_checkpoints / "mae_rows_sar.safetensors"
    rfi_models.save_checkpoint(model, path, domain="sar")
    calibration = json.loads((sar_checkpoints / CALIBRATION_FILE).read_text())
    for method in ("rfi", "error", "ssim"):
        calibration["detectors"][f"mae_rows_sar/{method}"] = {"threshold": 0.01, "checkpoint_sha256": file_sha256(path)}
    (sar_checkpoints / CALIBRATION_FILE).write_text(json.dumps(calibration))
    return sar_checkpoints


def start(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception
    return app


def plotly_specs(app: AppTest) -> list[dict]:
    """The plotly figures of the page, as the JSON the browser gets."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
