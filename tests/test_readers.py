"""Real Sentinel-1 inputs: quick-looks, SAFE products (folder, zip), measurement GeoTIFFs calibrated to sigma0,
the processor's RFI annotation, and georeferencing kept from input to mask. Real files from ../shared/data."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.transform import from_origin

from rfi_models.data.quicklook_scale import db_to_quicklook
from rfi_models.io import InputError, geotiff_bytes, read_input, write_geotiff
from rfi_models.io.rfi_annotation import parse_rfi_annotation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentinel1"
QUICKLOOKS = DATA / "quicklooks"
IW = QUICKLOOKS / "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB.quick-look.png"
EW = QUICKLOOKS / "S1A_EW_GRDM_1SDH_20221130T014342_20221130T014446_046117_058549_BB15.quick-look.png"
SAFE_ZIP = DATA / "safe" / "S1A_IW_GRDH_1SDV_20210119T031653_20210119T031718_036201_043ED0_8255.zip"
SAFE_FOLDER = DATA / "safe" / "S1A_IW_GRDH_1SDV_20210809T173953_20210809T174018_039156_049F13_6FF8.SAFE"
EW_PRODUCT = DATA / "safe" / "S1A_EW_GRDM_1SDH_20221130T014342_20221130T014446_046117_058549_BB15"
RFI_FOLDER = EW_PRODUCT / "annotation" / "rfi"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data/sentinel1")


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------- quick-looks
def test_a_dual_pol_quicklook_is_vv_and_vh_from_red_and_green():
    reading = read_input(IW, "sar")
    rgb = np.asarray(Image.open(IW))
    assert reading.image.shape == (2, 341, 505) and reading.image.dtype == np.float32
    assert np.array_equal(reading.image[0], rgb[..., 0] / np.float32(255))
    assert np.array_equal(reading.image[1], rgb[..., 1] / np.float32(255))
    info = reading.info
    assert info.polarisations == ("VV", "VH") and info.size == (341, 505) and info.georef is None
    assert "quick-look" in info.format and "8-bit" in info.scale and any("preview" in n for n in info.notes)


def test_the_ew_quicklook_is_hh_and_hv():
    reading = read_input(EW, "sar")
    assert reading.info.polarisations == ("HH", "HV") and reading.image.shape == (2, 510, 522)


def test_an_unnamed_quicklook_upload_is_co_and_cross_pol_with_a_note():
    reading = read_input(IW.read_bytes(), "sar", name="my_upload.png")
    assert reading.info.polarisations == ("co-pol", "cross-pol")
    assert any("polarisations not stated" in n for n in reading.info.notes)


def test_a_grey_quicklook_needs_two_polarisations():
    grey = np.asarray(Image.open(IW))[..., 0]
    for data in (png_bytes(grey), png_bytes(np.dstack([grey] * 3))):
        with pytest.raises(InputError, match="two polarisations are needed"):
            read_input(data, "sar")
    with pytest.raises(InputError, match="single-polarisation product"):
        read_input(IW.read_bytes(), "sar", name="S1A_IW_GRDH_1SSV_20150222T170725_x.quick-look.png")


def test_mnist_still_reads_a_png_as_a_digit():
    reading = read_input(IW, "mnist")
    assert reading.image.shape == (1, 28, 28) and reading.info.polarisations == ("grey",)


# ------------------------------------------------------------------------------------------- SAFE products
def test_the_safe_zip_is_read_in_place_as_its_quicklook_with_a_note():
    from_path = read_input(SAFE_ZIP, "sar")
    from_bytes = read_input(SAFE_ZIP.read_bytes(), "sar", name=SAFE_ZIP.name)
    quicklook = read_input(QUICKLOOKS / SAFE_ZIP.name.replace(".zip", ".quick-look.png"), "sar")
    assert np.array_equal(from_path.image, quicklook.image) and np.array_equal(from_bytes.image, quicklook.image)
    info = from_path.info
    assert info.format == "SAFE zip: quick-look" and info.polarisations == ("VV", "VH")
    assert any("measurement GeoTIFFs are missing" in n and "preview" in n for n in info.notes)
    assert info.georef is not None and len(info.georef.gcps) == 210 and info.georef.crs_name == "EPSG:4326"
    rows, cols = zip(*[(r, c) for r, c, *_ in info.georef.gcps], strict=True)
    assert min(rows) >= 0 and max(rows) <= 344 * 1.01 and min(cols) >= 0 and max(cols) <= 517 * 1.01


def test_the_safe_folder_with_0_byte_measurements_and_no_quicklook_is_refused():
    with pytest.raises(InputError, match="0-byte placeholders and the product has no quick-look"):
        read_input(SAFE_FOLDER, "sar")


@pytest.fixture
def safe_copy(tmp_path) -> Path:
    """A writable copy of the real SAFE folder (0-byte measurements, calibration and noise XML)."""
    copy = tmp_path / SAFE_FOLDER.name
    shutil.copytree(SAFE_FOLDER, copy)
    for path in copy.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return copy


def test_the_safe_folder_falls_back_to_a_quicklook_with_a_note(safe_copy):
    (safe_copy / "preview").mkdir()
    shutil.copy(IW, safe_copy / "preview" / "quick-look.png")
    reading = read_input(safe_copy, "sar")
    assert reading.info.format == "SAFE folder: quick-look" and reading.image.shape == (2, 341, 505)
    assert any("0-byte placeholders" in n and "preview" in n for n in reading.info.notes)


def measurement(folder: Path, polarisation: str) -> Path:
    return next((folder / "measurement").glob(f"*-{polarisation}-*.tiff"))


def write_measurements(folder: Path, dn: dict[str, np.ndarray]) -> list[GroundControlPoint]:
    gcps = [GroundControlPoint(row=0, col=0, x=1.93, y=44.54, z=330.0),
            GroundControlPoint(row=40, col=90, x=1.95, y=44.53, z=331.0),
            GroundControlPoint(row=0, col=90, x=1.95, y=44.54, z=330.0)]  # fmt: skip
    for polarisation, values in dn.items():
        path = measurement(folder, polarisation)
        path.unlink()
        with rasterio.open(path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1], count=1,
                           dtype="uint16") as dataset:  # fmt: skip
            dataset.gcps = (gcps, CRS.from_epsg(4326))
            dataset.write(values[None])
    return gcps


def first_values(path: Path, vector: str, tag: str, index: int = 0) -> np.ndarray:
    found = ElementTree.parse(path).getroot().findall(f".//{vector}")[index]
    return np.asarray(found.find(tag).text.split(), dtype=np.float64)


def steepen_calibration(folder: Path) -> Path:
    """Triple the VV sigmaNought vector at line 667 of the copy: the real LUT is the same on every line, which would
    hide an interpolation over lines gone wrong."""
    path = next((folder / "annotation" / "calibration").glob("calibration-*-vv-*.xml"))
    tree = ElementTree.parse(path)
    element = tree.getroot().findall(".//calibrationVector")[1].find("sigmaNought")
    element.text = " ".join(f"{3 * float(v):e}" for v in element.text.split())
    tree.write(path)
    return path


def test_measurement_geotiffs_become_sigma0_by_the_calibration_lut(safe_copy):
    """sigma0 = (DN^2 - noise) / A^2 by hand at LUT nodes (line 0, pixels 0 and 40), between two nodes (pixel 20)
    and between two lines (row 10), against the reader's pixels on the quick-look scale."""
    rng = np.random.default_rng(0)
    dn = {p: rng.integers(50, 3000, (40, 90)).astype(np.uint16) for p in ("vv", "vh")}
    dn["vv"][5, 7] = 0  # no-data
    gcps = write_measurements(safe_copy, dn)
    calibration = steepen_calibration(safe_copy)
    noise = next((safe_copy / "annotation" / "calibration").glob("noise-*-vv-*.xml"))
    sigma = first_values(calibration, "calibrationVector", "sigmaNought")  # line 0, pixels 0, 40, 80, ...
    sigma_next = first_values(calibration, "calibrationVector", "sigmaNought", 1)  # line 667
    noise_range = first_values(noise, "noiseRangeVector", "noiseRangeLut")  # line 0
    noise_azimuth = first_values(noise, "noiseAzimuthVector", "noiseAzimuthLut")  # IW1, lines 0, 10, 20, ...
    by_hand = {  # (row, col): (A, noise)
        (0, 0): (sigma[0], noise_range[0] * noise_azimuth[0]),
        (0, 40): (sigma[1], noise_range[1] * noise_azimuth[0]),
        (0, 20): ((sigma[0] + sigma[1]) / 2, (noise_range[0] + noise_range[1]) / 2 * noise_azimuth[0]),
        (30, 0): (sigma[0] + (sigma_next[0] - sigma[0]) * 30 / 667, None),
    }
    plain = read_input(safe_copy, "sar", denoise=False)
    denoised = read_input(safe_copy, "sar", denoise=True)
    for (row, col), (a, noise_power) in by_hand.items():
        power = float(dn["vv"][row, col]) ** 2
        expected = db_to_quicklook(10 * np.log10(power / a**2)) / np.float32(255)
        assert plain.image[0, row, col] == pytest.approx(expected, abs=1e-6), (row, col)
        if noise_power is not None:
            expected = db_to_quicklook(10 * np.log10(max(power - noise_power, 0) / a**2 + 1e-12)) / np.float32(255)
            assert denoised.image[0, row, col] == pytest.approx(expected, abs=1.01 / 255), (row, col)
    assert plain.image[0, 5, 7] == 0 and plain.image[1, 5, 7] > 0
    info = plain.info
    assert info.format == "SAFE folder: measurement GeoTIFFs" and info.scale.startswith("sigma0 dB")
    assert info.polarisations == ("VV", "VH") and info.size == (40, 90)
    assert [(r, c, x, y) for r, c, x, y, _ in info.georef.gcps] == [(g.row, g.col, g.x, g.y) for g in gcps]
    assert any("thermal noise removed" in n for n in denoised.info.notes)


