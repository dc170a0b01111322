"""Real inputs through the app (AppTest): any-size SAR images in the sidebar, the movable window of the models'
input size on the pages that run the models, the whole image on the RFI detection page, what was read."""

import io

import numpy as np
import pytest
from conftest import APP
from streamlit.testing.v1 import AppTest

from rfi_models.view.gallery import real_scenes

pytestmark = pytest.mark.usefixtures("sar_checkpoints")
PAGES = ("views/reconstruction.py", "views/explain.py", "views/latent.py", "views/detection.py")
PATCH = np.random.default_rng(0).integers(1, 256, (391, 671, 2)).astype(np.uint8)  # the study's own patch size


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def start() -> AppTest:
    """The app, with time for the Latent space page to compute the SAR gallery's latents for untrained models
    (minutes on a loaded machine; the shipped checkpoints come with them precomputed)."""
    return AppTest.from_file(APP, default_timeout=600).run()


def sar_app():
    app = start()
    app.sidebar.radio(key="domain").set_value("sar").run()
    return app


def upload(app, name: str, data: bytes):
    app.sidebar.radio(key="sar_source").set_value("upload").run()
    app.sidebar.file_uploader(key="sar_upload").upload(name, data, "application/octet-stream").run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    return app


def captions(app) -> str:
    return " ".join(c.value for c in app.caption) + " ".join(e.label for e in app.expander)


def render(app, pages=PAGES) -> dict[str, str]:
    """Each page's captions, after checking it rendered with no exception, error or refusal."""
    seen = {}
    for page in pages:
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        assert not app.error, (page, [e.value for e in app.error])
        seen[page] = captions(app)
    return seen


def test_a_391_x_671_patch_renders_every_page_through_a_window():
    app = upload(sar_app(), "patch.npy", npy_bytes(PATCH))
    seen = render(app)
    for page in PAGES[:3]:
        assert "of the 391 x 671 image" in seen[page], page
    assert "391 x 671 px" in seen["views/detection.py"]  # the whole image is scored
    assert "NumPy .npy · VV / VH · 391 x 671 px" in seen["views/detection.py"]
    assert app.query_params["wtop"] and app.query_params["wleft"]


def test_moving_the_window_updates_the_pages_and_the_url():
    app = upload(sar_app(), "patch.npy", npy_bytes(PATCH))
    before = render(app, PAGES[:2])
    slider = next(s for s in app.sidebar.slider if s.label == "Window left column")
    slider.set_value(100).run()
    assert app.query_params["wleft"] in (["100"], "100")
    next(s for s in app.sidebar.slider if s.label == "Window top row").set_value(51).run()
    after = render(app, PAGES[:2])
    for page in PAGES[:2]:
        assert "rows 51-390, columns 100-599 of the 391 x 671 image" in after[page] and after[page] != before[page]


@pytest.mark.skipif(not real_scenes(), reason="the shipped quick-looks are missing")
def test_a_real_quicklook_upload_renders_every_page():
    from rfi_models.view.gallery import real_scenes_folder

    name = next(n for n in real_scenes() if "_S4_" in n)  # 721 x 504: taller than the window
    app = upload(sar_app(), name, (real_scenes_folder() / name).read_bytes())
    seen = render(app)
    assert "quick-look PNG · HH / HV · 721 x 504 px" in seen["views/reconstruction.py"]
    assert "of the 721 x 504 image" in seen["views/explain.py"]


@pytest.mark.skipif(not real_scenes(), reason="the shipped quick-looks are missing")
def test_the_gallery_has_real_sentinel1_scenes_with_attribution():
    app = sar_app()
    app.sidebar.radio(key="sar_source").set_value("Sentinel-1").run()
    app.switch_page("views/reconstruction.py").run()
    assert not app.exception and not app.error
    text = captions(app)
    assert "real Sentinel-1 (no visible RFI)" in text and "Contains modified Copernicus Sentinel data" in text
    assert app.query_params["scene"]


def test_an_image_smaller_than_the_window_is_mirror_padded():
    app = upload(sar_app(), "small.npy", npy_bytes(PATCH[:200, :300]))
    app.switch_page("views/reconstruction.py").run()
    assert not app.exception and not app.error
    assert "padded by mirroring" in captions(app)


@pytest.mark.skipif(not real_scenes(), reason="the shipped quick-looks are missing")
def test_a_shared_url_restores_the_window():
    name = next(n for n in real_scenes() if "_EW_" in n)  # 510 x 522: the window moves in both directions
    shared = AppTest.from_file(APP, default_timeout=600)
    shared.query_params.update({"domain": "sar", "source": "Sentinel-1", "scene": name, "wtop": "7", "wleft": "3"})
    shared.run()
    shared.switch_page("views/reconstruction.py").run()
    assert not shared.exception and "rows 7-346, columns 3-502 of the 510 x 522 image" in captions(shared)


@pytest.mark.skipif(not real_scenes(), reason="the shipped quick-looks are missing")
def test_the_gallery_has_semi_synthetic_patches_with_known_rfi():
    app = sar_app()
    app.sidebar.radio(key="sar_source").set_value("semi-synthetic").run()
    app.sidebar.number_input(key="semi_image").set_value(2).run()
    app.switch_page("views/detection.py").run()
    assert not app.exception and not app.error
    text = captions(app)
    assert "semi-synthetic SAR #2 (real background" in text and "true RFI outlined" in text
    assert app.query_params["semi"] in (["2"], "2")
