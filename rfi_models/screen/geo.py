"""GeoTIFF georeferencing for the screening outputs (rasterio): read it from an input, write it into an output.

A georeference is the input's CRS and either its affine transform or its ground control points (a
Sentinel-1 GRD in radar geometry has GCPs). Inputs that rasterio cannot open, or that carry neither,
have none, and their outputs are plain TIFFs with the same pixel grid.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BLOCK_SIZE = 256  # tile side of the written GeoTIFFs


@dataclass(frozen=True)
class Georef:
    crs_wkt: str | None
    transform: tuple[float, ...] | None  # affine a, b, c, d, e, f
    gcps: tuple[tuple[float, float, float, float, float], ...] = ()  # (row, col, x, y, z)


def read_georef(path: Path) -> Georef | None:
    """The georeference of a TIFF scene, or None."""
    if Path(path).suffix.lower() not in (".tif", ".tiff"):
        return None
    import rasterio
    from rasterio.errors import RasterioIOError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning
        try:
            with rasterio.open(path) as dataset:
                gcps, gcp_crs = dataset.gcps
                crs = dataset.crs or gcp_crs
                georeferenced = not dataset.transform.is_identity
                transform = tuple(dataset.transform)[:6] if georeferenced else None
        except RasterioIOError:
            return None
    if transform is None and not gcps:
        return None
    points = tuple((p.row, p.col, p.x, p.y, p.z or 0.0) for p in gcps)
    return Georef(crs.to_wkt() if crs else None, transform, points)


@contextlib.contextmanager
def open_geotiff(path: Path, shape: tuple[int, int], dtype: str, georef: Georef | None) -> Iterator:
    """A one-band tiled, deflate-compressed GeoTIFF open for writing windows, with `georef` when given."""
    import rasterio
    from rasterio.control import GroundControlPoint
    from rasterio.transform import Affine

    profile = {
        "driver": "GTiff", "height": shape[0], "width": shape[1], "count": 1, "dtype": dtype, "compress": "deflate",
        "tiled": True, "blockxsize": BLOCK_SIZE, "blockysize": BLOCK_SIZE, "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    if georef is not None and georef.transform is not None:
        profile |= {"transform": Affine(*georef.transform), "crs": georef.crs_wkt}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning for plain grids
        with rasterio.open(path, "w", **profile) as dataset:
            if georef is not None and georef.gcps:
                points = [GroundControlPoint(row, col, x, y, z) for row, col, x, y, z in georef.gcps]
                dataset.gcps = (points, georef.crs_wkt)
            yield dataset