def test_the_calibrated_sigma0_is_exact_before_the_8_bit_scale(safe_copy):
    from rfi_models.io.calibration import Calibration
    from rfi_models.io.product import FolderProduct

    path = steepen_calibration(safe_copy)
    product = FolderProduct(safe_copy)
    calibration = Calibration.parse(product.xml(path.relative_to(safe_copy).as_posix()), None)
    dn = np.array([[100, 200, 300], [400, 500, 600]], dtype=np.uint16)
    sigma0 = calibration.sigma0(dn, 100, denoise=False)  # rows 100 and 101
    a, a_next = (first_values(path, "calibrationVector", "sigmaNought", i) for i in (0, 1))
    pixel1 = a[0] + (a[1] - a[0]) / 40  # pixel 1 lies 1/40 of the way to the node at pixel 40
    assert sigma0[0, 0] == pytest.approx(100**2 / (a[0] + (a_next[0] - a[0]) * 100 / 667) ** 2, rel=1e-12)
    assert sigma0[1, 0] == pytest.approx(400**2 / (a[0] + (a_next[0] - a[0]) * 101 / 667) ** 2, rel=1e-12)
    pixel1_next = a_next[0] + (a_next[1] - a_next[0]) / 40
    assert sigma0[0, 1] == pytest.approx(200**2 / (pixel1 + (pixel1_next - pixel1) * 100 / 667) ** 2, rel=1e-12)


