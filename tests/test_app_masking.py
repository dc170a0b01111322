"""The app shows the MAE's masking: Reconstruction lets the MAE hide random patches or whole rows of patches (what it
saw shows the hidden bands), and in SAR the Explain and RFI detection pages put a second MAE beside the first, each
named by the masking it was trained with, kept in the URL.

Checkpoints are the untrained tiny ones of conftest.py: these tests check what is hidden, drawn and named, not what
the models learned."""

import base64

import numpy as np
from conftest import APP, TINY, plotly_specs, start
from streamlit.testing.v1 import AppTest

import rfi_models
from rfi_models.view.panels import DISPLAY_SIDE

MNIST_GRID_ROWS, MNIST_PATCH = 7, 4  # the MNIST preset's 7 x 7 grid of 4 x 4 patches
SAR_PAIR = ["MAE · random patches", "MAE · rows"]


def seen_hidden(spec: dict, model: str = "MAE") -> np.ndarray:
    """bool [H, W]: the pixels a model's 'what the model saw' panel leaves without a value (hidden, drawn grey)."""
    trace = next(t for t in spec["data"] if t.get("name", "").startswith(f"<b>{model}") and t["name"].endswith("input"))
    z = trace["z"]
    if isinstance(z, dict):  # plotly's typed array
        shape = tuple(int(n) for n in z["shape"].split(","))
        z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)
    return np.isnan(np.asarray(z, dtype=np.float64))


def row_labels(spec: dict) -> list[str]:
    """A grid's row labels (the models), first lines."""
    return [n["text"].split("<br>")[0] for n in spec["layout"]["annotations"] if n["text"].startswith("<b>")]


def param(app: AppTest, key: str) -> str:
    value = app.query_params[key]
    return value[0] if isinstance(value, list) else value


