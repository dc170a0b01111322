"""The app through AppTest: pages render, the sidebar drives them, uploads are read safely.

Checkpoints here are untrained and written to a temporary folder: these tests check the app's behaviour,
not what the models learned (test_shipped.py does that).
"""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import APP, npy_bytes, plotly_specs, start
from hostile_corpus import hostile_files
from PIL import Image
from streamlit.testing.v1 import AppTest

from rfi_models.data import load_mnist_sample

ROOT = Path(__file__).resolve().parents[1]


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


def grid_texts(spec: dict) -> list[str]:
    """A grid's panel titles and row labels."""
    return [note["text"].replace("<br>", " ") for note in spec["layout"].get("annotations", [])]


def test_reconstruction_page_compares_three_models_in_one_grid_and_follows_the_controls(checkpoints):
    app = start("views/reconstruction.py")
    grid = plotly_specs(app)[0]
    texts = grid_texts(grid)
    labels = {text.split("</b>")[0].removeprefix("<b>"): text for text in texts if text.startswith("<b>")}
    assert set(labels) == {"MAE", "CAE", "DAE"} and all("PSNR" in t and "SSIM" in t for t in labels.values())
    assert "hidden" in labels["MAE"] and "hidden" not in labels["CAE"]
    assert {"original", "what the model saw", "reconstruction", "reconstruction + visible", "absolute error"} <= set(
        texts
    )
    error_axes = [name for name, axis in grid["layout"].items() if name.startswith("coloraxis") and axis["showscale"]]
    assert len(error_axes) == 1, "one colour bar: the error scale shared by every model"
    assert "mask ratio 0.75" in app.caption[0].value
    app.sidebar.slider(key="mask_ratio").set_value(0.25).run()
    assert not app.exception and "mask ratio 0.25" in app.caption[0].value
    app.slider(key="noise_factor").set_value(0.2).run()
    assert not app.exception and "DAE noise 0.20" in app.caption[0].value


def test_upload_of_a_digit_photo(checkpoints):
    app = start("views/reconstruction.py")
    app.sidebar.radio(key="mnist_source").set_value("upload").run()
    digit = 255 - np.kron(load_mnist_sample()[0][5], np.ones((4, 4), np.uint8))  # 112 x 112, dark on light
    app.sidebar.file_uploader(key="mnist_upload").upload("digit.png", png_bytes(digit), "image/png").run()
    assert not app.exception and not app.error
    assert any("upload digit.png" in caption.value for caption in app.caption)
    assert any("PNG · grey · 112 x 112 px" in caption.value for caption in app.caption)  # what was read


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


def test_opening_a_shared_url_restores_the_view(checkpoints):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"domain": "mnist", "source": "gallery", "image": "5", "mask": "0.3", "seed": "7"})
    app.run()
    app.switch_page("views/reconstruction.py").run()
    assert not app.exception
    assert app.caption[0].value.startswith("MNIST test #5") and "mask ratio 0.30" in app.caption[0].value
    assert "seed 7" in app.caption[0].value


def test_a_shared_url_with_nonsense_falls_back_to_defaults(checkpoints):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"domain": "radar", "image": "many", "mask": "2.5", "seed": "-1", "source": "x",
                             "talk": "yes", "mae": "../../etc/passwd"})  # fmt: skip
    app.run()
    assert not app.exception and not app.error
    sidebar = app.sidebar
    assert sidebar.radio(key="domain").value == "mnist" and sidebar.radio(key="mnist_source").value == "gallery"
    assert sidebar.number_input(key="mnist_image").value == 0 and sidebar.slider(key="mask_ratio").value == 0.75
    assert sidebar.number_input(key="seed").value == 0 and sidebar.toggle(key="talk").value is False
    assert sidebar.selectbox(key="mnist_mae").value == "mae_mnist.safetensors"  # only listed files can be chosen
    assert app.subheader[0].value.startswith("Current image: MNIST test #0")
    url = {key: "".join(app.query_params[key]) for key in ("domain", "mask", "seed", "source", "image", "mae")}
    assert url == {"domain": "mnist", "mask": "0.75", "seed": "0", "source": "gallery", "image": "0",
                   "mae": "mae_mnist.safetensors"}  # fmt: skip  # rewritten: a copied link no longer carries nonsense


