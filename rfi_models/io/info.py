"""What a reader read, returned beside the image: format, polarisations, size, value scale, georeferencing, notes,
and the processor's own RFI annotation when the product has one. Plain immutable data (hashable, so it goes
through the app's caches), without rasterio."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

Gcp = tuple[float, float, float, float, float]  # (row, col, x, y, z): a pixel position and its coordinates


@dataclass(frozen=True)
class Georef:
    """Where an image's pixels are on Earth: an affine transform (map geometry) or ground control points (radar
    geometry, as in Sentinel-1 GRD products), with the CRS as WKT. Read and written by `rfi_models.io.georef`."""

    crs: str | None = None  # WKT
    crs_name: str = "no CRS"  # "EPSG:4326", for people
    transform: tuple[float, ...] | None = (
        None  # affine (a, b, c, d, e, f): x = a col + b row + c, y = d col + e row + f
    )
    gcps: tuple[Gcp, ...] = ()
    source: str = ""  # where it came from

    def describe(self) -> str:
        kind = f"{len(self.gcps)} ground control points" if self.gcps else "an affine transform"
        return f"{kind} ({self.crs_name})" + (f" from {self.source}" if self.source else "")

    def scaled(self, row_factor: float, col_factor: float) -> Georef:
        """The same place for an image resampled so that its pixel (r, c) covers (r * row_factor, c * col_factor)."""
        if self.gcps:
            return replace(self, gcps=tuple((r / row_factor, c / col_factor, x, y, z) for r, c, x, y, z in self.gcps))
        a, b, c, d, e, f = self.transform
        return replace(self, transform=(a * col_factor, b * row_factor, c, d * col_factor, e * row_factor, f))


@dataclass(frozen=True)
class RfiReport:
    """One RFI report of the processor: a noise-sensing measurement or a burst, in one swath and polarisation."""

    polarisation: str
    swath: str
    kind: str  # "noise" (rfiDetectionFromNoiseReport) or "burst" (rfiBurstReport)
    time: str  # ISO UTC
    detected: bool
    row: int | None = None  # the image row of `time`, when the product's first and last line times are known


@dataclass(frozen=True)
class RfiAnnotation:
    """The processor's RFI annotation (`annotation/rfi/*.xml`) of a Sentinel-1 product."""

    mitigation: tuple[tuple[str, str], ...]  # (polarisation, rfiMitigationApplied)
    reports: tuple[RfiReport, ...]

    @property
    def flagged(self) -> tuple[RfiReport, ...]:
        return tuple(r for r in self.reports if r.detected)

    def flagged_rows(self) -> list[int]:
        return sorted({r.row for r in self.flagged if r.row is not None})

    def summary(self) -> str:
        swaths = sorted({r.swath for r in self.reports})
        flagged = self.flagged
        text = (
            f"processor RFI annotation: {len(flagged)} of {len(self.reports)} reports flagged RFI"
            f" (swaths {', '.join(swaths) or 'none'})"
        )
        if flagged:
            where = sorted({f"{r.swath} {r.polarisation} {r.time}" for r in flagged})
            rows = self.flagged_rows()
            text += f": {'; '.join(where[:5])}" + (f" (rows {', '.join(map(str, rows[:10]))})" if rows else "")
        mitigation = ", ".join(f"{value} ({pol})" for pol, value in self.mitigation)
        return text + f"; mitigation applied: {mitigation or 'not stated'}"


@dataclass(frozen=True)
class ReadInfo:
    """What was read: shown under the image in the app and printed by the CLIs."""

    format: str  # "Sentinel-1 quick-look PNG", "SAFE zip: measurement GeoTIFFs", "NumPy .npy", ...
    polarisations: tuple[str, ...]  # ("VV", "VH"), ("HH", "HV"), ("co-pol", "cross-pol") or ("grey",) for MNIST
    size: tuple[int, int]  # rows, columns as read (before any MNIST preparation)
    scale: str  # "quick-look 8-bit", "sigma0 dB on the quick-look scale", ...
    georef: Georef | None = None
    notes: tuple[str, ...] = ()
    rfi: RfiAnnotation | None = None

    def lines(self) -> list[str]:
        georef = f"georeferenced: {self.georef.describe()}" if self.georef else "not georeferenced"
        head = f"{self.format} · {' / '.join(self.polarisations)} · {self.size[0]} x {self.size[1]} px · {self.scale}"
        return [head, georef, *self.notes, *([self.rfi.summary()] if self.rfi else [])]

    def with_notes(self, *notes: str) -> ReadInfo:
        return replace(self, notes=(*self.notes, *notes))


@dataclass(frozen=True)
class Reading:
    """A read image, float32 [C, H, W] in [0, 1], and what was read."""

    image: np.ndarray = field(compare=False)
    info: ReadInfo
