"""Reading user files safely: `read_input(source, domain) -> Reading` (the image, float32 [C, H, W] in [0, 1],
and `ReadInfo`: what was read, with its georeferencing), or just the image with `read_image`.

The format is recognised from the file's first bytes, never from its name. Sizes are checked from
headers before anything is decoded, arrays are read with allow_pickle=False, and every problem
becomes an `InputError` whose message says what is wrong and what is accepted.

Accepted:
- .npy / .npz: H x W, H x W x C or C x H x W (a leading batch axis of 1 is dropped). An .npz holds
  one array, or several with one named "image".
- PNG / JPEG: MNIST, any size or mode (EXIF rotation applied); for SAR a Sentinel-1 quick-look
  (red = co-pol, green = cross-pol; `quicklook`).
- TIFF / GeoTIFF: 1 band (MNIST) or 2 bands (SAR), as one page with 2 samples, 2 planes, or two
  pages of the same size; the georeferencing is kept (`georef`).
- SAR only: a Sentinel-1 SAFE product, `.SAFE` folder or `.zip`, read in place (`safe`).

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

from ..names import DOMAINS
from .info import Georef, ReadInfo, Reading, RfiAnnotation, RfiReport
from .limits import (
    CHANNELS,
    GRD_AMPLITUDE_CALIBRATION_DB,
    MAX_ARRAY_BYTES,
    MAX_FILE_BYTES,
    MAX_PIXELS,
    MAX_SCENE_PIXELS,
    MIN_SIDE,
    MNIST_SIZE,
    InputError,
)
from .read import read_image, read_input
from .whole_scene import open_scene, release_mapped_pages

__all__ = [
    "CHANNELS",
    "DOMAINS",
    "GRD_AMPLITUDE_CALIBRATION_DB",
    "MAX_ARRAY_BYTES",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MAX_SCENE_PIXELS",
    "MIN_SIDE",
    "MNIST_SIZE",
    "Georef",
    "InputError",
    "ReadInfo",
    "Reading",
    "RfiAnnotation",
    "RfiReport",
    "geotiff_bytes",
    "open_scene",
    "read_georef",
    "read_image",
    "read_input",
    "release_mapped_pages",
    "write_geotiff",
]


GEOTIFF_FUNCTIONS = ("geotiff_bytes", "read_georef", "write_geotiff")


def __getattr__(name: str):
    """rasterio (a fraction of a second to import) is imported when a GeoTIFF function is first used."""
    if name in GEOTIFF_FUNCTIONS:
        from . import georef

        return getattr(georef, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
