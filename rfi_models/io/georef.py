"""Georeferencing read from GeoTIFFs and written into every GeoTIFF made from them, through rasterio (GDAL).

`read_georef` takes a `Georef` from a file's header (`scene_georef` from a scene file); `write_geotiff` writes
a mask or any raster with it, a block of rows at a time; `geotiff_bytes` does the same in memory for downloads.
rasterio takes a fraction of a second to import, so `rfi_models.io` imports this module only when a GeoTIFF is
read or written.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import MemoryFile
from rasterio.windows import Window

from .info import Georef

ROWS_PER_CHUNK = 1024


def crs_name(crs: CRS | None) -> str:
    """'EPSG:4326' where GDAL knows an authority code, else the CRS's own description."""
    if crs is None:
        return "no CRS"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()[:60]


def georef_of(dataset, source: str = "") -> Georef | None:
    """The georeferencing of an open rasterio dataset, or None when it has none."""
    gcps, gcp_crs = dataset.gcps
    if gcps:
        points = tuple((p.row, p.col, p.x, p.y, p.z or 0.0) for p in gcps)
        return Georef(gcp_crs.to_wkt() if gcp_crs else None, crs_name(gcp_crs), gcps=points, source=source)
    if dataset.transform.is_identity and dataset.crs is None:
        return None
    crs = dataset.crs
    return Georef(crs.to_wkt() if crs else None, crs_name(crs), tuple(dataset.transform)[:6], source=source)


def read_georef(source: str | Path | bytes, name: str = "GeoTIFF") -> Georef | None:
    """The georeferencing of a GeoTIFF path or bytes (header only; no pixels are decoded), None if it has none.

    Call it on files another reader has already checked: a file GDAL cannot open is taken as not georeferenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            if isinstance(source, bytes):
                with MemoryFile(source) as memory, memory.open() as dataset:
                    return georef_of(dataset, name)
            with rasterio.open(source) as dataset:
                return georef_of(dataset, name)
        except (RasterioError, OSError, ValueError):
            return None


TIFF_SUFFIXES = (".tif", ".tiff")


def scene_georef(path: str | Path) -> Georef | None:
    """The georeferencing of a scene file read by `open_scene`: a (Geo)TIFF's, None for any other file (.npy)."""
    return read_georef(path) if Path(path).suffix.lower() in TIFF_SUFFIXES else None


def row_chunks(data: np.ndarray, rows: int = ROWS_PER_CHUNK) -> Iterable[np.ndarray]:
    """[H, W] or [C, H, W] array-like (a memmap stays on disk) -> blocks of at most `rows` rows."""
    for top in range(0, data.shape[-2], rows):
        yield np.asarray(data[..., top : top + rows, :])


def as_raster(chunk: np.ndarray) -> np.ndarray:
    """A block as GDAL wants it: [C, h, W]; bool masks become 0 / 255 bytes."""
    chunk = chunk.astype(np.uint8) * np.uint8(255) if chunk.dtype == bool else chunk
    return chunk[None] if chunk.ndim == 2 else chunk


@contextmanager
def suppressed_georef_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


def write_raster(dataset, chunks: Iterable[np.ndarray], georef: Georef | None) -> None:
    """Write row blocks into an open rasterio dataset, then its georeferencing."""
    if georef is not None and georef.gcps:
        points = [GroundControlPoint(row=r, col=c, x=x, y=y, z=z) for r, c, x, y, z in georef.gcps]
        dataset.gcps = (points, CRS.from_user_input(georef.crs) if georef.crs else None)
    elif georef is not None:
        dataset.transform = Affine(*georef.transform)
        if georef.crs:
            dataset.crs = CRS.from_user_input(georef.crs)
    top = 0
    for chunk in chunks:
        block = as_raster(chunk)
        dataset.write(block, window=Window(0, top, block.shape[-1], block.shape[-2]))
        top += block.shape[-2]


def profile(shape: tuple[int, ...], dtype: np.dtype) -> dict:
    bands = 1 if len(shape) == 2 else shape[0]
    dtype = np.uint8 if np.dtype(dtype) == bool else np.dtype(dtype)
    return dict(driver="GTiff", height=shape[-2], width=shape[-1], count=bands, dtype=dtype, compress="deflate",
                tiled=True, blockxsize=256, blockysize=256, BIGTIFF="IF_SAFER")  # fmt: skip


def write_geotiff(
    path: str | Path,
    data: np.ndarray | Iterable[np.ndarray],
    georef: Georef | None,
    shape: tuple[int, ...] | None = None,
    dtype: np.dtype | None = None,
) -> None:
    """Write a GeoTIFF carrying `georef` (None: a plain TIFF), a block of rows at a time.

    `data` is an array-like [H, W] or [C, H, W] (a memmap is never loaded whole), or an iterable of row blocks
    with `shape` and `dtype` given. Bool masks are written as 0 / 255 bytes.
    """
    if shape is None:
        shape, dtype, data = tuple(data.shape), data.dtype, row_chunks(data)
    with suppressed_georef_warning(), rasterio.open(path, "w", **profile(shape, dtype)) as dataset:
        write_raster(dataset, data, georef)


def geotiff_bytes(array: np.ndarray, georef: Georef | None) -> bytes:
    """`write_geotiff` into memory, for a download."""
    with suppressed_georef_warning(), MemoryFile() as memory:
        with memory.open(**profile(array.shape, array.dtype)) as dataset:
            write_raster(dataset, row_chunks(array), georef)
        return memory.read()
