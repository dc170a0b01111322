"""A Sentinel-1 SAFE product (folder or zip) -> dual-pol image on the quick-look scale, and what was read.

With both polarisations' measurement GeoTIFFs: uint16 DN -> sigma0 with the calibration LUT (thermal noise
removed when asked and a noise LUT is there), multi-looked to the readers' limit, onto the quick-look scale,
georeferenced by the measurement's ground control points. Without them (a download that left them out, 0-byte
placeholders): the product's quick-look, with a note that it is a preview, georeferenced approximately by the
annotation's geolocation grid. The processor's RFI annotation comes along when the product has one.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np

from .calibration import Calibration, calibrated_band, look_factor
from .info import Georef, ReadInfo, Reading
from .limits import MAX_PIXELS, MAX_SCENE_PIXELS, InputError
from .product import Product, open_product
from .quicklook import QUICKLOOK_SCALE, SINGLE_POL, polarisations_from_name, quicklook_bands
from .rfi_annotation import parse_rfi_annotation, text

CO_POL = ("VV", "HH")
QUICKLOOK = "preview/quick-look.png"
SIGMA0_SCALE = "sigma0 dB on the quick-look scale (-35..5 dB -> 1..255)"


def member(polarisation: str, folder: str, prefix: str = "", suffix: str = r"\.xml") -> str:
    """The regular expression of a product file of one polarisation, e.g. annotation/s1a-iw-grd-vv-...xml."""
    return rf"{folder}/{prefix}[^/]*-{polarisation}-[^/]*{suffix}"


def product_polarisations(product: Product) -> tuple[str, str]:
    """(co-pol, cross-pol) from the product's annotation files; single-pol and missing annotation are refused."""
    named = polarisations_from_name(product.name)
    found = {p for p in ("vv", "vh", "hh", "hv") if product.find(member(p, "annotation", "s1"))}
    if not found:
        raise InputError(
            f"{product.name}: the product has no annotation (annotation/s1*-<pol>-*.xml); it is incomplete"
        )
    if named and not {p.lower() for p in named} <= found:
        missing = ", ".join(p for p in named if p.lower() not in found)
        raise InputError(f"{product.name}: the annotation of {missing} is missing; the product is incomplete")
    if len(found) != 2:
        raise InputError(f"{product.name} has {len(found)} polarisation(s) ({', '.join(sorted(found))}); {SINGLE_POL}")
    return tuple(sorted((p.upper() for p in found), key=lambda p: p not in CO_POL))


def grid_georef(annotation: Element, shape: tuple[int, int]) -> Georef | None:
    """Approximate GCPs (EPSG:4326) of an image of `shape` covering the product, from the geolocation grid."""
    lines, samples = (int(text(annotation, f"imageAnnotation/imageInformation/{t}", "0") or 0)
                      for t in ("numberOfLines", "numberOfSamples"))  # fmt: skip
    fields = ("line", "pixel", "longitude", "latitude", "height")
    points = tuple(tuple(float(text(p, f, "nan")) for f in fields) for p in annotation.iter("geolocationGridPoint"))
    points = tuple(p for p in points if np.isfinite(p).all())
    if not points or lines <= 0 or samples <= 0:
        return None
    source = "the annotation's geolocation grid, scaled to this image (approximate)"
    return Georef("EPSG:4326", "EPSG:4326", gcps=points, source=source).scaled(lines / shape[0], samples / shape[1])


def rfi_of(product: Product, span: tuple[str, str] | None, height: int):
    paths = product.find(r"annotation/rfi/[^/]+\.xml")
    return parse_rfi_annotation([product.xml(p) for p in paths], span, height) if paths else None


