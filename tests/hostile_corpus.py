"""A corpus of hostile and borderline input files, generated in memory (nothing binary is committed).

`hostile_files()` returns one `HostileCase` per file with the decision taken for it: "refused" (the reader
raises InputError whose message contains `message`) or "accepted" (it reads into float32 [C, H, W] in
[0, 1], the same as `reference` when one is given). `domain` is the reader domain the file is meant for
(the app's MNIST or SAR upload); the detect CLI reads every file as SAR, so it scores SAR cases exactly
when they are accepted. `bomb` marks files whose headers or compression claim far more memory than they
occupy: they must be refused from their headers, in small memory.

The pickled payloads would create `PICKLE_MARKER` if anything ever unpickled them.
"""

from __future__ import annotations

import io
import pickle
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import tifffile
import torch
from PIL import Image, PngImagePlugin

from rfi_models.data import load_mnist_sample, synthetic_sar
from rfi_models.io import MAX_FILE_BYTES

PICKLE_MARKER = Path(tempfile.gettempdir()) / "rfi_models_hostile_pickle_was_executed"
MIB = 1 << 20


@dataclass(frozen=True)
class HostileCase:
    name: str  # file stem
    data: bytes
    suffix: str  # file extension, with the dot
    expected: str  # "refused" or "accepted"
    domain: str  # "mnist" or "sar"
    why: str  # the decision and its reason
    message: str = ""  # refused: a part of the InputError message
    reference: bytes = b""  # accepted: a plain file that must read the same
    bomb: bool = False  # claims far more memory than it occupies

    @property
    def filename(self) -> str:
        return self.name + self.suffix


def forbid_unpickling(monkeypatch) -> None:
    """Make any unpickling (pickle's loaders, torch.load) fail the running test outright."""

    def forbidden(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)


class PicklePayload:
    """Unpickling this creates the file `marker` (PICKLE_MARKER unless given)."""

    def __init__(self, marker: Path = PICKLE_MARKER) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


