"""read_image: the accepted formats, the real patch sizes, and one test per class of bad input."""

import io
import zipfile

import numpy as np
import pytest
import tifffile
from hostile_corpus import PicklePayload, npy_bytes, npz_bytes, pil_bytes, png_claiming, tiff_bytes, tiff_claiming
from PIL import Image

from rfi_models import io as rio
from rfi_models.data import db_to_quicklook, load_mnist_sample, synthetic_sar
from rfi_models.io import InputError, read_image

SAR_PATCH = synthetic_sar(1, 332, 512, seed=4, rfi_probability=1.0)[0][0]  # [2, H, W] in [0, 1]
SAR_UINT8 = np.rint(SAR_PATCH * 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------- valid SAR
@pytest.mark.parametrize(("height", "width"), [(340, 500), (332, 512), (391, 671), (411, 638)])
def test_real_patch_sizes_keep_their_size(height, width):
    patch = np.rint(synthetic_sar(1, height, width, seed=1)[0][0] * 255).astype(np.uint8)
    out = read_image(npy_bytes(patch.transpose(1, 2, 0)), "sar")  # the study's H x W x 2 layout
    assert out.shape == (2, height, width) and out.dtype == np.float32
    assert np.allclose(out, patch / 255)


@pytest.mark.parametrize(
    "encode",
    [
        lambda a: npy_bytes(a),  # C x H x W
        lambda a: npz_bytes(image=a, other=np.zeros(3)),
        lambda a: npz_bytes(arr_0=a.transpose(1, 2, 0)),
        lambda a: tiff_bytes(a),  # two planes
        lambda a: tiff_bytes(a.transpose(1, 2, 0), photometric="minisblack", planarconfig="contig"),
        lambda a: tiff_bytes(a[None]),  # leading batch axis of 1
    ],
)
def test_sar_layouts_and_containers(encode):
    assert np.array_equal(read_image(encode(SAR_UINT8), "sar"), SAR_UINT8 / np.float32(255))


def test_two_page_tiff_is_vv_then_vh():
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tif:
        tif.write(SAR_UINT8[0])
        tif.write(SAR_UINT8[1])
    assert np.array_equal(read_image(buffer.getvalue(), "sar"), SAR_UINT8 / np.float32(255))


def test_path_and_file_sources(tmp_path):
    path = tmp_path / "patch.npy"
    path.write_bytes(npy_bytes(SAR_UINT8))
    assert read_image(path, "sar").shape == (2, 332, 512)
    assert read_image(str(path), "sar").shape == (2, 332, 512)
    assert read_image(io.BytesIO(path.read_bytes()), "sar").shape == (2, 332, 512)


def test_float_units():
    assert np.allclose(read_image(npy_bytes(SAR_PATCH.astype(np.float64)), "sar"), SAR_PATCH, atol=1e-6)
    assert np.allclose(read_image(npy_bytes(SAR_PATCH * 255), "sar"), SAR_PATCH, atol=1e-6)
    db = np.full((2, 40, 40), -18.0)
    out = read_image(npy_bytes(db), "sar")
    assert np.allclose(out, db_to_quicklook(db) / 255)


def test_uint16_amplitude_becomes_quicklook_db():
    dn = np.full((2, 40, 40), 60, dtype=np.uint16)
    dn[:, 0, 0] = 0  # no-data stays 0
    dn[:, 1, 1] = 300
    out = read_image(npy_bytes(dn), "sar")
    expected = db_to_quicklook(20 * np.log10(60.0) - rio.GRD_AMPLITUDE_CALIBRATION_DB) / 255
    assert out[0, 5, 5] == pytest.approx(expected) and out[0, 0, 0] == 0 and out[0, 1, 1] > out[0, 5, 5]


# ------------------------------------------------------------------------------------------- valid MNIST
def test_mnist_array_is_used_as_is():
    digits, _ = load_mnist_sample()
    assert np.array_equal(read_image(npy_bytes(digits[0]), "mnist")[0], digits[0] / np.float32(255))
    assert np.array_equal(read_image(pil_bytes(Image.fromarray(digits[0])), "mnist")[0], digits[0] / np.float32(255))


def test_photo_of_a_dark_digit_on_paper_is_inverted_resized_and_centred():
    digits, _ = load_mnist_sample()
    photo = Image.fromarray(255 - digits[7]).resize((180, 240), Image.Resampling.BICUBIC).convert("RGB")
    out = read_image(pil_bytes(photo, "JPEG"), "mnist")[0]
    assert out.shape == (28, 28)
    assert out[:3].max() < 0.2 and out.max() > 0.8  # light on dark, empty border
    assert np.corrcoef(out.ravel(), digits[7].ravel())[0, 1] > 0.6


def test_exif_rotation_is_applied():
    tall = np.zeros((60, 30), dtype=np.uint8)
    tall[5:55, 12:18] = 255  # a vertical bar
    image = Image.fromarray(np.rot90(tall).copy())  # stored lying down
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = read_image(pil_bytes(image, "PNG", exif=exif), "mnist")[0]
    rows, cols = np.nonzero(out > 0.5)
    assert np.ptp(rows) > np.ptp(cols)  # upright again


def test_rgba_and_16_bit_png():
    digits, _ = load_mnist_sample()
    rgba = Image.fromarray(digits[3]).convert("RGBA")
    assert read_image(pil_bytes(rgba), "mnist").shape == (1, 28, 28)
    sixteen = Image.fromarray(digits[3].astype(np.uint16) * 257)
    assert np.allclose(read_image(pil_bytes(sixteen), "mnist")[0], digits[3] / 255, atol=1e-3)


# ------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("data", "domain", "message"),
    [
        (b"", "sar", "empty"),
        (b"label,pixel\n1,2,3\n", "mnist", "text file"),
        (b"\x00\x01\x02\x03" * 50, "sar", "not a recognised image"),
        (pil_bytes(Image.new("L", (40, 40)))[:50], "mnist", "corrupt or truncated"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "mnist", "corrupt or truncated"),
        (pil_bytes(Image.new("L", (40, 40)), "JPEG")[:100], "mnist", "corrupt or truncated"),
        (tiff_bytes(SAR_UINT8)[:300], "sar", "corrupt or truncated TIFF"),
        (npy_bytes(SAR_UINT8)[:500], "sar", "truncated .npy"),
        (b"\x93NUMPY\x01\x00garbage", "sar", "corrupt .npy header"),
        (npz_bytes(image=SAR_UINT8)[:200], "sar", "corrupt or truncated .npz"),
        (npz_bytes(a=SAR_UINT8, b=SAR_UINT8), "sar", "several arrays"),
    ],
)
def test_corrupt_empty_and_non_image_files(data, domain, message):
    with pytest.raises(InputError, match=message):
        read_image(data, domain)


