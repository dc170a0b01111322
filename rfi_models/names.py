"""Names every layer shares, importable without torch: the data domains and the model families."""

from __future__ import annotations

DOMAINS = ("mnist", "sar")
FAMILIES = ("mae", "cae", "dae")  # in display order; the same set as rfi_models.list_models()


def check_domain(domain: str) -> None:
    """ValueError unless `domain` is one of DOMAINS."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
