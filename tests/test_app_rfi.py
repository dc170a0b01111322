"""The app on real RFI: the SAR gallery opens on a real Sentinel-1 patch with its hand-drawn boxes drawn as the
truth on every grid, and the detection page draws each detector's stripes and scores them against the boxes.

Checkpoints are the untrained tiny ones of conftest.py (fixed thresholds): these tests check what is drawn and
counted, not what the models learned."""

import numpy as np
from conftest import npy_bytes, plotly_specs, start

from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.detection.baseline import baseline_scores
from rfi_models.detection.stripes import find_stripes
from rfi_models.view.panels import IGNORE_BOX, STRIPE_BOX, TRUTH_BOX


def rects(spec: dict, colour: str, xref: str | None = None) -> list[tuple[float, float, float, float]]:
    """The figure's rectangles of one colour (on one panel's x axis when given) as (x0, x1, y0, y1)."""
    return [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in spec["layout"].get("shapes", [])
            if s["type"] == "rect" and s["line"]["color"] == colour and xref in (None, s["xref"])]  # fmt: skip


def panel_count(spec: dict) -> int:
    """How many panels the grid draws (its image heat maps; empty cells have axes but no trace)."""
    return len({trace["xaxis"] for trace in spec["data"] if "coloraxis" in trace})


def sar_app(page: str):
    app = start()
    app.sidebar.radio(key="domain").set_value("sar").run()
    app.switch_page(page).run()
    assert not app.exception and not app.error
    return app


def test_the_sar_gallery_opens_on_a_real_rfi_patch_and_draws_its_boxes(sar_checkpoints):
    app = sar_app("views/reconstruction.py")
    assert app.sidebar.selectbox(key="sar_image").value == "one"  # the default: a real patch
    assert app.query_params["sar_image"] in (["one"], "one")
    caption = next(c.value for c in app.caption if "mask ratio" in c.value)
    assert caption.startswith("real Sentinel-1 with real RFI: one") and "RFI green" in caption
    assert any(e.label.startswith("Whole image (332 x 512): window") for e in app.expander)  # through a window
    grid = plotly_specs(app)[0]
    patch = real_rfi_patches()["one"]
    (row0, row1, col0, col1), = patch.boxes  # fmt: skip
    top, left = (int(app.query_params[k][0] if isinstance(app.query_params[k], list) else app.query_params[k])
                 for k in ("wtop", "wleft"))  # fmt: skip
    expected = (col0 - left - 0.5, col1 - left - 0.5, row0 - top - 0.5, row1 - top - 0.5)
    assert rects(grid, TRUTH_BOX) == [expected] * panel_count(grid)  # the box on every panel, in window pixels
    assert len(rects(grid, IGNORE_BOX)) == panel_count(grid)  # and the ignore box, drawn differently:
    assert {s["line"]["dash"] for s in grid["layout"]["shapes"] if s["line"]["color"] == IGNORE_BOX} == {"dash"}

    app.switch_page("views/detection.py").run()  # the whole patch, the boxes in its own pixels
    assert not app.exception and not app.error
    detection = plotly_specs(app)[0]
    assert rects(detection, TRUTH_BOX, "x") == [(col0 - 0.5, col1 - 0.5, row0 - 0.5, row1 - 0.5)]
    summary = app.dataframe[0].value
    assert {"stripes", "box recall @IoU 0.5", "box precision @IoU 0.5"} <= set(summary.columns)
    assert summary["box recall @IoU 0.5"].between(0, 1).all() and (summary["stripes"] >= 0).all()

    app.sidebar.selectbox(key="sar_image").set_value("tree").run()
    assert not app.exception and not app.error
    assert len(rects(plotly_specs(app)[0], TRUTH_BOX, "x")) == len(real_rfi_patches()["tree"].boxes)
    app.sidebar.selectbox(key="sar_image").set_value("3").run()  # synthetic patches follow, truth as a mask
    assert not app.exception and not rects(plotly_specs(app)[0], TRUTH_BOX)
    assert "box recall @IoU 0.5" not in app.dataframe[0].value.columns


def test_the_detection_page_draws_the_stripes_of_a_constructed_patch(sar_checkpoints):
    """One bright VH stripe (rows 150-159, columns 100-399) on a flat noisy background: the baseline's strongest
    stripe is that box, drawn as a rectangle on the baseline's panel and counted in the summary."""
    rng = np.random.default_rng(0)
    pixels = rng.normal(70, 4, (340, 500, 2))
    pixels[150:160, 100:400, 1] += 90
    pixels = pixels.clip(1, 255).astype(np.uint8)
    app = sar_app("views/detection.py")
    app.multiselect(key="detectors").set_value(["baseline"]).run()
    app.sidebar.radio(key="sar_source").set_value("upload").run()
    app.sidebar.file_uploader(key="sar_upload").upload("stripe.npy", npy_bytes(pixels), "application/octet-stream")
    app.run()
    assert not app.exception and not app.error
    spec = plotly_specs(app)[0]
    drawn = rects(spec, STRIPE_BOX, "x")
    assert drawn[0] == (99.5, 399.5, 149.5, 159.5)  # the strongest first
    threshold = next(s.value for s in app.slider if s.key.startswith("threshold_baseline"))
    expected = find_stripes(baseline_scores(pixels.transpose(2, 0, 1)[None] / np.float32(255))[0], threshold)
    assert app.dataframe[0].value["stripes"].tolist() == [len(expected)]
    assert len(drawn) == min(len(expected), 40) and not rects(spec, STRIPE_BOX, "x2")  # none on the agreement panel