@pytest.mark.parametrize(
    ("array", "domain"),
    [
        (np.zeros((50, 50, 3), np.uint8), "sar"),
        (np.zeros((4, 50, 50), np.uint8), "sar"),
        (np.zeros((50, 50, 5), np.uint8), "sar"),
        (np.zeros((50, 50), np.uint8), "sar"),
        (np.zeros((28, 28, 2), np.uint8), "mnist"),
        (np.zeros((28, 28, 3), np.uint8), "mnist"),
    ],
)
def test_unsupported_number_of_channels(array, domain):
    with pytest.raises(InputError, match="bands"):
        read_image(npy_bytes(array), domain)


def test_unsupported_bands_in_tiff():
    with pytest.raises(InputError, match="got 3 bands"):
        read_image(tiff_bytes(np.zeros((3, 40, 40), np.uint8), photometric="minisblack"), "sar")


@pytest.mark.parametrize(("shape", "domain"), [((1, 1, 2), "sar"), ((2, 19, 500), "sar"), ((4, 4), "mnist")])
def test_too_small(shape, domain):
    with pytest.raises(InputError, match="too small"):
        read_image(npy_bytes(np.ones(shape, np.uint8)), domain)


def test_too_large_npy_is_refused_from_its_header():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (30000, 30000, 2)})
    with pytest.raises(InputError, match="too large: at most 67,108,864 pixels"):
        read_image(b"\x93NUMPY\x01\x00"[:0] + header.getvalue() + b"\x00" * 100, "sar")


def test_png_claiming_a_huge_size_is_refused_before_decoding():
    with pytest.raises(InputError, match="too large"):
        read_image(png_claiming(30000, 30000), "mnist")


def test_tiff_claiming_a_huge_size_is_refused_before_decoding():
    with pytest.raises(InputError, match="too large"):
        read_image(tiff_claiming(30000, 30000), "mnist")


def test_npz_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(rio.limits, "MAX_FILE_BYTES", 4 << 20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("image.npy", "w") as member:
        member.write(npy_bytes(np.zeros((2, 64, 64), np.uint8)))
        for _ in range(8):
            member.write(b"\x00" * (1 << 20))
    data = buffer.getvalue()
    assert len(data) < 100_000
    with pytest.raises(InputError, match="decompression bomb"):
        read_image(data, "sar")


def test_lying_zip_member_cannot_inflate_memory():
    """A member whose header says 2 x 64 x 64 but carries more data is read only as far as its header says."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("image.npy", "w") as member:
        member.write(npy_bytes(np.full((2, 64, 64), 7, np.uint8)))
        member.write(b"\x00" * (1 << 20))
    assert read_image(buffer.getvalue(), "sar").shape == (2, 64, 64)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf(bad):
    array = np.full((2, 40, 40), 0.5)
    array[1, 3, 3] = bad
    with pytest.raises(InputError, match="NaN or Inf"):
        read_image(npy_bytes(array), "sar")


def test_complex_arrays():
    with pytest.raises(InputError, match="complex values are not accepted"):
        read_image(npy_bytes(np.ones((2, 40, 40), np.complex64)), "sar")


def test_object_and_pickled_arrays_are_never_loaded(tmp_path):
    marker = tmp_path / "executed"
    array = np.empty((2,), dtype=object)
    array[0] = PicklePayload(marker)
    with pytest.raises(InputError, match="pickled"):
        read_image(npy_bytes(array, allow_pickle=True), "sar")
    assert not marker.exists()
    with pytest.raises(InputError, match="pickled"):
        buffer = io.BytesIO()
        np.savez(buffer, image=array, allow_pickle=True)
        read_image(buffer.getvalue(), "sar")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.ones((2, 40, 40), bool), "unsupported data type bool"),
        (np.full((2, 40, 40), -5, np.int32), "negative integer"),
        (np.full((2, 40, 40), 1e6, np.float32), "not understood"),
    ],
)
def test_unsupported_values(array, message):
    with pytest.raises(InputError, match=message):
        read_image(npy_bytes(array), "sar")


def test_png_for_sar_says_what_to_use():
    with pytest.raises(InputError, match=r"two polarisations are needed.*2-band \.npy/\.npz or TIFF"):
        read_image(pil_bytes(Image.new("L", (64, 64))), "sar")


def test_unknown_domain_is_a_programming_error():
    with pytest.raises(ValueError, match="domain must be one of"):
        read_image(npy_bytes(SAR_UINT8), "cifar")
