"""`python -m rfi_models.detect --boxes`: RFI stripes as GeoJSON, in longitude/latitude from a georeferenced GeoTIFF
(its CRS named, the corners where the transform puts them) and in pixels from an .npy; bad paths refused clearly."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform as transform_points

from rfi_models.detect import main
from rfi_models.detection.stripes import find_stripes
from rfi_models.io.geojson import LONLAT, PIXELS, stripes_collection
from rfi_models.io.info import Georef

THRESHOLD = 6.0  # the baseline's score, explicit: no calibration
TRANSFORM = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 4600000.0)  # 10 m pixels, north up, in UTM zone 31N
RFI_ROWS, RFI_COLS = (60, 72), (40, 260)  # the constructed stripe, end-exclusive


def constructed_scene() -> np.ndarray:
    """uint8 [2, 200, 300]: speckle-free noise with one bright VH stripe of 12 rows."""
    rng = np.random.default_rng(0)
    pixels = np.clip(90 + 8 * rng.standard_normal((2, 200, 300)), 1, 255)
    pixels[1, slice(*RFI_ROWS), slice(*RFI_COLS)] = 230
    return pixels.astype(np.uint8)


@pytest.fixture(scope="module")
def geotiff(tmp_path_factory):
    path = tmp_path_factory.mktemp("geo") / "scene.tif"
    pixels = constructed_scene()
    profile = {"driver": "GTiff", "height": 200, "width": 300, "count": 2, "dtype": "uint8"}
    with rasterio.open(path, "w", **profile, transform=TRANSFORM, crs=CRS.from_epsg(32631)) as dataset:
        dataset.write(pixels)
    return path


def run_detect(source, folder, *extra):
    outputs = ["--out", str(folder / "mask.npy"), "--scores", str(folder / "scores.npy"), *extra]
    return main([str(source), "--checkpoint", "baseline", "--threshold", str(THRESHOLD), *outputs])


def box(feature) -> tuple[int, int, int, int]:
    return tuple(feature["properties"][key] for key in ("row0", "row1", "col0", "col1"))


def test_georeferenced_input_gives_lonlat_polygons_at_the_ground_coordinates_of_the_transform(geotiff, tmp_path):
    assert run_detect(geotiff, tmp_path, "--boxes", str(tmp_path / "stripes.geojson")) == 0
    collection = json.loads((tmp_path / "stripes.geojson").read_text())
    assert collection["type"] == "FeatureCollection" and collection["coordinate_system"] == LONLAT
    assert collection["source_crs"] == "EPSG:32631" and "crs" not in collection  # RFC 7946: lon/lat only
    assert collection["detector"] == "baseline" and collection["threshold"] == THRESHOLD
    expected = find_stripes(np.load(tmp_path / "scores.npy"), THRESHOLD)
    assert [box(f) for f in collection["features"]] == [(s["row0"], s["row1"], s["col0"], s["col1"]) for s in expected]
    rfi = next(f for f in collection["features"] if f["properties"]["row0"] <= RFI_ROWS[0] < f["properties"]["row1"])
    row0, row1, col0, col1 = box(rfi)
    assert (row0, row1) == (RFI_ROWS[0], RFI_ROWS[1] - 1) and col0 < col1 and RFI_COLS[0] <= col0 < col1 < RFI_COLS[1]
    props = rfi["properties"]
    assert props["detector"] == "baseline" and props["peak"] >= props["score"] >= THRESHOLD
    # the box's pixel-edge corners through the transform (UTM metres), then to lon/lat by GDAL's point transform
    corners = [(col0, row0), (col0, row1 + 1), (col1 + 1, row1 + 1), (col1 + 1, row0)]
    eastings, northings = zip(*(TRANSFORM @ corner for corner in corners), strict=True)
    assert eastings[0] == 500000.0 + 10 * col0 and northings[0] == 4600000.0 - 10 * row0
    lons, lats = transform_points(CRS.from_epsg(32631), CRS.from_epsg(4326), eastings, northings)
    ring = np.asarray(rfi["geometry"]["coordinates"][0])
    assert rfi["geometry"]["type"] == "Polygon" and np.array_equal(ring[0], ring[-1])
    for lon, lat in zip(lons, lats, strict=True):
        assert np.abs(ring - (lon, lat)).max(axis=1).min() < 1e-6  # each corner is a vertex (1e-6 degree ~ 0.1 m)
    assert ring[:, 0].min() > 2.99 and ring[:, 0].max() < 3.05 and 41.5 < ring[:, 1].min() < ring[:, 1].max() < 41.6
    x, y = ring[:, 0], ring[:, 1]
    assert np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) > 0  # counter-clockwise (RFC 7946's right-hand rule)


def test_npy_input_gives_pixel_coordinates(tmp_path):
    np.save(tmp_path / "scene.npy", constructed_scene().transpose(1, 2, 0))
    assert run_detect(tmp_path / "scene.npy", tmp_path, "--boxes", str(tmp_path / "stripes.geojson")) == 0
    collection = json.loads((tmp_path / "stripes.geojson").read_text())
    assert collection["coordinate_system"] == PIXELS and collection["source_crs"] is None
    assert collection["image"] == {"height": 200, "width": 300} and collection["features"]
    for feature in collection["features"]:
        row0, row1, col0, col1 = box(feature)
        ring = np.asarray(feature["geometry"]["coordinates"][0])
        assert (ring[:, 0].min(), ring[:, 0].max(), ring[:, 1].min(), ring[:, 1].max()) == (
            col0,
            col1 + 1,
            row0,
            row1 + 1,
        )
        assert {(col0, row0), (col1 + 1, row0), (col1 + 1, row1 + 1), (col0, row1 + 1)} <= set(map(tuple, ring))


def test_ground_control_points_give_lonlat_through_gdals_gcp_transformer():
    gcps = ((0.0, 0.0, 12.5, 41.9, 0.0), (0.0, 100.0, 12.6, 41.9, 0.0), (80.0, 0.0, 12.5, 41.8, 0.0),
            (80.0, 100.0, 12.6, 41.8, 0.0))  # fmt: skip
    georef = Georef(CRS.from_epsg(4326).to_wkt(), "EPSG:4326", gcps=gcps)
    stripe = {"row0": 0, "row1": 39, "col0": 0, "col1": 49, "peak": 2.0, "score": 1.5}
    ring = np.asarray(
        stripes_collection([stripe], georef, "x", 1.0, (80, 100))["features"][0]["geometry"]["coordinates"][0]
    )
    # an exact affine fit: pixel (row 40, col 50) edge is half-way in both directions
    assert (
        np.abs(ring - (12.55, 41.85)).max(axis=1).min() < 1e-7 and np.abs(ring - (12.5, 41.9)).max(axis=1).min() < 1e-7
    )


def test_a_point_every_edge_step_pixels_keeps_long_edges_dense():
    stripe = {"row0": 0, "row1": 9, "col0": 0, "col1": 999, "peak": 1.0, "score": 1.0}
    ring = stripes_collection([stripe], None, "x", 1.0, (10, 1000))["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 2 * 16 + 2 * 1 + 1  # 1000 columns in steps of at most 64: 16 segments per long edge


@pytest.mark.parametrize(("name", "message"), [
    ("folder", "is a folder"), ("missing/stripes.geojson", "is not an existing folder"),
    ("file.txt/stripes.geojson", "is not an existing folder"), ("stripes.txt", "must end in .geojson"),
])  # fmt: skip
def test_bad_boxes_path_is_refused_with_one_line_before_any_work(geotiff, tmp_path, capsys, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("")
    assert run_detect(geotiff, tmp_path, "--boxes", str(tmp_path / name)) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "mask.npy").exists() and not (tmp_path / "scores.npy").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_unwritable_boxes_folder_is_refused(geotiff, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert run_detect(geotiff, tmp_path, "--boxes", str(locked / "stripes.geojson")) == 2
    assert "not writable" in capsys.readouterr().err


def test_module_entry_point_writes_boxes_in_a_real_process(geotiff, tmp_path):
    command = [sys.executable, "-m", "rfi_models.detect", str(geotiff), "--checkpoint", "baseline", "--threshold",
               str(THRESHOLD), "--out", str(tmp_path / "m.tif"), "--scores", str(tmp_path / "s.npy"), "--boxes",
               str(tmp_path / "b.geojson")]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=os.environ | {"OMP_NUM_THREADS": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert "stripes, longitude/latitude from EPSG:32631)" in result.stdout
    assert not list(tmp_path.glob(".*"))  # no temporary file left
