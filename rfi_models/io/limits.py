"""The readers' limits, and the error every refusal raises."""

from __future__ import annotations

MAX_PIXELS = 8192 * 8192  # per band
MAX_FILE_BYTES = 1 << 30
MAX_ARRAY_BYTES = 1 << 29  # a decoded array, however compressed: 2 bands of 8192 x 8192 float32
MAX_SCENE_PIXELS = 1 << 30  # per band, for memory-mapped scenes and SAFE measurements (a GRD is about 4e8)
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
    "PNG/JPEG (MNIST; for SAR a Sentinel-1 dual-pol quick-look), TIFF/GeoTIFF with 1 band (MNIST) or 2 bands "
    "(SAR: VV, VH), a Sentinel-1 SAFE product (.SAFE folder or .zip)"
)


class InputError(ValueError):
    """A user file that cannot be used; the message says why and what is accepted."""
