"""The screening CLI on Dask: a LocalCluster and an external scheduler, refused scenes, georeferencing, resume."""

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine

from rfi_models.data import synthetic_sar
from rfi_models.detection.detector import Detector
from rfi_models.detection.stripes import find_stripes
from rfi_models.io import read_georef
from rfi_models.io.geojson import LONLAT, PIXELS
from rfi_models.screen.cli import main
from rfi_models.screen.inputs import ArgumentError, scene_inputs
from rfi_models.screen.work import MAX_LISTED_STRIPES, DetectorSpec, SceneWriter

ROOT = Path(__file__).resolve().parents[1]
SENTINEL1 = ROOT.parent / "shared" / "data" / "sentinel1"
SAFE_ZIP = "S1A_IW_GRDH_1SDV_20210119T031653_20210119T031718_036201_043ED0_8255.zip"
EW_PRODUCT = "S1A_EW_GRDM_1SDH_20221130T014342_20221130T014446_046117_058549_BB15"
QUICKLOOK = "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB.quick-look.png"
THRESHOLD = 6.0  # the baseline's score; explicit, so that no run calibrates
TRANSFORM = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 4600000.0)
CRS_UTM = CRS.from_epsg(32631)


def scene_pixels(height, width, seed):
    images, _ = synthetic_sar(1, height, width, seed=seed, rfi_probability=1.0, rfi_strength_db=(10.0, 20.0))
    return np.rint(images[0] * 255).astype(np.uint8)  # [2, H, W]


