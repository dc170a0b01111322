"""The benchmark suite (benchmarks/, `make bench`) on tiny sizes, so that it keeps running; no timing is asserted."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from benchmarks import compute_limit, engines, interactive, page_switch, placement, scene_detection, screening
from benchmarks.__main__ import RESULTS, TARGETS, Target, table
from rfi_models.data import load_mnist_sample
from rfi_models.detection.detector import choose_detector
from rfi_models.names import FAMILIES


@pytest.fixture(scope="module")
def mnist_models():
    return interactive.shipped_models("mnist")


def test_interaction_and_integrated_gradients_on_mnist(mnist_models):
    image = interactive.benchmark_image("mnist")
    assert image.shape == (1, 28, 28)
    assert interactive.interact_ms(mnist_models, image, repeats=1) > 0
    per_model = interactive.integrated_gradients_ms(mnist_models, image, repeats=1, steps=4)
    assert sorted(per_model) == sorted(FAMILIES) and min(per_model.values()) > 0


def test_sar_benchmark_image_has_the_model_size():
    assert interactive.benchmark_image("sar").shape == (2, 340, 500)


def test_scene_file_and_end_to_end_detection(tmp_path):
    path = scene_detection.write_scene(tmp_path / "scene.npy", 1100)
    pixels = np.load(path, mmap_mode="r")
    assert pixels.shape == (1100, 1100, 2) and pixels.dtype == np.uint8 and pixels.any()
    run = scene_detection.scene_benchmark(400, repeats=1, warmup=0)
    assert run.size == 400 and run.seconds > 0 and run.mpx_per_s > 0
    assert run.peak_rss_mb > 0 and 0 < run.peak_anonymous_mb <= run.peak_rss_mb


@pytest.mark.slow  # a Dask LocalCluster
def test_screening_with_one_and_two_workers():
    run = screening.screening_benchmark(scenes=2, size=400)
    assert run["scenes"] == 2 and run["seconds_1_workers"] > 0 and run["seconds_2_workers"] > 0
    assert run["speedup"] == run["seconds_1_workers"] / run["seconds_2_workers"]


def test_the_compute_limit_counts_the_default_detectors_tiles():
    checkpoint = Path(choose_detector()[0])
    per_tile, tile = compute_limit.gflop_per_tile(checkpoint)
    one = compute_limit.compute_limit(checkpoint, [tile])  # exactly one tile
    assert per_tile > 0.1 and one["tiles"] == 1 and one["matmul_gflop_per_s"] > 0
    assert one["gflop_per_mpx"] == pytest.approx(per_tile / (tile[0] * tile[1] / 1e6))
    assert one["limit_seconds"] == pytest.approx(per_tile / one["matmul_gflop_per_s"])
    taller = compute_limit.compute_limit(checkpoint, [(tile[0] + 2, tile[1])])  # 2 rows more: a second row of tiles
    assert taller["tiles"] == 2 and taller["gflop_per_mpx"] > one["gflop_per_mpx"]


def test_an_engine_scores_tiles_on_one_and_two_threads():
    assert engines.engine_tiles_per_s("onnx", 2, repeats=1, shape=(400, 600)) > 0


@pytest.mark.slow  # a Dask LocalCluster
def test_the_quicklook_archive_screens_copies_of_the_shipped_quicklooks():
    run = screening.quicklook_archive_benchmark(files=3, workers=1)
    assert run["files"] == 3 and run["quicklooks_per_s"] == pytest.approx(3 / run["seconds_after_load"])
    assert 0 < run["seconds_after_load"] < run["wall_s"] and run["startup_s"] > 0
    assert len(screening.quicklook_shapes(9)) == 9


def test_the_two_process_ceiling_times_the_same_work_in_one_and_two_processes():
    ceiling = screening.parallel_ceiling(tiles=4)
    assert ceiling["seconds_1_process"] > 0 and ceiling["seconds_2_processes"] > 0
    assert ceiling["speedup"] == pytest.approx(2 * ceiling["seconds_1_process"] / ceiling["seconds_2_processes"], 1e-3)


def test_placement_in_a_small_map(mnist_models):
    images, _ = load_mnist_sample()
    per_map = placement.placement_ms(mnist_models["mae"], images[:300, None], repeats=1)
    assert sorted(per_map) == ["pca", "stored"] and min(per_map.values()) > 0


def test_training_throughput_against_transformers():
    pytest.importorskip("transformers")
    from benchmarks import training

    images, _ = load_mnist_sample()
    result = training.training_throughput(images[:64, None], batch_size=16, rounds=1, steps_per_round=1,
                                          warmup_steps=1)  # fmt: skip
    runs = ("ours", "ours_default_attention", "transformers_sdpa", "transformers_eager")
    work = {"ours_gflop_per_step", "transformers_gflop_per_step", "matmul_gflop_per_s"}
    assert set(result) == {*(f"{run}_img_per_s" for run in runs), "ratio", *work}
    assert result["ours_gflop_per_step"] == pytest.approx(result["transformers_gflop_per_step"])  # the same work
    assert result["ratio"] > 0


@pytest.mark.slow  # a real Chromium
def test_cold_start_in_headless_chromium():
    pytest.importorskip("playwright.sync_api")
    from benchmarks import cold_start

    if not cold_start.CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    assert cold_start.cold_start_seconds(repeats=1, warmup=0) > 0


def test_targets_and_table():
    assert Target("x", 5).met(5) and not Target("x", 5).met(6)
    assert Target("x", 1.0, at_least=True).met(1.5) and not Target("x", 1.0, at_least=True).met(0.5)
    text = table({"place_ms": 12.0, "scene_mpx_per_s": 0.5})
    assert "place_ms" in text and "yes" in text and "NO" in text


def test_recorded_results_cover_every_target():
    recorded = json.loads(RESULTS.read_text())
    assert set(TARGETS) <= set(recorded)
    assert recorded["met"] == {key: TARGETS[key].met(recorded[key]) for key in TARGETS}


def test_the_page_switch_benchmark_visits_every_page_of_the_app():
    app = (Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py").read_text()
    assert list(page_switch.PAGES) == re.findall(r'st\.Page\("views/\w+\.py", title="([^"]+)"', app)