def test_explain_page_shows_rollout_next_to_captum_and_scores_them(checkpoints):
    app = start("views/explain.py")
    texts = grid_texts(plotly_specs(app)[0])
    assert {"<b>MAE</b>", "<b>CAE</b>", "<b>DAE</b>", "rollout", "saliency"} <= set(texts)
    assert "Compared by numbers" in [h.value for h in app.subheader]
    table = app.dataframe[0].value
    mae_maps = set(table[table["model"] == "mae"]["map"])
    assert {"rollout", "saliency", "random"} <= mae_maps and any(m.startswith("CLS attention") for m in mae_maps)
    assert set(table["model"]) == {"mae", "cae", "dae"}
    app.selectbox(key="fusion").set_value("max").run()
    app.selectbox(key="captum_method").set_value("integrated_gradients").run()
    app.selectbox(key="captum_target").set_value("region_error").run()
    assert not app.exception and not app.error
    assert "integrated gradients" in set(app.dataframe[0].value["map"])


def test_latent_page_places_the_current_image_and_rates_clusters(checkpoints):
    app = start("views/latent.py")
    assert not app.exception
    assert any("nearest neighbours" in e.label for e in app.expander)
    assert list(app.table[0].value["model"]) == ["MAE"]  # one large map first; the others on demand
    app.multiselect(key="latent_models").set_value(["mae", "cae", "dae"])
    app.session_state["latent_neighbours"] = True  # open the neighbours: drawn only then
    app.run()
    assert not app.exception and len(app.expander[0].get("image")) == 3  # one strip of neighbours per model
    quality = app.table[0].value
    assert list(quality["model"]) == ["MAE", "CAE", "DAE"] and quality["trustworthiness"].between(0, 1).all()
    app.selectbox(key="colour_by").set_value("model").run()
    assert not app.exception
    app.radio(key="projection_dims").set_value(3)
    app.button[0].click().run()  # the form's Compute button
    assert not app.exception and "3-D" in " ".join(app.caption.values)


def test_models_page_lists_parts_curves_and_weights(checkpoints):
    app = start("views/models.py")
    assert not app.exception
    assert any(h.value.startswith("mae_mnist") and "parameters, latent size" in h.value for h in app.subheader)
    assert not app.get("plotly_chart") and "No training log" in " ".join(app.caption.values)  # tiny test models
    app.session_state["models_tab"] = "Weights"  # only the open tab is drawn
    app.run()
    assert [chart.key for chart in app.get("plotly_chart")] == ["weights_mae"]  # one model's
    assert len(app.dataframe) == 1 and not app.table  # the per-layer table; the Layers tab is closed
    app.get("button_group")[0].set_value("cae").run()
    assert not app.exception and app.subheader[0].value.startswith("cae_mnist")


def test_detection_page_scores_a_generated_patch_and_an_uploaded_scene(sar_checkpoints):
    app = start()
    app.sidebar.radio(key="domain").set_value("sar").run()
    app.sidebar.radio(key="sar_source").set_value("generate").run()
    app.switch_page("views/detection.py").run()
    assert not app.exception and not app.error
    summary = app.dataframe[0].value
    detectors = ["BASELINE", "MAE · random patches", "CAE", "DAE",  # a SAR MAE named by its masking
                 "CONTROL-INPUT", "CONTROL-MEDIAN", "CONTROL-BAND"]  # fmt: skip  # beside no model
    assert list(summary["detector"]) == detectors
    assert summary["roc_auc"].between(0, 1).all()
    grid = grid_texts(plotly_specs(app)[0])
    assert grid == [*detectors, "how many flag"]
    assert len([s for s in app.slider if s.key.startswith("threshold_")]) == len(detectors)
    app.radio(key="detection_show").set_value("score").run()
    assert not app.exception and not app.error
    app.selectbox(key="detection_method").set_value("learned").run()  # no classifier recorded for these
    assert not app.exception and not app.error  # each detector but the baseline is left out:
    assert len(app.warning) == len(detectors) - 1 and all("is left out" in w.value for w in app.warning)
    app.selectbox(key="detection_method").set_value("rfi").run()

    app.sidebar.radio(key="sar_source").set_value("upload").run()  # the sidebar's one uploader, any size
    scene = (np.random.default_rng(0).random((400, 720, 2)) * 255).astype(np.uint8)  # H x W x C, not a patch size
    uploader = app.sidebar.file_uploader(key="sar_upload")
    uploader.upload("scene.npy", npy_bytes(scene), "application/octet-stream").run()
    assert not app.exception and not app.error
    assert "400 x 720 px" in " ".join(app.caption.values)

    app.sidebar.file_uploader(key="sar_upload").upload("three.npy", npy_bytes(scene[..., :1].repeat(3, -1)),
                                                       "application/octet-stream").run()  # fmt: skip
    assert not app.exception
    assert "Upload refused" in app.error[0].value