# ------------------------------------------------------------------------------------------- refusals
def test_a_single_pol_product_is_refused(safe_copy, tmp_path):
    single = tmp_path / safe_copy.name.replace("_1SDV_", "_1SSV_")
    safe_copy.rename(single)
    with pytest.raises(InputError, match="single-polarisation"):
        read_input(single, "sar")


def test_a_product_without_annotation_is_refused(safe_copy):
    for path in (safe_copy / "annotation").glob("*.xml"):
        path.unlink()
    with pytest.raises(InputError, match="no annotation"):
        read_input(safe_copy, "sar")


def test_a_product_missing_one_polarisations_annotation_is_refused(safe_copy):
    next((safe_copy / "annotation").glob("*-vh-*.xml")).unlink()
    with pytest.raises(InputError, match="annotation of VH is missing"):
        read_input(safe_copy, "sar")


def test_a_corrupt_safe_zip_is_refused(tmp_path):
    data = SAFE_ZIP.read_bytes()
    path = tmp_path / SAFE_ZIP.name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="corrupt or truncated"):
        read_input(path, "sar")


def test_a_folder_that_is_not_a_product_is_refused():
    with pytest.raises(InputError, match="not a SAFE product"):
        read_input(RFI_FOLDER.parents[1], "sar")


# ------------------------------------------------------------------------------------------- RFI annotation
def rfi_roots(flag_time: str | None = None) -> list[ElementTree.Element]:
    roots = [ElementTree.parse(path).getroot() for path in sorted(RFI_FOLDER.glob("*.xml"))]
    if flag_time is not None:
        for report in roots[0].iter("rfiDetectionFromNoiseReport"):
            if report.find("noiseSensingTime").text == flag_time:
                report.find("rfiDetected").text = "true"
    return roots


def test_the_processors_rfi_annotation_is_parsed():
    span = ("2022-11-30T01:43:42.546629", "2022-11-30T01:44:46.839082")  # the product's start and stop
    annotation = parse_rfi_annotation(rfi_roots(), span, 510)
    assert annotation.mitigation == (("HH", "None"), ("HV", "None"))
    assert sum(r.kind == "noise" for r in annotation.reports) == 236
    assert sum(r.kind == "burst" for r in annotation.reports) == 220
    assert not annotation.flagged and "0 of 456 reports flagged RFI" in annotation.summary()
    assert {r.swath for r in annotation.reports} == {"EW1", "EW2", "EW3", "EW4", "EW5"}
    flagged = parse_rfi_annotation(rfi_roots("2022-11-30T01:43:46.943580"), span, 510)
    assert [r.swath for r in flagged.flagged] == ["EW1"]
    assert flagged.flagged_rows() == [int((46.943580 - 42.546629) / (64.292453) * 510)]  # 4.4 s into 64.3 s