# ------------------------------------------------------------------------------------------- encoders
def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def tiff_bytes(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


def tiff_pages_bytes(*pages: np.ndarray) -> bytes:
    """One TIFF page per array."""
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tif:
        for page in pages:
            tif.write(page, metadata=None)
    return buffer.getvalue()


def pil_bytes(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with almost no data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def tiff_claiming(height: int, width: int, samples: int = 1, bits: int = 8, sample_format: int = 1) -> bytes:
    """A little-endian TIFF whose one page claims height x width x samples (compressed with zlib, so any
    size is plausible) with a single 16-byte strip behind it."""
    entries = [  # (tag, type: 3 SHORT / 4 LONG, values)
        (256, 4, [width]),
        (257, 4, [height]),
        (258, 3, [bits] * samples),
        (259, 3, [8]),  # zlib
        (262, 3, [1]),  # min-is-black
        (273, 4, [0]),  # strip offset, filled in below
        (277, 3, [samples]),
        (278, 4, [height]),
        (279, 4, [16]),
        (284, 3, [1]),  # contiguous samples
        (339, 3, [sample_format] * samples),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    extra = bytearray()  # values longer than 4 bytes live after the IFD
    fields = b""
    for tag, kind, values in entries:
        packed = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if len(packed) > 4:
            fields += struct.pack("<HHII", tag, kind, len(values), 8 + ifd_size + len(extra))
            extra += packed
        else:
            fields += struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0")
    strip_offset = 8 + ifd_size + len(extra)
    fields = fields.replace(struct.pack("<HHII", 273, 4, 1, 0), struct.pack("<HHII", 273, 4, 1, strip_offset))
    ifd = struct.pack("<H", len(entries)) + fields + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + ifd + bytes(extra) + zlib.compress(b"\0" * 16)[:16].ljust(16, b"\0")


def jpeg_claiming(data: bytes, height: int, width: int) -> bytes:
    """A JPEG whose start-of-frame header is rewritten to claim height x width."""
    frame = data.index(b"\xff\xc0")
    return data[: frame + 5] + struct.pack(">HH", height, width) + data[frame + 9 :]


def zip_bytes(name: str, deflated: bytes, crc: int, file_size: int) -> bytes:
    """A one-member zip written by hand, so that its declared size can be anything."""
    encoded = name.encode()
    common = struct.pack("<HHHHIIIHH", 0, 8, 0, 0, crc, len(deflated), file_size, len(encoded), 0)
    local = struct.pack("<IH", 0x04034B50, 20) + common + encoded
    central = struct.pack("<IHH", 0x02014B50, 20, 20) + common + struct.pack("<HHHII", 0, 0, 0, 0, 0) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(deflated), 0)
    return local + deflated + central + end


def npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    """The .npy header of an array of `shape` and `dtype`, without its data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape})
    return header.getvalue()


def npz_bomb(shape: tuple[int, ...], dtype: str, zero_mib: int, declared_size: int | None = None) -> bytes:
    """An .npz whose image.npy is the header of `shape` followed by `zero_mib` MiB of zeros, really deflated to
    about 1 KiB per MiB: one full-flushed deflate segment of 1 MiB of zeros, repeated. `declared_size`
    (default: the true size) is the uncompressed size the zip directory claims."""
    header = npy_header(shape, dtype)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    deflated = head + segment * zero_mib + compressor.flush()
    size = len(header) + zero_mib * MIB if declared_size is None else declared_size
    crc = zlib.crc32(header[:size])  # of what the directory declares, so a reader stopping there sees no error
    for start in range(len(header), size, MIB):
        crc = zlib.crc32(bytes(min(MIB, size - start)), crc)
    return zip_bytes("image.npy", deflated, crc, size)


def text_chunk(size: int) -> PngImagePlugin.PngInfo:
    """PNG metadata with a compressed text chunk that inflates to `size` bytes."""
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * size, zip=True)
    return info


def photo_of(digit: np.ndarray, height: int, width: int) -> np.ndarray:
    """A large gray 'photo': the digit dark on light paper."""
    return 255 - np.asarray(Image.fromarray(digit).resize((width, height), Image.Resampling.BILINEAR))


def with_trailing_data(array: np.ndarray, extra: int) -> bytes:
    """An .npz whose image.npy carries `extra` bytes past what its header declares."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("image.npy", "w") as member:
        member.write(npy_bytes(array))
        member.write(bytes(extra))
    return buffer.getvalue()


def with_ifd_loop(data: bytes) -> bytes:
    """A little-endian two-page TIFF whose second page points back to the first."""
    first = struct.unpack("<I", data[4:8])[0]
    second_pointer = first + 2 + 12 * struct.unpack("<H", data[first : first + 2])[0]
    second = struct.unpack("<I", data[second_pointer : second_pointer + 4])[0]
    next_pointer = second + 2 + 12 * struct.unpack("<H", data[second : second + 2])[0]
    return data[:next_pointer] + struct.pack("<I", first) + data[next_pointer + 4 :]


def exif_rotated(image: Image.Image, fmt: str) -> bytes:
    """`image` stored turned 90 degrees, with the EXIF orientation (6) that turns it upright again."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return pil_bytes(image.transpose(Image.Transpose.ROTATE_90), fmt, exif=exif)


def flip_bytes(data: bytes, start: int, count: int) -> bytes:
    return data[:start] + bytes(b ^ 0x5A for b in data[start : start + count]) + data[start + count :]


# ------------------------------------------------------------------------------------------- SAFE products
PRODUCT = "S1A_IW_GRDH_1SDV_20210119T031653_20210119T031718_036201_043ED0_0000.SAFE"
ANNOTATION = """<?xml version="1.0" encoding="UTF-8"?>
<product><adsHeader><polarisation>{pol}</polarisation></adsHeader><imageAnnotation><imageInformation>
<productFirstLineUtcTime>2021-01-19T03:16:53.000000</productFirstLineUtcTime>
<productLastLineUtcTime>2021-01-19T03:17:18.000000</productLastLineUtcTime>
<numberOfLines>16700</numberOfLines><numberOfSamples>25000</numberOfSamples>
</imageInformation></imageAnnotation></product>"""
XML_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE product [<!ENTITY a0 "lollollollol">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    + "]>\n<product>&a9;</product>"  # 10^9 entity references: 12 GB once expanded
)


def annotation_name(pol: str, number: int) -> str:
    return f"annotation/s1a-iw-grd-{pol}-20210119t031653-20210119t031718-036201-043ed0-00{number}.xml"


def safe_zip(members: dict[str, bytes], product: str = PRODUCT) -> bytes:
    """A SAFE product zipped as downloaded: every member under the product's folder (a leading / keeps a name as is)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name if name.startswith("/") else f"{product}/{name}")  # no name clean-up
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def safe_members(patch: np.ndarray, **changes: bytes | None) -> dict[str, bytes]:
    """A small dual-pol product: manifest, VV and VH annotation, the quick-look of `patch`; `changes` replace
    (bytes) or remove (None) members by their key: manifest, vv, vh, quicklook, or add new ones."""
    quicklook = np.dstack([patch[0], patch[1], (patch[0] // 2 + patch[1] // 2)])
    members = {
        "manifest": ("manifest.safe", b"<xfdu:XFDU/>"),
        "vv": (annotation_name("vv", 1), ANNOTATION.format(pol="VV").encode()),
        "vh": (annotation_name("vh", 2), ANNOTATION.format(pol="VH").encode()),
        "quicklook": ("preview/quick-look.png", pil_bytes(Image.fromarray(quicklook))),
    }
    for key, value in changes.items():
        members[key] = (members[key][0] if key in members else key, value)
    return {name: data for name, data in members.values() if data is not None}


def safe_cases(patch: np.ndarray, refused, accepted) -> list[HostileCase]:
    """SAFE products (.zip): a good one, zip traversal, a zip bomb, an XML bomb, truncated and incomplete ones."""
    good = safe_zip(safe_members(patch))
    bomb = safe_zip(safe_members(patch, vv=b" " * (100 * MIB)))  # 100 MiB of XML in 100 KiB
    no_data = safe_members(patch, quicklook=None)
    no_data |= {f"measurement/s1a-iw-grd-{p}-20210119t031653-x-00{i}.tiff": b"" for i, p in ((1, "vv"), (2, "vh"))}
    single = PRODUCT.replace("_1SDV_", "_1SSV_")
    # fmt: off
    return [
        accepted("safe_quicklook", ".zip", "sar", good, "a SAFE zip without measurements: its quick-look",
                 pil_bytes(Image.fromarray(np.dstack([patch[0], patch[1], patch[0]])))),
        refused("zip_traversal", ".zip", "sar", safe_zip(safe_members(patch, **{"../../../tmp/evil.sh": b"x"})),
                "zip traversal", "a member named to land outside the product: the zip is refused whole"),
        refused("zip_absolute_path", ".zip", "sar", safe_zip(safe_members(patch, **{"/etc/cron.d/evil": b"x"})),
                "zip traversal", "an absolute member name"),
        refused("safe_zip_bomb", ".zip", "sar", bomb, "zip bomb",
                "an annotation inflating to 100 MiB: refused from the zip directory", True),
        refused("xml_bomb", ".zip", "sar", safe_zip(safe_members(patch, vv=XML_BOMB.encode())), "DTD or entities",
                "entity expansion (billion laughs) in the annotation: refused at its DTD, nothing expanded", True),
        refused("safe_truncated", ".zip", "sar", good[: len(good) * 3 // 5], "corrupt or truncated",
                "a download cut short: no zip directory"),
        refused("safe_no_data", ".zip", "sar", safe_zip(no_data), "nothing to read",
                "0-byte measurements and no quick-look"),
        refused("safe_no_annotation", ".zip", "sar", safe_zip(safe_members(patch, vv=None, vh=None)),
                "no annotation", "a product without its annotation"),
        refused("safe_single_pol", ".zip", "sar", safe_zip(safe_members(patch, vh=None), single),
                "single-polarisation", "a 1SSV product: one polarisation"),
    ]
    # fmt: on


# ------------------------------------------------------------------------------------------- corpus
@cache
def hostile_files() -> list[HostileCase]:
    """Every case; built once per process (78 files, 22 MiB, under 2 s)."""
    rng = np.random.default_rng(0)
    digits, _ = load_mnist_sample()
    digit = digits[7]
    digit_png = pil_bytes(Image.fromarray(digit))
    tall = np.zeros((64, 48), np.uint8)  # sides of whole JPEG blocks, so turning it moves no block edge
    tall[6:58, 21:27] = 255  # a bar, upright
    patch = np.rint(synthetic_sar(1, 40, 60, seed=1)[0][0] * 255).astype(np.uint8)  # [2, 40, 60], no zeros
    amplitude = rng.integers(30, 900, (2, 40, 60)).astype(np.uint16)
    db = np.where(patch > 0, -25.0 + patch / 10.0, 0).astype(np.float32)
    sar_tiff = tiff_pages_bytes(patch[0], patch[1])
    jpeg = pil_bytes(Image.fromarray(digit).resize((200, 200)), "JPEG", quality=95)
    sar_npz = npz_bytes(image=patch)
    nan, inf = patch.astype(np.float32) / 255, patch.astype(np.float32) / 255
    nan[0, 3, 3], inf[1, 5, 5] = np.nan, np.inf
    pickled = np.empty(2, dtype=object)
    pickled[0] = PicklePayload()
    scene = rng.integers(1, 256, (2, 2048, 2048), dtype=np.uint8)
    strip = np.tile(patch, (1, 1, 67))  # [2, 40, 4020]
    noise = rng.integers(0, 256, (3000, 2000), np.uint8)

    def refused(name, suffix, domain, data, message, why, bomb=False) -> HostileCase:
        return HostileCase(name, data, suffix, "refused", domain, why, message, bomb=bomb)

    def accepted(name, suffix, domain, data, why, reference=b"") -> HostileCase:
        return HostileCase(name, data, suffix, "accepted", domain, why, reference=reference)

    # fmt: off
    return [
        # truncated or corrupt
        refused("truncated", ".png", "mnist", digit_png[:60], "corrupt or truncated", "PNG cut inside its data"),
        refused("corrupt_data", ".png", "mnist", flip_bytes(digit_png, digit_png.index(b"IDAT") + 6, 12),
                "corrupt or truncated", "PNG whose compressed pixels are scrambled"),
        refused("header_only", ".png", "mnist", digit_png[:8] + bytes(100), "corrupt or truncated",
                "PNG signature, no image"),
        refused("truncated", ".jpg", "mnist", jpeg[: len(jpeg) // 2], "corrupt or truncated", "JPEG cut in half"),
        refused("zero_size", ".jpg", "mnist", jpeg_claiming(jpeg, 0, 0), "corrupt or truncated", "JPEG of 0 x 0"),
        refused("truncated", ".tif", "sar", sar_tiff[:300], "corrupt or truncated TIFF", "TIFF cut before its IFD"),
        refused("no_image", ".tif", "sar", b"II*\x00" + bytes(20), "holds no image", "TIFF header, no page"),
        refused("truncated", ".npy", "sar", npy_bytes(patch)[:500], "truncated .npy", ".npy cut inside its data"),
        refused("corrupt_header", ".npy", "sar", b"\x93NUMPY\x01\x00garbage", "corrupt .npy header", "bad header"),
        refused("truncated", ".npz", "sar", sar_npz[:200], "corrupt or truncated .npz", "zip cut short"),
        refused("corrupt_member", ".npz", "sar", flip_bytes(sar_npz, 60, 40), "corrupt or truncated .npz",
                "zip whose deflated member is scrambled"),
        refused("no_array", ".npz", "sar", zip_bytes("notes.txt", zlib.compress(b"hi")[2:-4], zlib.crc32(b"hi"), 2),
                "holds no .npy", "a zip without an array"),
        refused("ifd_loop", ".tif", "sar", with_ifd_loop(sar_tiff), "page chain loops",
                "a page chain that loops back never ends: refused after 64 pages"),
        # pickles
        refused("pickled_objects", ".npy", "sar", npy_bytes(pickled, allow_pickle=True), "pickled",
                "object arrays are refused from the header; nothing is unpickled"),
        refused("pickled_objects", ".npz", "sar", npz_bytes(image=pickled), "pickled", "the same inside an .npz"),
        # decompression bombs and huge headers
        refused("zip_bomb", ".npz", "sar", npz_bomb((2, 8192, 8192), "<f8", MAX_FILE_BYTES // MIB),
                "decompression bomb", "1 MiB of deflate inflating to 1 GiB: refused from the zip directory", True),
        refused("lying_zip_bomb", ".npz", "sar", npz_bomb((2, 8192, 8192), "<f4", 512, declared_size=4096),
                "truncated .npy", "inflates to 512 MiB, the zip directory claims 4 KiB: refused unread", True),
        accepted("trailing_data", ".npz", "sar", with_trailing_data(patch, MIB),
                 "1 MiB past what the .npy header declares is never read", npy_bytes(patch)),
        refused("huge_header", ".png", "mnist", png_claiming(30000, 30000), "too large", "30000 x 30000", True),
        refused("huge_header", ".jpg", "mnist", jpeg_claiming(jpeg, 65000, 65000), "too large", "65000 x 65000", True),
        refused("huge_header", ".tif", "sar", tiff_claiming(30000, 30000), "too large", "30000 x 30000", True),
        refused("huge_decoded", ".tif", "sar", tiff_claiming(8192, 8192, samples=5, bits=64, sample_format=3),
                "decodes to 2,560 MiB", "8192 x 8192 x 5 float64, zlib: 2.5 GiB once decoded", True),
        refused("huge_header", ".npy", "sar", npy_header((30000, 30000, 2), "|u1") + bytes(100), "too large",
                ".npy header claiming 30000 x 30000 x 2", True),
        refused("text_chunk_bomb", ".png", "mnist", pil_bytes(Image.fromarray(digit), pnginfo=text_chunk(50 * MIB)),
                "corrupt or truncated", "a zTXt chunk inflating to 50 MiB: PIL stops at its text limit", True),
        refused("many_pages", ".tif", "sar", tiff_pages_bytes(*[patch[0, :2, :2]] * 200), "more than 64 pages",
                "a long page chain is refused after 64 pages, unread", True),
        # empty files and text
        refused("empty", ".png", "mnist", b"", "empty", "0 bytes"),
        refused("empty", ".npy", "sar", b"", "empty", "0 bytes"),
        refused("text", ".png", "mnist", b"label,pixel0,pixel1\n7,0,255\n", "text file", "CSV named .png"),
        refused("html", ".tif", "sar", b"<html><script>alert(1)</script></html>\n", "text file", "HTML named .tif"),
        refused("random", ".jpg", "mnist", rng.bytes(4096), "not a recognised image", "random bytes"),
        refused("bitmap", ".png", "mnist", pil_bytes(Image.fromarray(digit), "BMP"), "unknown format",
                "BMP is not among the accepted formats"),
        # band counts
        accepted("rgb", ".png", "mnist", pil_bytes(Image.fromarray(digit).convert("RGB")),
                 "colour photos are converted to gray", digit_png),
        accepted("rgba", ".png", "mnist", pil_bytes(Image.fromarray(digit).convert("RGBA")), "alpha is dropped",
                 digit_png),
        refused("three_bands", ".npy", "sar", npy_bytes(np.dstack([patch[0]] * 3)), "got 3 bands", "SAR: 2 bands"),
        refused("four_bands", ".tif", "sar", tiff_bytes(np.stack([patch[0]] * 4), photometric="minisblack"),
                "got 4 bands", "SAR: 2 bands"),
        refused("five_bands", ".npy", "sar", npy_bytes(np.stack([patch[0]] * 5)), "got 5 bands", "SAR: 2 bands"),
        refused("three_bands_mnist", ".npy", "mnist", npy_bytes(np.dstack([digit] * 3)), "got 3 bands",
                "MNIST arrays have 1 band (only photos are converted)"),
        refused("two_pages_mnist", ".tif", "mnist", tiff_pages_bytes(digit, digit), "got 2 bands", "MNIST: 1 band"),
        refused("ten_bands", ".npy", "sar", npy_bytes(np.stack([patch[0]] * 10)), "cannot tell the bands",
                "10 x 40 x 60: no axis looks like bands"),
        # sizes and aspect ratios
        refused("one_pixel", ".png", "mnist", pil_bytes(Image.new("L", (1, 1), 255)), "too small", "1 x 1"),
        refused("one_pixel", ".npy", "sar", npy_bytes(np.full((1, 1, 2), 9, np.uint8)), "too small", "1 x 1"),
        accepted("strip_20x4000", ".npy", "sar", npy_bytes(strip[:, :20]), "one patch high is enough: tiled"),
        refused("strip_19x4000", ".npy", "sar", npy_bytes(strip[:, :19]), "too small", "under one patch (20) high"),
        accepted("wide_8x2000", ".png", "mnist", pil_bytes(Image.fromarray(noise[:8, :2000])),
                 "any size of at least 8 x 8 is scaled into MNIST's 20 x 20 box"),
        accepted("tall_3000x10", ".jpg", "mnist", pil_bytes(Image.fromarray(noise[:3000, :10]), "JPEG"),
                 "any size of at least 8 x 8 is scaled into MNIST's 20 x 20 box"),
        # NaN, Inf and no-data
        refused("nan", ".npy", "sar", npy_bytes(nan), "NaN or Inf", "no value for a pixel; no-data is 0"),
        refused("inf", ".tif", "sar", tiff_bytes(inf), "NaN or Inf", "no value for a pixel"),
        refused("minus_inf", ".npz", "sar", npz_bytes(image=-inf), "NaN or Inf", "no value for a pixel"),
        refused("all_zero", ".npy", "sar", npy_bytes(np.zeros((2, 40, 60), np.uint8)), "every pixel is 0",
                "pure no-data: nothing to analyse"),
        refused("all_zero", ".png", "mnist", pil_bytes(Image.new("L", (28, 28))), "every pixel is 0", "blank"),
        refused("all_zero", ".tif", "sar", tiff_bytes(np.zeros((2, 40, 60), np.uint16)), "every pixel is 0",
                "pure no-data: nothing to analyse"),
        # data types
        accepted("uint16_amplitude", ".npy", "sar", npy_bytes(amplitude), "Sentinel-1 GRD amplitude DN -> dB"),
        accepted("uint16_big_endian", ".npy", "sar", npy_bytes(amplitude.astype(">u2")), "byte order is read",
                 npy_bytes(amplitude)),
        accepted("uint16_amplitude", ".tif", "sar", tiff_bytes(amplitude), "GRD amplitude as TIFF",
                 npy_bytes(amplitude)),
        accepted("uint16", ".png", "mnist", pil_bytes(Image.fromarray(digit.astype(np.uint16) * 257)),
                 "16-bit gray PNG", digit_png),
        accepted("int32", ".npy", "sar", npy_bytes(patch.astype(np.int32)), "non-negative ints <= 255 are 8-bit",
                 npy_bytes(patch)),
        refused("int32_negative", ".npy", "sar", npy_bytes(patch.astype(np.int32) - 100), "negative integer",
                "no known scale"),
        refused("int32_huge", ".npy", "sar", npy_bytes(patch.astype(np.int32) * 5000), "not understood",
                "beyond 16 bits: no known scale"),
        accepted("float64", ".npy", "sar", npy_bytes(patch / 255.0), "floats in [0, 1] are used as they are",
                 npy_bytes(patch)),
        accepted("float64", ".tif", "mnist", tiff_bytes(digit.astype(np.float64)), "floats in [0, 255]", digit_png),
        accepted("float16", ".npy", "sar", npy_bytes((patch / 255).astype(np.float16)), "half floats in [0, 1]"),
        refused("bool", ".npy", "sar", npy_bytes(patch > 100), "unsupported data type bool", "a mask, not an image"),
        refused("complex64", ".npy", "sar", npy_bytes(patch.astype(np.complex64)), "complex", "SLC: give |SLC|"),
        refused("complex128", ".tif", "sar", tiff_bytes(patch.astype(np.complex128)), "complex", "SLC: give |SLC|"),
        refused("strings", ".npy", "sar", npy_bytes(np.full((2, 40, 60), "ab")), "unsupported data type", "text"),
        # sigma0 in dB
        accepted("db", ".npy", "sar", npy_bytes(db), "negative floats within [-80, 40] are sigma0 in dB (SAR)"),
        accepted("db", ".tif", "sar", tiff_bytes(db), "sigma0 dB as a float TIFF", npy_bytes(db)),
        refused("db_out_of_range", ".npy", "sar", npy_bytes(db - 200), "not understood", "below -80 dB"),
        refused("db_mnist", ".npy", "mnist", npy_bytes(db[0]), "not understood", "dB means nothing for MNIST"),
        # multi-page TIFF
        accepted("two_pages", ".tif", "sar", sar_tiff, "two pages of one size are VV, VH", npy_bytes(patch)),
        refused("three_pages", ".tif", "sar", tiff_pages_bytes(*patch, patch[0]), "got 3 bands", "VV, VH and what?"),
        refused("pages_of_two_sizes", ".tif", "sar", tiff_pages_bytes(patch[0], patch[1, :30]), "2 images",
                "VV and VH must have one size"),
        # EXIF rotation
        accepted("exif_rotated", ".png", "mnist", exif_rotated(Image.fromarray(tall), "PNG"),
                 "EXIF rotation is applied", pil_bytes(Image.fromarray(tall))),
        accepted("exif_rotated", ".jpg", "mnist", exif_rotated(Image.fromarray(tall), "JPEG"),
                 "EXIF rotation is applied", pil_bytes(Image.fromarray(tall), "JPEG")),
        accepted("exif_garbage", ".jpg", "mnist",
                 pil_bytes(Image.fromarray(digit), "JPEG", exif=b"Exif\0\0" + b"\xff" * 40),
                 "unreadable EXIF is ignored", pil_bytes(Image.fromarray(digit), "JPEG")),
        # large but allowed
        accepted("large_scene", ".npy", "sar", npy_bytes(scene), "2 x 2048 x 2048 (8 MiB): within every limit"),
        accepted("large_scene", ".tif", "sar", tiff_bytes(scene.astype(np.uint16) * 3, compression="zlib"),
                 "zlib-compressed 2 x 2048 x 2048 uint16 amplitude"),
        accepted("phone_photo", ".jpg", "mnist", pil_bytes(Image.fromarray(photo_of(digit, 3000, 4000)), "JPEG"),
                 "a 12-megapixel photo of a dark digit on paper", digit_png),
        *safe_cases(patch, refused, accepted),
    ]
    # fmt: on