def write_geotiff_scene(path, pixels, **georef):
    profile = {"driver": "GTiff", "height": pixels.shape[1], "width": pixels.shape[2], "count": 2, "dtype": "uint8"}
    with rasterio.open(path, "w", **profile, **georef) as dataset:
        dataset.write(pixels)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Three scenes in nested folders: a georeferenced GeoTIFF, an .npy of two bands of tiles, and a bad file."""
    folder = tmp_path_factory.mktemp("archive")
    (folder / "a" / "b").mkdir(parents=True)
    scenes = {"geo": scene_pixels(360, 520, seed=1), "wide": scene_pixels(700, 1100, seed=2)}
    write_geotiff_scene(folder / "a" / "geo.tif", scenes["geo"], transform=TRANSFORM, crs=CRS_UTM)
    np.save(folder / "a" / "b" / "wide.npy", scenes["wide"].transpose(1, 2, 0))
    (folder / "bad.npy").write_bytes(b"this is not an array")
    return folder, scenes


def screen_args(inputs, out_dir, *extra):
    return [*map(str, inputs), "--out-dir", str(out_dir), "--checkpoint", "baseline", "--threshold", str(THRESHOLD),
            "--tiles-per-band", "6", *extra]  # fmt: skip


def read_band(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as dataset:
            return dataset.read(1), dataset.transform, dataset.crs, dataset.gcps


def expected_scores(pixels):
    return Detector.baseline(THRESHOLD).score(pixels.astype(np.float32) / 255)


def box(stripe):
    return stripe["row0"], stripe["row1"], stripe["col0"], stripe["col1"]


def check_outputs(out_dir, scenes, with_scores=True):
    rows = {Path(row["input"]).name: row for row in summary_rows(out_dir)}
    assert {"bad.npy", "geo.tif", "wide.npy"} <= set(rows)
    assert rows["bad.npy"]["status"].startswith("refused: this is a text file, not an image; accepted: ")
    assert not (out_dir / "bad.mask.tif").exists()
    for name, pixels in scenes.items():
        row = rows[f"{name}{'.tif' if name == 'geo' else '.npy'}"]
        assert row["status"] == "ok" and (row["height"], row["width"]) == pixels.shape[1:]
        mask, *_ = read_band(out_dir / f"{name}.mask.tif")
        expected = expected_scores(pixels)
        if with_scores:
            scores, *_ = read_band(out_dir / f"{name}.scores.tif")
            assert scores.dtype == np.float32 and np.allclose(scores, expected, rtol=1e-5, atol=1e-5)
        assert (out_dir / f"{name}.scores.tif").exists() == with_scores
        assert np.array_equal(mask > 0, expected >= THRESHOLD) and set(np.unique(mask)) <= {0, 255}
        assert row["flagged_share"] == pytest.approx((expected >= THRESHOLD).mean())
        stripes = json.loads(row["stripe_list"])
        assert row["stripes"] >= len(stripes) > 0
        assert all(s["row0"] <= s["row1"] < pixels.shape[1] and s["peak"] >= THRESHOLD for s in stripes)
        reference = find_stripes(expected, THRESHOLD)  # the boxes detect --boxes writes
        assert [box(s) for s in stripes] == [box(s) for s in reference[:MAX_LISTED_STRIPES]]
        assert [s["score"] for s in stripes] == pytest.approx([s["score"] for s in reference[:MAX_LISTED_STRIPES]])
        boxes = json.loads(Path(row["stripes_geojson"]).read_text())
        assert row["stripes_geojson"] == str(out_dir / f"{name}.stripes.geojson") and boxes["detector"] == "baseline"
        assert [box(f["properties"]) for f in boxes["features"]] == [box(s) for s in reference]
        assert boxes["coordinate_system"] == (LONLAT if row["georeferenced"] else PIXELS)
    return rows


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    """A list naming real Sentinel-1 inputs: a SAFE zip, a SAFE folder with the processor's RFI annotation (both
    read as their quick-look, with ground control points) and a quick-look PNG."""
    if not SENTINEL1.is_dir():
        return []
    folder = tmp_path_factory.mktemp("products")
    shutil.copy(SENTINEL1 / "safe" / SAFE_ZIP, folder / SAFE_ZIP)
    with zipfile.ZipFile(folder / SAFE_ZIP) as archive:
        archive.extractall(folder / "extracted")
    safe = next((folder / "extracted").glob("*.SAFE"))
    shutil.copytree(SENTINEL1 / "safe" / EW_PRODUCT / "annotation" / "rfi", safe / "annotation" / "rfi")
    listing = folder / "products.txt"
    listing.write_text(f"{SAFE_ZIP}\n{safe}\n{SENTINEL1 / 'quicklooks' / QUICKLOOK}\n")
    return [listing]


@pytest.mark.slow  # a Dask LocalCluster
def test_local_cluster_of_two_workers_screens_an_archive_with_a_bad_scene(archive, products, tmp_path, capsys):
    folder, scenes = archive
    assert main(screen_args([folder, *products], tmp_path, "--workers", "2")) == 3
    rows = check_outputs(tmp_path, scenes)
    assert rows["geo.tif"]["georeferenced"] and not rows["wide.npy"]["georeferenced"]
    _, transform, crs, _ = read_band(tmp_path / "geo.mask.tif")
    assert transform == TRANSFORM and crs == CRS_UTM  # the georeference round trip
    total = 3 + 3 * bool(products)
    assert f"{total - 1} screened, 1 refused" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    if products:
        assert all(rows[name]["status"] == "ok" for name in (SAFE_ZIP, QUICKLOOK))
        _, _, crs, (points, _) = read_band(rows[SAFE_ZIP]["mask"])  # named with a hash: the SAFE has its name
        assert len(points) == 210 and rows[SAFE_ZIP]["georeferenced"]  # GCPs from the product's annotation
        safe_row = next(row for row in rows.values() if row["input"].endswith(".SAFE"))
        assert safe_row["status"] == "ok" and safe_row["processor_rfi"].startswith("processor RFI annotation: ")
    # a rerun skips the complete scenes and tries the refused one again
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.tif")}
    assert main(screen_args([folder, *products], tmp_path, "--workers", "1")) == 3
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.tif")} == before
    assert f"{total} scenes, {total - 1} done before" in capsys.readouterr().err


@pytest.mark.slow  # a Dask scheduler and worker
def test_external_scheduler_and_worker_processes(archive, tmp_path):
    folder, scenes = archive
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    address_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    common = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([*dask, "scheduler", "--port", "0", "--no-dashboard", "--host", "127.0.0.1",
                                  "--scheduler-file", str(address_file)], **common)  # fmt: skip
    worker = None
    try:
        for _ in range(600):
            if address_file.exists() and address_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        worker = subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **common)
        out_dir = tmp_path / "out"
        assert main(screen_args([folder], out_dir, "--scheduler", address, "--no-scores")) == 3
        check_outputs(out_dir, scenes, with_scores=False)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)


def test_georeference_with_ground_control_points_round_trips(tmp_path):
    gcps = [GroundControlPoint(0, 0, 12.5, 41.9, 0.0), GroundControlPoint(0, 99, 12.6, 41.9, 0.0),
            GroundControlPoint(79, 0, 12.5, 41.8, 0.0), GroundControlPoint(79, 99, 12.6, 41.8, 0.0)]  # fmt: skip
    source = tmp_path / "radar.tif"
    write_geotiff_scene(source, scene_pixels(80, 100, seed=3), gcps=gcps, crs=CRS.from_epsg(4326))
    georef = read_georef(source)
    assert georef is not None and georef.transform is None and len(georef.gcps) == 4
    scores = np.random.default_rng(0).random((80, 100)).astype(np.float32)
    spec = DetectorSpec("baseline", "", 0.5, "baseline")
    with SceneWriter(tmp_path, "radar", (80, 100), spec, georef, with_scores=True) as writer:
        writer.write(0, scores[:30])
        writer.write(30, scores[30:])
    for name in ("radar.mask.tif", "radar.scores.tif"):
        _, _, _, (points, crs) = read_band(tmp_path / name)
        assert crs == CRS.from_epsg(4326)
        assert [(p.row, p.col, p.x, p.y) for p in points] == [(p.row, p.col, p.x, p.y) for p in gcps]
    assert np.array_equal(read_band(tmp_path / "radar.scores.tif")[0], scores)
    assert np.array_equal(read_band(tmp_path / "radar.mask.tif")[0], (scores >= 0.5) * 255)
    assert writer.fields["flagged_share"] == (scores >= 0.5).mean() and writer.fields["georeferenced"]
    boxes = json.loads((tmp_path / "radar.stripes.geojson").read_text())
    assert boxes["coordinate_system"] == LONLAT and boxes["source_crs"] == "EPSG:4326"
    lonlat = np.concatenate([np.asarray(f["geometry"]["coordinates"][0]) for f in boxes["features"]])
    assert len(boxes["features"]) == writer.fields["stripes"] > 0
    assert (lonlat[:, 0] >= 12.5 - 1e-9).all() and (lonlat[:, 0] <= 12.6 + 2e-3).all()  # within the GCPs' extent


def test_inputs_from_folders_and_lists(tmp_path):
    (tmp_path / "x").mkdir()
    for name in ("x/one.npy", "x/two.tif", "x/notes.md", "x/.hidden.npy", "three.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "S1A_IW_GRDH.SAFE" / "measurement").mkdir(parents=True)
    (tmp_path / "S1A_IW_GRDH.SAFE" / "measurement" / "vv.tiff").write_bytes(b"")
    listing = tmp_path / "scenes.txt"
    listing.write_text("# my scenes\nthree.png\n\nx\n")
    names = [scene.name for scene in scene_inputs([listing, tmp_path / "S1A_IW_GRDH.SAFE"])]
    assert names == ["three", "one", "two", "S1A_IW_GRDH"]
    with pytest.raises(ArgumentError, match="no such file"):
        scene_inputs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArgumentError, match="no scene in this folder"):
        scene_inputs([tmp_path / "empty"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "0"], "--workers must be at least 1"),
        (["--checkpoint", "nothing.safetensors"], "nothing"),
        (["--scheduler", "tcp://127.0.0.1:9", "--checkpoint", "baseline", "--threshold", "6"], "cannot reach"),
    ],
)
def test_bad_arguments_exit_2(archive, tmp_path, capsys, extra, message):
    folder, _ = archive
    args = [str(folder), "--out-dir", str(tmp_path), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def summary_rows(out_dir) -> list[dict]:
    """The rows of DIR/summary.parquet, read in one open: a running screen replaces the file (atomically) after
    each scene, and `pq.read_table(path)` opens a path twice (footer, then pages), so it can mix two versions."""
    return pq.read_table(pa.BufferReader((Path(out_dir) / "summary.parquet").read_bytes())).to_pylist()


def read_outputs(out_dir):
    """Every final output of a screening folder: pixel arrays of the GeoTIFFs and the summary rows (without the
    run-dependent seconds and output folder)."""
    found = {p.name: read_band(p)[0] for p in sorted(out_dir.glob("[!.]*.tif"))}
    if (out_dir / "summary.parquet").exists():
        for row in summary_rows(out_dir):
            found[row["input"]] = {
                k: v for k, v in row.items() if k not in ("seconds", "mask", "scores", "stripes_geojson")
            }
    found |= {p.name: p.read_text() for p in sorted(out_dir.glob("[!.]*.geojson"))}
    return found


def same(observed, reference):
    return observed.keys() <= reference.keys() and all(
        np.array_equal(value, reference[key]) if isinstance(value, np.ndarray) else value == reference[key]
        for key, value in observed.items()
    )


@pytest.mark.slow  # SIGKILL of a run and its cluster
def test_killed_run_then_rerun_gives_the_outputs_of_an_uninterrupted_run(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for seed in range(5):
        np.save(inputs / f"s{seed}.npy", scene_pixels(700, 1100, seed=seed).transpose(1, 2, 0))
    (inputs / "bad.npy").write_bytes(b"\x93NUMPY broken")

    def command(out_dir):
        return [sys.executable, "-m", "rfi_models.screen", *screen_args([inputs], out_dir, "--workers", "1")]

    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    subprocess.run(command(tmp_path / "reference"), env=env, check=False, capture_output=True, timeout=600)
    reference = read_outputs(tmp_path / "reference")
    assert len([key for key in reference if key.endswith(".mask.tif")]) == 5

    run = subprocess.Popen(command(tmp_path / "out"), env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    summary = tmp_path / "out" / "summary.parquet"
    try:
        while run.poll() is None:  # every file at a final path, whenever seen, is complete and final
            if summary.exists() and any(row["status"] == "ok" for row in summary_rows(summary.parent)):  # one done
                os.killpg(run.pid, 9)  # the driver, its local cluster and workers at once
                break
            assert same(read_outputs(tmp_path / "out") if (tmp_path / "out").exists() else {}, reference)
            time.sleep(0.01)
    finally:
        run.wait(timeout=60)
    assert same(read_outputs(tmp_path / "out"), reference)
    assert run.returncode == -9
    screened = [row["status"] for row in summary_rows(summary.parent)].count("ok")
    assert 1 <= screened < 5  # killed mid-way
    rerun = subprocess.run(command(tmp_path / "out"), env=env, check=False, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 3, rerun.stderr
    assert f"6 scenes, {screened} done before" in rerun.stderr  # the refused scene is tried again
    final = read_outputs(tmp_path / "out")
    assert final.keys() == reference.keys() and same(final, reference)
    assert not list((tmp_path / "out").glob(".*"))  # the killed run's temporary files are gone