def measurement_bands(product: Product, polarisations, measurements, denoise: bool):
    """Both measurement GeoTIFFs -> float32 [2, h, w] in [0, 1], the co-pol's georeferencing, notes."""
    from .georef import georef_of

    bands, georef, notes = [], None, []
    for polarisation, path in zip(polarisations, measurements, strict=True):
        pol = polarisation.lower()
        calibration_path = product.find(member(pol, "annotation/calibration", "calibration-"))
        if not calibration_path:
            raise InputError(f"{product.name}: the calibration annotation of {polarisation} is missing")
        noise_path = product.find(member(pol, "annotation/calibration", "noise-")) if denoise else []
        calibration = Calibration.parse(product.xml(calibration_path[0]),
                                        product.xml(noise_path[0]) if noise_path else None)  # fmt: skip
        with product.raster(path) as dataset:
            if dataset.dtypes[0] != "uint16" or dataset.count != 1:
                raise InputError(f"{path}: {dataset.count} band(s) of {dataset.dtypes[0]}; a GRD measurement is "
                                 "one band of uint16 amplitude")  # fmt: skip
            if dataset.height * dataset.width > MAX_SCENE_PIXELS:
                raise InputError(f"{path}: {dataset.height} x {dataset.width} px is over the scene limit")
            k = look_factor(dataset.height, dataset.width)
            bands.append(calibrated_band(dataset, calibration, denoise, k))
            georef = georef or georef_of(dataset, "the measurement GeoTIFF")
        if noise_path:
            notes.append(f"{polarisation}: thermal noise removed (noise LUT)")
    if bands[0].shape != bands[1].shape:
        raise InputError(f"{product.name}: the measurements differ in size ({bands[0].shape} vs {bands[1].shape})")
    if k > 1:
        notes.append(f"multi-looked {k} x {k} (mean sigma0) to fit the limit of {MAX_PIXELS:,} px per band")
        georef = georef.scaled(k, k) if georef else None
    return np.stack(bands), georef, notes


def read_product(product: Product, denoise: bool) -> Reading:
    polarisations = product_polarisations(product)
    annotation = product.xml(product.find(member(polarisations[0].lower(), "annotation", "s1"))[0])
    info = "imageAnnotation/imageInformation/"
    span = tuple(text(annotation, info + t) for t in ("productFirstLineUtcTime", "productLastLineUtcTime"))
    span = span if all(span) else None
    measurements = [product.find(member(p.lower(), "measurement", suffix=r"\.tiff?")) for p in polarisations]
    complete = all(m and product.files[m[0]] > 0 for m in measurements)
    fmt = f"SAFE {product.kind}"
    if complete:
        image, georef, notes = measurement_bands(product, polarisations, [m[0] for m in measurements], denoise)
        fmt, scale = f"{fmt}: measurement GeoTIFFs", SIGMA0_SCALE
    else:
        reason = ("the measurement GeoTIFFs are missing" if not all(measurements)
                  else "the measurement GeoTIFFs are 0-byte placeholders")  # fmt: skip
        if QUICKLOOK not in product.files:
            raise InputError(f"{product.name}: {reason} and the product has no quick-look ({QUICKLOOK}): "
                             "nothing to read; give a complete product")  # fmt: skip
        bands, _, notes = quicklook_bands(product.read(QUICKLOOK), product.name)
        image = bands.astype(np.float32) / np.float32(255)
        georef = grid_georef(annotation, bands.shape[1:])
        notes = [f"{reason}: this is the product's quick-look, a preview, not calibrated sigma0", *notes[1:]]
        fmt, scale = f"{fmt}: quick-look", QUICKLOOK_SCALE
    notes.insert(0, f"product {product.name}")
    rfi = rfi_of(product, span, image.shape[1])
    return Reading(image, ReadInfo(fmt, polarisations, tuple(image.shape[1:]), scale, georef, tuple(notes), rfi))


def read_safe(source: Path | bytes, label: str, denoise: bool = True) -> Reading:
    """A `.SAFE` folder, or a SAFE `.zip` as a path or bytes -> Reading (InputError when it cannot be used)."""
    with open_product(source, label) as product:
        return read_product(product, denoise)
