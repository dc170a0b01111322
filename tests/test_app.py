"""The app through AppTest: pages render, the sidebar drives them, uploads are read safely.

Checkpoints here are untrained and written to a temporary folder: these tests check the app's behaviour,
not what the models learned (test_shipped.py does that).
"""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import rfi_models
from rfi_models.data import load_mnist_sample

APP = "../app/streamlit_app.py"
TINY = {
    "mae": dict(embed_dim=16, depth=1, num_heads=2, decoder_embed_dim=8, decoder_depth=1, decoder_num_heads=2),
    "cae": dict(channels=(4, 4), latent_dim=8),
    "dae": {},
}


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("RFI_MODELS_CHECKPOINTS", str(tmp_path))
    for family, overrides in TINY.items():
        model = rfi_models.create_model(family, "mnist", **overrides)
        rfi_models.save_checkpoint(model, tmp_path / f"{family}_mnist.safetensors", domain="mnist")
    return tmp_path


def start(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception
    return app


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_home_without_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("RFI_MODELS_CHECKPOINTS", str(tmp_path))
    app = start()
    assert app.title[0].value == "MAE vs CAE vs DAE"
    assert "No trained checkpoints" in app.info[0].value


def test_home_shows_the_current_image_and_skips_broken_checkpoints(checkpoints):
    (checkpoints / "broken.safetensors").write_bytes(b"not a checkpoint")
    app = start()
    assert "MNIST test #0" in app.subheader[0].value
    assert len(app.sidebar.selectbox) == 3


def test_reconstruction_page_compares_three_models_and_follows_the_mask_slider(checkpoints):
    app = start("views/reconstruction.py")
    headers = [h.value for h in app.subheader]
    assert any(h.startswith("MAE: PSNR") and "masked region" in h for h in headers)
    assert any(h.startswith("CAE: PSNR") for h in headers) and any(h.startswith("DAE: PSNR") for h in headers)
    assert "mask ratio 0.75" in app.caption[0].value
    app.sidebar.slider(key="mask_ratio").set_value(0.25).run()
    assert not app.exception and "mask ratio 0.25" in app.caption[0].value


def test_upload_of_a_digit_photo(checkpoints):
    app = start("views/reconstruction.py")
    app.sidebar.radio(key="mnist_source").set_value("upload").run()
    digit = 255 - np.kron(load_mnist_sample()[0][5], np.ones((4, 4), np.uint8))  # 112 x 112, dark on light
    app.sidebar.file_uploader(key="mnist_upload").upload("digit.png", png_bytes(digit), "image/png").run()
    assert not app.exception and not app.error
    assert "upload digit.png" in app.caption[0].value


def test_bad_upload_shows_a_message_and_the_app_keeps_serving(checkpoints):
    app = start("views/reconstruction.py")
    app.sidebar.radio(key="mnist_source").set_value("upload").run()
    app.sidebar.file_uploader(key="mnist_upload").upload("fake.png", b"this is not an image", "image/png").run()
    assert not app.exception
    assert "Upload refused" in app.error[0].value and "text file" in app.error[0].value
    app.sidebar.radio(key="mnist_source").set_value("gallery").run()
    assert not app.exception and not app.error


def test_url_holds_the_view(checkpoints):
    app = start()
    app.sidebar.slider(key="mask_ratio").set_value(0.5).run()
    assert app.query_params["mask"] == ["0.5"] or app.query_params["mask"] == "0.5"
