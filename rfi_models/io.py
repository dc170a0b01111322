"""Reading user files safely: `read_image(source, domain) -> float32 [C, H, W] in [0, 1]`.

The format is recognised from the file's first bytes, never from its name. Sizes are checked from
headers before anything is decoded, arrays are read with allow_pickle=False, and every problem
becomes an `InputError` whose message says what is wrong and what is accepted.

Accepted:
- .npy / .npz: H x W, H x W x C or C x H x W (a leading batch axis of 1 is dropped). An .npz holds
  one array, or several with one named "image".
- PNG / JPEG: MNIST only; any size or mode (EXIF rotation applied).
- TIFF / GeoTIFF: 1 band (MNIST) or 2 bands (SAR), as one page with 2 samples, 2 planes, or two
  pages of the same size.

Domains:
- "mnist" -> [1, 28, 28]. One band. An image that is not 28 x 28 is prepared like MNIST itself: the
  digit's bounding box is scaled to fit 20 x 20 and centred by its centre of mass in 28 x 28. Dark ink
  on light paper (mean border brightness above one half) is inverted to MNIST's light-on-dark.
- "sar" -> [2, H, W] (VV, VH) at the input's own size, at least one MAE patch (20 x 20).

Values (see `to_unit_range`): uint8 is the 8-bit quick-look scale (/255). uint16 and larger integers
are Sentinel-1 GRD amplitude DN, turned into sigma0 dB and mapped onto the quick-look scale (SAR), or
divided by their type's maximum (MNIST). Floats in [0, 1] are used as they are, floats in [0, 255]
are divided by 255, and for SAR floats with negative values are sigma0 in dB. Exact zeros stay
no-data; an image with nothing else is refused.

Limits, from headers: MAX_PIXELS per band, MAX_ARRAY_BYTES decoded (whatever the compression),
MAX_FILE_BYTES per file, MAX_TIFF_PAGES pages. `open_scene` memory-maps whole scenes up to
MAX_SCENE_PIXELS per band instead.
"""

from __future__ import annotations

import io
import math
import mmap
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .data.quicklook import db_to_quicklook

DOMAINS = ("mnist", "sar")
MAX_PIXELS = 8192 * 8192  # per band
MAX_FILE_BYTES = 1 << 30
MAX_ARRAY_BYTES = 1 << 29  # a decoded array, however compressed: 2 bands of 8192 x 8192 float32
MAX_TIFF_PAGES = 64  # room for overview pyramids; a chain of millions of pages is refused unread
MIN_SIDE = {"mnist": 8, "sar": 20}
CHANNELS = {"mnist": 1, "sar": 2}
MAX_BANDS = 5  # an axis this short is taken for bands when telling the layout
MNIST_SIZE = 28
GRD_AMPLITUDE_CALIBRATION_DB = 53.5  # 20 log10 of Sentinel-1 IW GRD's typical sigma0 calibration constant
DB_RANGE = (-80.0, 40.0)
VALUE_BLOCK_PIXELS = 1 << 20  # pixels converted at a time by apply_value_rule

ACCEPTED = (
    "accepted: .npy/.npz arrays (H x W x C or C x H x W; uint8, uint16 or float), "
    "PNG/JPEG (MNIST), TIFF/GeoTIFF with 1 band (MNIST) or 2 bands (SAR: VV, VH)"
)


class InputError(ValueError):
    """A user file that cannot be used; the message says why and what is accepted."""


# ------------------------------------------------------------------------------------------- sources
def unreadable(path: Path, err: OSError) -> InputError:
    """The error for an input file the system will not let us read (permissions, a device, ...)."""
    return InputError(f"{path}: cannot be read ({err.strerror or err})")


def read_source_bytes(source: str | Path | bytes | bytearray | memoryview | BinaryIO) -> bytes:
    """The raw bytes of a path, a bytes-like object or an open binary file (e.g. a Streamlit upload)."""
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MiB")
        try:
            return path.read_bytes()
        except OSError as err:
            raise unreadable(path, err) from None
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif hasattr(source, "getvalue"):
        data = bytes(source.getvalue())
    elif hasattr(source, "read"):
        data = source.read(MAX_FILE_BYTES + 1)
    else:
        raise InputError(f"cannot read an image from a {type(source).__name__}; give a path, bytes or a file")
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"file is over the {MAX_FILE_BYTES / 2**20:.0f} MiB limit")
    return data


