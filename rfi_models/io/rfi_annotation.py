"""The processor's own RFI annotation of a Sentinel-1 product (`annotation/rfi/rfi-*.xml`, IPF 3.4 on).

Each file holds, for one polarisation, `rfiMitigationApplied` and reports per swath and time: one
`rfiDetectionFromNoiseReport` per noise-sensing time (`rfiDetected`) and, in newer products, one `rfiBurstReport`
per burst (flagged here when one of its `percentage...` figures, the share of lines or items found with RFI, is
above 0). Times become image rows from the product's first and last line times, for an image of any height
covering the whole product (a quick-look, a multi-looked measurement).
"""

from __future__ import annotations

from datetime import datetime
from xml.etree.ElementTree import Element

from .info import RfiAnnotation, RfiReport


def text(element: Element, tag: str, default: str = "") -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else default


def seconds(iso: str) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def time_to_row(time: str, first: str, last: str, height: int) -> int | None:
    """The row of an image of `height` rows spanning first..last (ISO times) at `time`; None outside or unknown."""
    t, t0, t1 = seconds(time), seconds(first), seconds(last)
    if None in (t, t0, t1) or t1 <= t0 or not t0 <= t <= t1:
        return None
    return min(height - 1, int((t - t0) / (t1 - t0) * height))


def burst_flagged(report: Element) -> bool:
    for element in report.iter():
        if element.tag.startswith("percentage"):
            try:
                if float(element.text) > 0:
                    return True
            except (TypeError, ValueError):
                continue
    return False


def parse_rfi_annotation(roots: list[Element], span: tuple[str, str] | None, height: int) -> RfiAnnotation:
    """RFI annotation XML roots (one per polarisation) -> RfiAnnotation, rows placed by `span` (first, last time)."""
    mitigation, reports = [], []
    for root in roots:
        polarisation = text(root, "adsHeader/polarisation", "?")
        mitigation.append((polarisation, text(root, "rfiMitigationApplied", "not stated")))
        found = [("noise", r, "noiseSensingTime", text(r, "rfiDetected").lower() == "true")
                 for r in root.iter("rfiDetectionFromNoiseReport")]  # fmt: skip
        found += [("burst", r, "azimuthTime", burst_flagged(r)) for r in root.iter("rfiBurstReport")]
        for kind, report, time_tag, detected in found:
            time = text(report, time_tag)
            row = time_to_row(time, *span, height) if span else None
            reports.append(RfiReport(polarisation, text(report, "swath", "?"), kind, time, detected, row))
    return RfiAnnotation(tuple(mitigation), tuple(reports))