def test_detection_page_on_mnist_offers_a_switch_to_sar_kept_in_the_url(sar_checkpoints):
    app = start("views/detection.py")
    assert "dual-polarisation SAR" in app.info[0].value
    app.button(key="switch_to_sar").click().run()
    assert not app.exception and app.query_params["domain"] in (["sar"], "sar")
    assert app.title[0].value == "RFI detection" and len(app.dataframe) == 2


def test_talk_mode_is_kept_in_the_url(checkpoints):
    app = start("views/reconstruction.py")
    app.sidebar.toggle(key="talk").set_value(True).run()
    assert not app.exception
    assert app.query_params["talk"] in (["1"], "1")


@pytest.mark.parametrize("domain", ["mnist", "sar"])
def test_every_hostile_upload_gets_a_message_and_the_app_keeps_serving(sar_checkpoints, domain):
    """The hostile corpus through the app, one session: MNIST files into the sidebar's uploader (Reconstruction),
    SAR files into the same uploader on the RFI page (any size). Refused files show their reason; accepted ones
    show no error; no exception ever, and the session keeps working afterwards."""
    cases = [case for case in hostile_files() if case.domain == domain]
    if domain == "mnist":
        app = start("views/reconstruction.py")
        app.sidebar.radio(key="mnist_source").set_value("upload").run()
        uploader = lambda: app.sidebar.file_uploader(key="mnist_upload")  # noqa: E731
    else:
        app = start()
        app.sidebar.radio(key="domain").set_value("sar").run()
        app.switch_page("views/detection.py").run()
        app.multiselect(key="detectors").set_value(["baseline"]).run()
        app.sidebar.radio(key="sar_source").set_value("upload").run()
        uploader = lambda: app.sidebar.file_uploader(key="sar_upload")  # noqa: E731
    for case in cases:
        uploader().upload(case.filename, case.data, "application/octet-stream").run()
        assert not app.exception, case.name
        errors = [e.value for e in app.error]
        if case.expected == "refused":
            assert any("Upload refused" in e and case.message in e for e in errors), (case.name, errors)
        else:
            assert not errors, (case.name, errors)
    if domain == "mnist":
        app.sidebar.radio(key="mnist_source").set_value("gallery").run()
        assert not app.exception and not app.error and "MNIST test #0" in app.caption[0].value
    else:
        app.sidebar.radio(key="sar_source").set_value("gallery").run()
        assert not app.exception and not app.error and len(app.dataframe) == 2  # summary and agreement


def test_the_first_page_and_the_sidebar_need_no_torch():
    """Home renders before torch is imported (cold start): its modules, the checkpoint list and the galleries."""
    code = (
        "import sys; sys.path.insert(0, 'app')\n"
        "import sidebar, widgets, rfi_models.view.viz\n"
        "from rfi_models.view.gallery import checkpoints_by_family, gallery_image\n"
        "grouped, problems = checkpoints_by_family('checkpoints', 'mnist')\n"
        "assert all(grouped.values()) and not problems, (grouped, problems)\n"
        "gallery_image('mnist', 0), gallery_image('sar', 0)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
