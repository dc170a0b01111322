"""Linear CKA and the probe protocol on constructed cases, the staged features of every family, the SAR tiles, and
the latent page drawing the probe and CKA figures from the shipped precomputed study."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_model
from streamlit.testing.v1 import AppTest

from rfi_models import save_checkpoint
from rfi_models.analysis.probes import cka_matrix, label_subset, linear_cka, linear_probe
from rfi_models.analysis.representation import (
    TILE_GRID,
    pixel_features,
    pooled_features,
    pooled_stages,
    random_copy,
    tile_features,
    tile_stages,
)
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.view.representation_view import probe_scores, read_representation, stale_checkpoints
from rfi_models.view.viz import cka_heatmap, probe_depth_figure
from train.evaluate.representation_sar import TILE, tile_sums, window_offsets

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
RNG = np.random.default_rng(0)


def test_cka_is_one_for_identical_features_and_invariant_to_rotation_and_isotropic_scaling():
    x = RNG.standard_normal((500, 12)) @ RNG.standard_normal((12, 12))
    rotation, _ = np.linalg.qr(RNG.standard_normal((12, 12)))
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(x, x @ rotation) == pytest.approx(1.0)
    assert linear_cka(x, 7.5 * x + 3.0) == pytest.approx(1.0)  # scaling, and a shift that centring removes
    assert linear_cka(x @ rotation * 0.1, x) == pytest.approx(1.0)


def test_cka_is_near_zero_for_independent_features_and_below_one_for_a_nonlinear_change():
    x, y = RNG.standard_normal((4000, 10)), RNG.standard_normal((4000, 10))
    assert linear_cka(x, y) < 0.02
    assert 0.05 < linear_cka(x, np.tanh(3 * x) + 0.5 * y) < 0.99
    names, matrix = cka_matrix({"a": x, "b": y, "c": x[:, :5]})
    assert names == ["a", "b", "c"] and np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1)
    with pytest.raises(ValueError, match="same N"):
        linear_cka(x, y[:10])


def separable(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes far apart in 5-D."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    return rng.standard_normal((n, 5)) * 0.3 + np.eye(5)[labels] * 10, labels


def test_a_probe_on_a_separable_set_reaches_every_test_sample():
    (x, y), (x_test, y_test) = separable(600, 1), separable(300, 2)
    for fraction in (0.1, 1.0):
        result = linear_probe(x, y, x_test, y_test, fraction=fraction)
        assert result.test_accuracy == 1.0 and result.validation_accuracy == 1.0


def test_the_probe_protocol_is_reproducible_from_its_seed():
    x, y = RNG.standard_normal((400, 6)), RNG.integers(0, 2, 400)
    x_test, y_test = RNG.standard_normal((200, 6)), RNG.integers(0, 2, 200)
    first, again = (linear_probe(x, y, x_test, y_test, fraction=0.5, seed=3) for _ in range(2))
    assert first.summary() == again.summary()
    assert np.array_equal(label_subset(y, 0.5, 3), label_subset(y, 0.5, 3))
    assert not np.array_equal(label_subset(y, 0.5, 3), label_subset(y, 0.5, 4))
    assert len(label_subset(y, 0.1, 0)) == pytest.approx(40, abs=2)  # stratified: a tenth of each class


@pytest.mark.parametrize("family", ["mae", "cae", "dae"])
def test_staged_features_end_in_the_latent_and_leave_the_shared_model_untouched(family):
    model = tiny_model(family)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(3, 1, 28, 28)
    features = pooled_features(model, x)
    assert list(features) == [stage.name for stage in pooled_stages(model)]
    assert np.allclose(features[pooled_stages(model)[-1].name], model.encode(x).detach().numpy(), atol=1e-6)
    assert all(v.shape[0] == 3 and np.isfinite(v).all() for v in features.values())
    assert not model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


@pytest.mark.parametrize("family", ["mae", "cae", "dae"])
def test_sar_tile_features_give_one_vector_per_tile(family):
    model = tiny_model(family, "sar")
    tiles = tile_features(model, torch.rand(1, 2, 340, 500))
    assert list(tiles) == [stage.name for stage in tile_stages(model)]
    assert all(v.shape[0] == TILE_GRID[0] * TILE_GRID[1] for v in tiles.values())


def test_random_copies_are_seeded_and_differ_from_the_model():
    model = tiny_model("mae")
    first, again = random_copy(model, 0), random_copy(model, 0)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True))
    assert not torch.equal(first.patch_embed.weight, random_copy(model, 1).patch_embed.weight)


def test_tiles_count_their_own_pixels_and_the_pixel_control_keeps_each_tile():
    masks = np.zeros((1, 340, 500), dtype=bool)
    masks[0, 25, 150:180] = True  # tile row 1, column 1: 30 pixels
    sums = tile_sums(masks).reshape(TILE_GRID)
    assert sums[1, 1] == 30 and sums.sum() == 30 and TILE == (20, 100)
    image = torch.zeros(1, 2, 340, 500)
    image[0, 1, 20:40, 100:200] = 1.0
    pixels = pixel_features(image, tiles=True).reshape(*TILE_GRID, -1)
    assert pixels[1, 1].max() == 1.0 and pixels.sum() == pixels[1, 1].sum()
    assert window_offsets(671, 500, 100) == [0, 100] and window_offsets(332, 340, 20) == [0]


def study_document() -> dict:
    stages = {"pixels": [{"name": "pixels", "depth": 0.0, "line": "main"}],
              "mae": [{"name": "embed (mean)", "depth": 0.0, "line": "main"}, {"name": "latent (CLS)", "depth": 1.0,
                                                                               "line": "main"}],
              "mae (random init)": [{"name": "latent (CLS)", "depth": 1.0, "line": "main"}]}  # fmt: skip
    probes = {name: {s["name"]: {"1.0": {"accuracy": 0.5}} for s in entries} for name, entries in stages.items()}
    return {"domain": "mnist", "stages": stages, "probes": probes,
            "checkpoints": {"mae": {"file": "mae_mnist.safetensors", "sha256": "ab"}}}  # fmt: skip


def test_the_figures_and_the_staleness_check_read_a_study():
    study = study_document()
    scores = probe_scores(study, "1.0")
    chart = probe_depth_figure(study["stages"], scores, "test accuracy")
    assert {trace.name for trace in chart.data} == {"MAE", "MAE random init", "pixels"}
    assert [trace.line.dash for trace in chart.data] == ["solid", "dash", "dash"]
    assert cka_heatmap(["a", "b"], np.eye(2)).data[0].zmax == 1
    assert stale_checkpoints(study, {"mae": ("mae_mnist.safetensors", "ab")}) == []
    assert stale_checkpoints(study, {"mae": ("mae_mnist.safetensors", "cd"), "cae": ("x", "y")}) == ["mae", "cae"]


@pytest.mark.parametrize("domain", ["mnist", "sar"])
def test_the_shipped_study_is_of_the_shipped_checkpoints(domain):
    study = read_representation(CHECKPOINTS, domain)
    assert study is not None and study["domain"] == domain
    for family, entry in study["checkpoints"].items():
        assert file_sha256(CHECKPOINTS / entry["file"]) == entry["sha256"], family
    assert set(study["probes"]) >= {"pixels", "mae", "cae", "dae", "mae (random init)"}


def test_the_latent_page_draws_the_probe_and_cka_figures_from_the_shipped_study(monkeypatch):
    monkeypatch.setenv("RFI_MODELS_CHECKPOINTS", str(CHECKPOINTS))
    app = AppTest.from_file("../app/streamlit_app.py", default_timeout=120).run()
    app.switch_page("views/latent.py").run()
    assert not app.exception
    assert "probe_depth" not in [chart.key for chart in app.get("plotly_chart")]  # closed: not drawn
    app.session_state["representation_view"] = True
    app.run()
    assert not app.exception and not app.warning  # the shipped checkpoints are the study's
    charts = {chart.key: json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}
    assert {"probe_depth", "cka"} <= set(charts)
    names = {trace["name"] for trace in charts["probe_depth"]["data"]}
    assert {"MAE", "CAE", "DAE", "pixels", "MAE random init"} <= names
    study = read_representation(CHECKPOINTS, "mnist")
    heatmap, labels = charts["cka"]["data"][0], study["cka"]["stages"]["labels"]
    assert list(heatmap["x"]) == labels and heatmap["z"]["shape"] == f"{len(labels)}, {len(labels)}"


def test_the_latent_page_says_when_the_sidebar_checkpoints_are_not_the_studys(tmp_path, monkeypatch):
    for family in ("mae", "cae", "dae"):
        save_checkpoint(tiny_model(family), tmp_path / f"{family}_mnist.safetensors", domain="mnist")
    shutil.copy(CHECKPOINTS / "representation_mnist.json", tmp_path)
    monkeypatch.setenv("RFI_MODELS_CHECKPOINTS", str(tmp_path))
    app = AppTest.from_file("../app/streamlit_app.py", default_timeout=120).run()
    app.switch_page("views/latent.py").run()
    app.session_state["representation_view"] = True
    app.run()
    assert not app.exception and "not of it" in app.warning[0].value
    assert {"probe_depth", "cka"} <= {chart.key for chart in app.get("plotly_chart")}  # still drawn, with the warning


def test_the_latent_page_draws_the_sar_probes_from_the_shipped_study(monkeypatch):
    monkeypatch.setenv("RFI_MODELS_CHECKPOINTS", str(CHECKPOINTS))
    app = AppTest.from_file("../app/streamlit_app.py", default_timeout=120).run()
    app.sidebar.radio(key="domain").set_value("sar").run()
    app.switch_page("views/latent.py").run()
    app.session_state["representation_view"] = True
    app.run()
    assert not app.exception and not app.warning
    app.radio(key="probe_set").set_value("real RFI patches").run()
    charts = {chart.key: json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}
    assert "cka" not in charts and "real RFI patches" in charts["probe_depth"]["layout"]["title"]["text"]
    assert {"MAE", "CAE", "DAE", "pixels", "DAE random init"} <= {t["name"] for t in charts["probe_depth"]["data"]}