def sniff_format(data: bytes) -> str:
    """'png', 'jpeg', 'tiff', 'npy' or 'npz' from the magic bytes; InputError otherwise."""
    if not data:
        raise InputError(f"the file is empty (0 bytes); {ACCEPTED}")
    signatures = {
        b"\x89PNG\r\n\x1a\n": "png",
        b"\xff\xd8\xff": "jpeg",
        b"II*\x00": "tiff",
        b"MM\x00*": "tiff",
        b"II+\x00": "tiff",
        b"MM\x00+": "tiff",
        b"\x93NUMPY": "npy",
        b"PK\x03\x04": "npz",
    }
    for magic, kind in signatures.items():
        if data.startswith(magic):
            return kind
    head = data[:64]
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        raise InputError(f"this is a text file, not an image; {ACCEPTED}")
    raise InputError(f"not a recognised image file (unknown format); {ACCEPTED}")


def check_pixel_count(shape: tuple[int, ...], limit: int = MAX_PIXELS) -> None:
    """Refuse shapes whose two largest axes (height and width, whatever the layout) exceed `limit` pixels."""
    largest = sorted((int(v) for v in shape), reverse=True)[:2]
    if math.prod(largest) > limit:
        raise InputError(
            f"image of shape {tuple(shape)} is too large: at most {limit:,} pixels per band are accepted"
            + (
                " (e.g. 8192 x 8192); use the detect CLI with .npy or uncompressed TIFF for whole scenes"
                if limit == MAX_PIXELS
                else ""
            )
        )


