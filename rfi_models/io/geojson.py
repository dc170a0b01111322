"""RFI stripes as GeoJSON: a FeatureCollection with one Polygon feature per stripe, georeferenced when the image is.

The stripes are those of `rfi_models.detection.stripes` (row0, row1, col0, col1 inclusive, peak and mean score).
Each feature's properties are the detector's name, the stripe's mean score ("score", the box's score for box AP)
and peak score, and its rows and columns in pixels; the collection also says the detector, its threshold and the
image's size.

Coordinates. RFC 7946, the GeoJSON standard, allows one coordinate reference system: WGS 84 longitude/latitude in
decimal degrees (OGC CRS84). It removed the "crs" member of the 2008 specification because alternative CRSs had
proven to have interoperability problems: readers that follow the RFC (web maps, geojson.io, most JSON tooling)
ignore a "crs" member and would put projected metres at absurd longitudes, while GDAL and QGIS read a file without
one as CRS84. So the stripes of a georeferenced image are reprojected to CRS84 with `rasterio.warp.transform_geom`
(GDAL's geometry transformer, which also cuts a geometry at the antimeridian, making it a MultiPolygon there), and
the file is valid GeoJSON for every reader. Each box's edges are densified first (a point every EDGE_STEP pixels),
so that a box in a projected CRS, or in radar geometry located by ground control points, keeps its shape. The
image's own CRS is named in the top-level foreign member "source_crs", which changes no coordinate. Exterior rings
are counter-clockwise (the RFC's right-hand rule).

An image without georeferencing gives pixel coordinates: x = column, y = row of the pixel edges (stripe rows
row0..row1 and columns col0..col1 span y row0..row1 + 1 and x col0..col1 + 1), origin at the image's top-left
corner, y down. An image with an affine transform but no CRS gives the transform's map coordinates. The top-level
member "coordinate_system" says which of the three a file holds.

Written atomically (`rfi_models.artifacts.atomic`): a killed run leaves the previous file or none.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..artifacts.atomic import write_bytes
from .info import Georef

EDGE_STEP = 64  # pixels between the points of a box's densified edges
LONLAT = "longitude/latitude, WGS 84 (RFC 7946)"
PIXELS = "pixels: x = column, y = row of the pixel edges, origin at the top-left corner, y down"
MAP_UNITS = "map coordinates of the image's affine transform (the image records no CRS)"
LONLAT_DECIMALS = 7  # about 1 cm


def pixel_ring(stripe: dict) -> np.ndarray:
    """The closed outline of a stripe's pixels in pixel-edge coordinates, float [N, 2] of (x = column, y = row),
    with a point at least every EDGE_STEP pixels along each edge."""
    left, right, top, bottom = stripe["col0"], stripe["col1"] + 1, stripe["row0"], stripe["row1"] + 1

    def edge(start: tuple[float, float], end: tuple[float, float]) -> np.ndarray:
        steps = max(1, int(np.ceil(max(abs(end[0] - start[0]), abs(end[1] - start[1])) / EDGE_STEP)))
        t = np.arange(steps)[:, None] / steps  # the start, not the end (the next edge starts there)
        return np.asarray(start) + t * (np.asarray(end) - np.asarray(start))

    corners = [(left, top), (left, bottom), (right, bottom), (right, top)]
    ring = np.concatenate([edge(corners[i], corners[(i + 1) % 4]) for i in range(4)])
    return np.vstack([ring, ring[:1]]).astype(np.float64)


def to_map(georef: Georef, ring: np.ndarray) -> np.ndarray:
    """Pixel-edge coordinates (x = column, y = row) -> the georeference's map coordinates: its affine transform,
    or its ground control points (GDAL's GCP transformer, as GDAL warps such an image)."""
    if georef.gcps:
        from rasterio.control import GroundControlPoint
        from rasterio.transform import GCPTransformer

        points = [GroundControlPoint(row=r, col=c, x=x, y=y, z=z) for r, c, x, y, z in georef.gcps]
        with GCPTransformer(points) as transformer:
            xs, ys = transformer.xy(ring[:, 1], ring[:, 0], offset="ul")
        return np.column_stack([xs, ys])
    a, b, c, d, e, f = georef.transform
    return np.column_stack([a * ring[:, 0] + b * ring[:, 1] + c, d * ring[:, 0] + e * ring[:, 1] + f])


def counter_clockwise(ring: list) -> list:
    """A closed ring, reversed if its signed (shoelace) area is negative."""
    points = np.asarray(ring, dtype=np.float64)
    area = np.sum(points[:-1, 0] * points[1:, 1] - points[1:, 0] * points[:-1, 1])
    return ring[::-1] if area < 0 else ring


def oriented(geometry: dict) -> dict:
    """A Polygon or MultiPolygon whose exterior rings are counter-clockwise (and holes, which boxes lack, kept)."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    fixed = [[counter_clockwise(polygon[0]), *polygon[1:]] for polygon in polygons]
    return {"type": geometry["type"], "coordinates": fixed[0] if geometry["type"] == "Polygon" else fixed}


def coordinate_system(georef: Georef | None) -> str:
    if georef is None or not (georef.gcps or georef.transform):
        return PIXELS
    return LONLAT if georef.crs else MAP_UNITS


def stripe_geometry(stripe: dict, georef: Georef | None) -> dict:
    """The GeoJSON geometry of one stripe (see the module docstring for its coordinates)."""
    ring = pixel_ring(stripe)
    system = coordinate_system(georef)
    if system == PIXELS:
        return oriented({"type": "Polygon", "coordinates": [ring.tolist()]})
    polygon = {"type": "Polygon", "coordinates": [to_map(georef, ring).tolist()]}
    if system == MAP_UNITS:
        return oriented(polygon)
    from rasterio.crs import CRS
    from rasterio.warp import transform_geom

    lonlat = transform_geom(CRS.from_user_input(georef.crs), "EPSG:4326", polygon, precision=LONLAT_DECIMALS)
    return oriented(json.loads(json.dumps(lonlat)))  # tuples -> lists


def stripes_collection(
    stripes: list[dict], georef: Georef | None, detector: str, threshold: float, shape: tuple[int, int]
) -> dict:
    """The GeoJSON FeatureCollection of `stripes` of an image of `shape` (H, W) with georeference `georef` (None:
    pixel coordinates), found by `detector` at `threshold`."""
    pixels = ("row0", "row1", "col0", "col1")
    features = [
        {
            "type": "Feature",
            "geometry": stripe_geometry(stripe, georef),
            "properties": {"detector": detector, "score": stripe["score"], "peak": stripe["peak"]}
            | {key: stripe[key] for key in pixels},
        }
        for stripe in stripes
    ]
    return {
        "type": "FeatureCollection",
        "coordinate_system": coordinate_system(georef),
        "source_crs": georef.crs_name if georef is not None and georef.crs else None,
        "detector": detector,
        "threshold": float(threshold),
        "image": {"height": int(shape[0]), "width": int(shape[1])},
        "rows_and_columns": "inclusive pixel indices, row 0 at the top",
        "features": features,
    }


def stripes_text(*collection_args) -> str:
    """`stripes_collection(...)` as the text of a .geojson file: its members, then one feature per line."""
    collection = stripes_collection(*collection_args)
    head = json.dumps({key: value for key, value in collection.items() if key != "features"})
    features = ",\n".join(json.dumps(feature) for feature in collection["features"])
    return f'{head[:-1]}, "features": [\n{features}\n]}}\n'


def write_stripes(path: str | Path, stripes: list[dict], georef: Georef | None, detector: str, threshold: float,
                  shape: tuple[int, int]) -> None:  # fmt: skip
    """Write `stripes_collection(...)` to `path` atomically."""
    write_bytes(path, stripes_text(stripes, georef, detector, threshold, shape).encode())


GEOJSON_SUFFIXES = (".geojson", ".json")


def check_boxes_path(path: str | Path) -> Path:
    """`path` if stripes can be written there, else an InputError saying why (before any work is done)."""
    from .limits import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError(f"--boxes {path} is a folder; give a file name ending in .geojson")
    if path.suffix.lower() not in GEOJSON_SUFFIXES:
        raise InputError(f"--boxes must end in .geojson or .json, got {path.name}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--boxes {path}: {folder} is not an existing folder")
    if not os.access(folder, os.W_OK | os.X_OK):  # the file goes there under a temporary name, then is renamed
        raise InputError(f"--boxes {path}: not writable here (permission denied)")
    return path