def test_a_products_rfi_annotation_comes_with_its_image_and_the_detect_cli_prints_it(tmp_path, capsys):
    product = tmp_path / "product"
    with zipfile.ZipFile(SAFE_ZIP) as archive:
        archive.extractall(product)  # a test copy; the reader itself never extracts
    folder = next(product.glob("*.SAFE"))
    shutil.copytree(RFI_FOLDER, folder / "annotation" / "rfi")
    reading = read_input(folder, "sar")
    assert reading.info.rfi is not None and len(reading.info.rfi.reports) == 456
    assert any("processor RFI annotation" in line for line in reading.info.lines())

    from rfi_models.detect import main as detect_main

    assert detect_main([str(folder), "--checkpoint", "baseline", "--out", str(tmp_path / "mask.png"),
                        "--scores", str(tmp_path / "scores.npy")]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "SAFE folder" in printed and "0 of 456 reports flagged RFI" in printed  # what was read, then the result
    assert np.load(tmp_path / "scores.npy").shape == reading.image.shape[1:]


# ------------------------------------------------------------------------------------------- georeferencing
@pytest.mark.parametrize("kind", ["transform", "gcps"])
def test_georeferencing_goes_from_the_input_to_the_mask(tmp_path, kind):
    image = np.random.default_rng(1).integers(1, 255, (2, 60, 80)).astype(np.uint8)
    source = tmp_path / "scene.tif"
    with rasterio.open(source, "w", driver="GTiff", height=60, width=80, count=2, dtype="uint8") as dataset:
        if kind == "transform":
            dataset.transform, dataset.crs = from_origin(500000, 4600000, 10, 10), CRS.from_epsg(32631)
        else:
            dataset.gcps = ([GroundControlPoint(0, 0, 2.0, 45.0, 0.0), GroundControlPoint(59, 79, 2.1, 44.9, 0.0),
                             GroundControlPoint(0, 79, 2.1, 45.0, 0.0)], CRS.from_epsg(4326))  # fmt: skip
        dataset.write(image)
    reading = read_input(source, "sar")
    assert reading.info.format == "GeoTIFF" and np.array_equal(reading.image, image / np.float32(255))
    mask = reading.image[1] > 0.5
    write_geotiff(tmp_path / "mask.tif", mask, reading.info.georef)
    (tmp_path / "download.tif").write_bytes(geotiff_bytes(mask, reading.info.georef))
    for written in ("mask.tif", "download.tif"):
        with rasterio.open(source) as original, rasterio.open(tmp_path / written) as out:
            assert np.array_equal(out.read(1), mask.astype(np.uint8) * 255)
            if kind == "transform":
                assert out.transform == original.transform and out.crs == original.crs
            else:
                assert out.gcps[1] == original.gcps[1]
                assert [(g.row, g.col, g.x, g.y) for g in out.gcps[0]] == [
                    (g.row, g.col, g.x, g.y) for g in original.gcps[0]
                ]


def test_a_plain_tiff_is_not_georeferenced_and_its_mask_is_a_plain_tiff(tmp_path):
    import tifffile

    image = np.random.default_rng(2).integers(1, 255, (2, 30, 40)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "plain.tif", image)
    reading = read_input(tmp_path / "plain.tif", "sar")
    assert reading.info.georef is None and reading.info.format == "TIFF"
    write_geotiff(tmp_path / "mask.tif", reading.image[0] > 0.5, None)
    with rasterio.open(tmp_path / "mask.tif") as out:
        assert out.crs is None and not out.gcps[0] and out.shape == (30, 40)


def test_measurements_inside_a_zip_are_read_in_place_from_a_path_and_from_bytes(safe_copy, tmp_path):
    dn = {p: np.random.default_rng(3).integers(50, 3000, (30, 70)).astype(np.uint16) for p in ("vv", "vh")}
    write_measurements(safe_copy, dn)
    from_folder = read_input(safe_copy, "sar", denoise=False)
    archive = tmp_path / (safe_copy.name.replace(".SAFE", "") + ".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(safe_copy.rglob("*")):
            if path.is_file():
                out.write(path, f"{safe_copy.name}/{path.relative_to(safe_copy).as_posix()}")
    from_path = read_input(archive, "sar", denoise=False)
    from_bytes = read_input(archive.read_bytes(), "sar", name=archive.name, denoise=False)
    for reading in (from_path, from_bytes):
        assert reading.info.format == "SAFE zip: measurement GeoTIFFs"
        assert np.array_equal(reading.image, from_folder.image) and reading.info.georef == from_folder.info.georef