def check_array_size(shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse, from a header alone, arrays over the pixel limit or decoding to more than MAX_ARRAY_BYTES."""
    check_pixel_count(shape)
    nbytes = math.prod(int(v) for v in shape) * np.dtype(dtype).itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise InputError(
            f"image of shape {tuple(shape)} and type {np.dtype(dtype)} decodes to {nbytes / 2**20:,.0f} MiB; "
            f"at most {MAX_ARRAY_BYTES / 2**20:,.0f} MiB are accepted (e.g. 2 bands of 8192 x 8192 float32)"
        )


# ------------------------------------------------------------------------------------------- decoders
def decode_pil(data: bytes, domain: str) -> np.ndarray:
    """PNG/JPEG -> float32 [H, W] gray in [0, 1] (MNIST only)."""
    if domain != "mnist":
        raise InputError("PNG/JPEG hold no SAR bands: give VV and VH as a 2-band .npy/.npz or TIFF")
    try:
        with Image.open(io.BytesIO(data)) as image:
            check_pixel_count((image.height, image.width))
            image = ImageOps.exif_transpose(image)
            gray = image.convert("L") if image.mode not in ("I;16", "I", "F") else image.convert("F")
            array = np.asarray(gray, dtype=np.float32)
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(
            f"image is too large (its header claims over {Image.MAX_IMAGE_PIXELS:,} pixels, a possible "
            f"decompression bomb); at most {MAX_PIXELS:,} pixels per band are accepted"
        ) from None
    except UnidentifiedImageError:
        raise InputError(f"corrupt or truncated PNG/JPEG: its header cannot be read; {ACCEPTED}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f"corrupt or truncated image file ({err}); {ACCEPTED}") from None
    return array / (255.0 if gray.mode == "L" else max(float(array.max()), 1.0))


def check_page_count(tif: tifffile.TiffFile) -> None:
    """Refuse TIFFs with more than MAX_TIFF_PAGES pages, walking no further than that limit."""
    try:
        tif.pages[MAX_TIFF_PAGES]
    except IndexError:
        return
    raise InputError(
        f"the TIFF has more than {MAX_TIFF_PAGES} pages (or its page chain loops); accepted: one page (1 or 2 bands) "
        "or two pages (VV, VH), plus reduced-resolution overviews"
    )


def decode_tiff(data: bytes) -> np.ndarray:
    """TIFF -> its array, size-checked from the header before decoding."""
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            check_page_count(tif)
            series = tif.series
            if not series:
                raise InputError("the TIFF holds no image")
            if len(series) > 1:
                shapes = [s.shape for s in series]
                if len(set(shapes)) != 1 or len(shapes) > 2:
                    raise InputError(
                        f"TIFF with {len(series)} images of shapes {shapes}; accepted: one image of 1 or 2 bands, "
                        "or two pages of the same size (VV, VH)"
                    )
                check_array_size((len(series), *series[0].shape), series[0].dtype)
                return np.stack([s.asarray() for s in series])
            check_array_size(series[0].shape, series[0].dtype)
            return series[0].asarray()
    except InputError:
        raise
    except Exception as err:  # tifffile raises many types for corrupt files
        raise InputError(f"corrupt or truncated TIFF ({type(err).__name__}: {err}); {ACCEPTED}") from None


def read_npy_header(stream: BinaryIO, limit: int = MAX_PIXELS) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype of an .npy stream, refusing object dtypes before any data."""
    try:
        version = np.lib.format.read_magic(stream)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(stream)
    except (ValueError, TypeError, OSError, SyntaxError, tokenize.TokenError, EOFError) as err:  # numpy parses a dict
        raise InputError(f"corrupt .npy header ({err}); {ACCEPTED}") from None
    if dtype.hasobject:
        raise InputError("the array holds Python objects (pickled data), which are never loaded; use numeric arrays")
    check_pixel_count(shape, limit)
    return shape, fortran, dtype


def read_npy_array(stream: BinaryIO, size: int) -> np.ndarray:
    """Read an .npy stream of `size` bytes. What is read is bounded by the header, and the header by the
    limits and by `size`, so neither a lying header nor a lying zip member can inflate memory."""
    shape, fortran, dtype = read_npy_header(stream)
    check_array_size(shape, dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    available = size - stream.tell()
    if nbytes > available:
        raise InputError(f"truncated .npy data: the header declares {nbytes:,} bytes, the file holds {available:,}")
    payload = stream.read(nbytes)
    if len(payload) != nbytes:
        raise InputError(f"truncated .npy data: expected {nbytes} bytes, found {len(payload)}")
    array = np.frombuffer(payload, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def decode_npy(data: bytes) -> np.ndarray:
    return read_npy_array(io.BytesIO(data), len(data))


def decode_npz(data: bytes) -> np.ndarray:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in archive.namelist() if n.endswith(".npy")]
        if not names:
            raise InputError(f"the .npz/.zip holds no .npy array; {ACCEPTED}")
        chosen = "image.npy" if "image.npy" in names else names[0] if len(names) == 1 else None
        if chosen is None:
            keys = ", ".join(n[:-4] for n in names)
            raise InputError(f"the .npz holds several arrays ({keys}); name the image array 'image'")
        size = archive.getinfo(chosen).file_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"the .npz array unpacks to {size / 2**20:,.0f} MiB, over the {MAX_FILE_BYTES / 2**20:,.0f} MiB limit "
                "(a decompression bomb?)"
            )
        with archive.open(chosen) as member:
            return read_npy_array(member, size)
    except InputError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as err:
        raise InputError(f"corrupt or truncated .npz ({err}); {ACCEPTED}") from None


# ------------------------------------------------------------------------------------------- arrays
def to_channels_first(array: np.ndarray) -> np.ndarray:
    """2-D or 3-D array in H x W, H x W x C or C x H x W -> [C, H, W].

    The bands are the last axis if it has at most MAX_BANDS entries, else the first if that has; neither is
    an InputError.
    """
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        return array[None]
    if array.ndim != 3:
        raise InputError(f"expected a 2-D or 3-D image array, got shape {array.shape}")
    if array.shape[-1] <= MAX_BANDS:
        return np.moveaxis(array, -1, 0)
    if array.shape[0] <= MAX_BANDS:
        return array
    raise InputError(
        f"cannot tell the bands of an array of shape {array.shape}: neither its first nor its last axis has at most "
        f"{MAX_BANDS} entries; give H x W x C or C x H x W with 1 band (MNIST) or 2 bands (SAR: VV, VH)"
    )


def check_value_type(array: np.ndarray) -> None:
    kind = array.dtype.kind
    if kind == "c":
        raise InputError("complex values are not accepted: give intensity or amplitude (e.g. |SLC|) per band")
    if kind not in "uif":
        raise InputError(f"unsupported data type {array.dtype}; use uint8, uint16 or float")


def value_rule(dtype: np.dtype, low: float, high: float, domain: str) -> str:
    """How raw values become [0, 1] (module docstring): "byte", "unit", "amplitude", "sixteen_bit" or "db".

    Decided from the dtype and the value range of the whole image, so that every tile of a scene is
    scaled alike.
    """
    if dtype.kind in "ui":
        if low < 0:
            raise InputError(f"negative integer values (min {low:g}); accepted: unsigned 8- or 16-bit data")
        if not (dtype.kind == "u" and dtype.itemsize == 2) and high <= 255:  # uint16 of either byte order
            return "byte"
        if high > 65535:
            raise InputError(f"integer values up to {high:g} are not understood; accepted: 8- or 16-bit data")
        return "amplitude" if domain == "sar" else "sixteen_bit"
    if low >= 0 and high <= 1:
        return "unit"
    if low >= 0 and high <= 255:
        return "byte"
    if domain == "sar" and DB_RANGE[0] <= low < 0 and high <= DB_RANGE[1]:
        return "db"
    raise InputError(
        f"float values in [{low:g}, {high:g}] are not understood; accepted floats: [0, 1], [0, 255]"
        + (f", or sigma0 in dB within [{DB_RANGE[0]:g}, {DB_RANGE[1]:g}]" if domain == "sar" else "")
    )


def apply_value_rule(array: np.ndarray, rule: str) -> np.ndarray:
    """Raw values [..., H, W] -> float32 in [0, 1] by a rule of `value_rule`; exact zeros stay 0 (no-data).

    Converted in blocks of rows, so the temporaries stay small next to the float32 result.
    """
    out = np.empty(array.shape, dtype=np.float32)
    rows = max(1, VALUE_BLOCK_PIXELS // max(1, array.shape[-1]))
    for index in np.ndindex(array.shape[:-2]):
        for top in range(0, array.shape[-2], rows):
            out[index][top : top + rows] = convert_values(array[index][top : top + rows], rule)
    return out


def convert_values(array: np.ndarray, rule: str) -> np.ndarray:
    """One block of `apply_value_rule`."""
    values = np.asarray(array, dtype=np.float64 if array.dtype.kind == "f" else np.float32)
    if rule == "unit":
        return values.astype(np.float32)
    if rule == "byte":
        return (values / 255).astype(np.float32)
    if rule == "sixteen_bit":
        return (values / 65535).astype(np.float32)
    db = 20 * np.log10(np.maximum(values, 1)) - GRD_AMPLITUDE_CALIBRATION_DB if rule == "amplitude" else values
    return np.where(values != 0, db_to_quicklook(db) / np.float32(255), 0).astype(np.float32)


def to_unit_range(array: np.ndarray, domain: str) -> np.ndarray:
    """Scale raw values to [0, 1] by dtype and value range (module docstring); float32 out."""
    check_value_type(array)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError("the image contains NaN or Inf values; replace them (no-data is exact 0)")
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    return apply_value_rule(array, value_rule(array.dtype, low, high, domain))


def check_bands_and_size(image: np.ndarray, domain: str) -> None:
    bands, height, width = image.shape
    if bands != CHANNELS[domain]:
        need = "1 band (grayscale)" if domain == "mnist" else "2 bands (VV, VH)"
        raise InputError(f"got {bands} bands of {height} x {width}; {domain.upper()} input needs {need}")
    side = MIN_SIDE[domain]
    if min(height, width) < side:
        raise InputError(f"image of {height} x {width} is too small: at least {side} x {side} pixels are needed")


def check_has_data(pixels: np.ndarray) -> None:
    """Refuse an image whose every pixel is 0: no-data only, nothing to analyse."""
    if not pixels.any():
        raise InputError("every pixel is 0 (no-data): the image is empty; give one with data")


# ------------------------------------------------------------------------------------------- MNIST
def to_mnist_digit(gray: np.ndarray) -> np.ndarray:
    """Gray [H, W] in [0, 1] -> [28, 28] light-on-dark digit, prepared the way MNIST was."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:
        gray = 1.0 - gray
    if gray.shape == (MNIST_SIZE, MNIST_SIZE):
        return gray
    ink = gray > 0.2 * gray.max() if gray.max() > 0 else np.zeros_like(gray, dtype=bool)
    if not ink.any():
        return np.asarray(Image.fromarray(gray).resize((MNIST_SIZE, MNIST_SIZE), Image.Resampling.BILINEAR))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20.0 / max(crop.shape)
    new_h, new_w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    digit = np.asarray(Image.fromarray(crop.astype(np.float32)).resize((new_w, new_h), Image.Resampling.LANCZOS))
    canvas = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    top, left = (MNIST_SIZE - new_h) // 2, (MNIST_SIZE - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = np.clip(digit, 0, 1)
    com_row, com_col = ndimage.center_of_mass(canvas)
    shift = (round(MNIST_SIZE / 2 - com_row), round(MNIST_SIZE / 2 - com_col))
    return ndimage.shift(canvas, shift, order=0, mode="constant")


# ------------------------------------------------------------------------------------------- entry
def read_image(source: str | Path | bytes | BinaryIO, domain: str) -> np.ndarray:
    """Read a user image for `domain` ("mnist" or "sar") -> float32 [C, H, W] in [0, 1].

    Raises InputError (never anything else for bad content) naming the problem and what is accepted.
    """
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    data = read_source_bytes(source)
    kind = sniff_format(data)
    if kind in ("png", "jpeg"):
        image = decode_pil(data, domain)[None]
    else:
        raw = {"tiff": decode_tiff, "npy": decode_npy, "npz": decode_npz}[kind](data)
        image = to_unit_range(to_channels_first(raw), domain)
    check_bands_and_size(image, domain)
    check_has_data(image)
    if domain == "mnist":
        image = to_mnist_digit(image[0])[None]
    return np.ascontiguousarray(image, dtype=np.float32)


# ------------------------------------------------------------------------------------------- scenes
MAX_SCENE_PIXELS = 1 << 30  # per band, for memory-mapped scenes (a whole GRD scene is about 4e8)


def open_scene(path: str | Path) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """A SAR scene of any size as an array-like [2, H, W] plus the function that turns its blocks into [0, 1].

    Uncompressed .npy and TIFF files are memory-mapped, so a whole GRD scene is never loaded at once; the
    value rule is decided once from the dtype and a strided sample. Anything else goes through
    `read_image` (and its size limit).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError as err:
        raise unreadable(path, err) from None
    kind = sniff_format(head)
    array = None
    if kind == "npy":
        with path.open("rb") as f:
            read_npy_header(f, limit=MAX_SCENE_PIXELS)
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(f"corrupt or truncated .npy ({err}); {ACCEPTED}") from None
    elif kind == "tiff":
        try:
            with tifffile.TiffFile(path) as tif:
                check_page_count(tif)
            array = tifffile.memmap(path, mode="r")
        except InputError:
            raise
        except Exception:  # compressed, tiled or corrupt: read it whole below (which says what is wrong)
            array = None
        if array is not None:
            check_pixel_count(array.shape, limit=MAX_SCENE_PIXELS)
    if array is None:
        return read_image(path, "sar"), lambda block: block
    check_value_type(array)
    scene = to_channels_first(array)
    check_bands_and_size(scene, "sar")
    step = max(1, int(np.sqrt(scene.shape[1] * scene.shape[2] / 1e6)))
    sample = np.asarray(scene[:, ::step, ::step])
    if sample.dtype.kind == "f" and not np.isfinite(sample).all():
        raise InputError("the image contains NaN or Inf values; replace them (no-data is exact 0)")
    check_has_data(sample)
    rule = value_rule(sample.dtype, float(sample.min()), float(sample.max()), "sar")

    def to_unit(block: np.ndarray) -> np.ndarray:
        if block.dtype.kind == "f" and not np.isfinite(block).all():
            raise InputError("the image contains NaN or Inf values; replace them (no-data is exact 0)")
        return apply_value_rule(block, rule)

    return scene, to_unit


def release_mapped_pages(*arrays: np.ndarray) -> None:
    """Let the kernel drop the resident pages of memory-mapped arrays (views included); others are left alone.

    The data stays in the file and the page cache, and a later access maps it back, so streaming a scene
    through a mapping keeps the process's resident memory bounded by what it touched since the last call.
    """
    for array in arrays:
        mapping = getattr(array, "_mmap", None)  # np.memmap and its views share their parent's mmap
        if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
            mapping.madvise(mmap.MADV_DONTNEED)