def sar_app(page: str | None = None, **query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    app.query_params.update({"domain": "sar", **query})
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception and not app.error
    return app


def test_the_masking_control_hides_random_patches_or_whole_rows(checkpoints):
    app = start("views/reconstruction.py")
    control = app.radio(key="mae_scheme_mae_mnist.safetensors")
    assert control.value == "random"  # the scheme this MAE was trained with
    assert "hiding random patches (grey)" in app.caption[0].value
    hidden = seen_hidden(plotly_specs(app)[0])
    assert 0.7 < hidden.mean() < 0.8 and not (hidden.all(axis=1) == hidden.any(axis=1)).all()  # rows cut in parts

    control.set_value("rows").run()
    assert not app.exception and not app.error
    hidden = seen_hidden(plotly_specs(app)[0])
    rows = hidden.any(axis=1)
    assert (hidden.all(axis=1) == rows).all(), "a row of pixels is hidden across the whole width or not at all"
    bands = rows.reshape(MNIST_GRID_ROWS, MNIST_PATCH)
    assert (bands.all(axis=1) == bands.any(axis=1)).all(), "whole rows of patches"
    assert round(0.75 * MNIST_GRID_ROWS) == bands.all(axis=1).sum()  # the mask ratio in whole rows
    caption = app.caption[0].value
    assert f"hiding rows of patches ({5 / 7:.2f} of the image, grey), trained on random patches" in caption


def test_a_rows_trained_sar_mae_hides_rows_by_default_and_says_so(two_sar_maes):
    app = sar_app("views/reconstruction.py", mae="mae_rows_sar.safetensors")
    assert app.radio(key="mae_scheme_mae_rows_sar.safetensors").value == "rows"
    spec = plotly_specs(app)[0]
    assert row_labels(spec) == ["<b>MAE · rows</b>", "<b>CAE</b>", "<b>DAE</b>"]  # one MAE on this page
    hidden = seen_hidden(spec)
    assert hidden.any() and (hidden.all(axis=1) == hidden.any(axis=1)).all()  # bands across the width
    assert max(hidden.shape) <= DISPLAY_SIDE  # shown every n-th pixel: the bands still span the panel
    assert "hiding rows of patches" in next(c.value for c in app.caption if "mask ratio" in c.value)
    app.radio(key="mae_scheme_mae_rows_sar.safetensors").set_value("random").run()
    assert not app.exception
    hidden = seen_hidden(plotly_specs(app)[0])
    assert not (hidden.all(axis=1) == hidden.any(axis=1)).all()


def test_band_inpainters_are_named_by_their_rows_and_show_the_bands_they_hide(sar_checkpoints):
    for family in ("cae", "dae"):
        model = rfi_models.create_model(family, "sar", **TINY[family], inpaint=True)
        rfi_models.save_checkpoint(model, sar_checkpoints / f"{family}_rows_sar.safetensors", domain="sar")
    app = sar_app("views/reconstruction.py", cae="cae_rows_sar.safetensors", dae="dae_rows_sar.safetensors")
    spec = plotly_specs(app)[0]
    assert row_labels(spec) == ["<b>MAE · random patches</b>", "<b>CAE · rows</b>", "<b>DAE · rows</b>"]
    for family in ("CAE", "DAE"):
        hidden = seen_hidden(spec, family)
        rows = hidden.any(axis=1)
        assert (hidden.all(axis=1) == rows).all(), "bands across the whole width"
        assert 0.4 < rows.mean() < 0.6  # one of the 2 covering masks: every other 20-row band


def test_explain_and_detection_put_the_two_sar_maes_side_by_side(two_sar_maes):
    app = sar_app("views/explain.py")
    assert app.sidebar.selectbox(key="sar_mae2_mae_sar.safetensors").value == "mae_rows_sar.safetensors"
    spec = plotly_specs(app)[0]
    assert row_labels(spec) == [f"<b>{name}</b>" for name in [*SAR_PAIR, "CAE", "DAE"]]
    table = app.dataframe[0].value
    for key in ("mae · random patches", "mae · rows"):  # both get their rollout and CLS attention
        maps = set(table[table["model"] == key]["map"])
        assert {"rollout", "saliency", "random"} <= maps and any(m.startswith("CLS attention") for m in maps)

    app.switch_page("views/detection.py").run()
    assert not app.exception and not app.error
    detectors = list(app.dataframe[0].value["detector"])
    assert [d for d in detectors if d.startswith("MAE")] == SAR_PAIR
    titles = [n["text"] for n in plotly_specs(app)[0]["layout"]["annotations"]]
    assert set(SAR_PAIR) <= set(titles)
    assert set(SAR_PAIR) <= set(app.dataframe[1].value.columns)  # the agreement table names them too

    app.sidebar.selectbox(key="sar_mae2_mae_sar.safetensors").set_value("none").run()
    assert not app.exception and not app.error
    assert [d for d in app.dataframe[0].value["detector"] if d.startswith("MAE")] == SAR_PAIR[:1]


def test_one_sar_mae_gives_one_mae_row(sar_checkpoints):
    app = sar_app("views/explain.py")
    assert not [box for box in app.sidebar.selectbox if box.key.startswith("sar_mae2")]  # nothing to put beside it
    assert row_labels(plotly_specs(app)[0]) == ["<b>MAE · random patches</b>", "<b>CAE</b>", "<b>DAE</b>"]
    assert "mae2" not in app.query_params  # (RFI detection with one SAR MAE: test_app.py's detection test)


def test_the_second_mae_is_kept_in_the_url(two_sar_maes):
    app = sar_app()
    assert param(app, "mae2") == "mae_rows_sar.safetensors"
    app.sidebar.selectbox(key="sar_mae2_mae_sar.safetensors").set_value("none").run()
    assert param(app, "mae2") == "none"

    shared = sar_app(mae="mae_rows_sar.safetensors", mae2="none")  # a copied link restores it
    assert shared.sidebar.selectbox(key="sar_mae2_mae_rows_sar.safetensors").value == "none"
    default = sar_app(mae="mae_rows_sar.safetensors", mae2="../../etc/passwd")  # nonsense: the default, the other
    assert default.sidebar.selectbox(key="sar_mae2_mae_rows_sar.safetensors").value == "mae_sar.safetensors"
    assert param(default, "mae2") == "mae_sar.safetensors"

    default.sidebar.radio(key="domain").set_value("mnist").run()  # MNIST keeps one MAE
    assert not default.exception and "mae2" not in default.query_params
