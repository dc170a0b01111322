"""Markdown cells and tables for RESULTS.md: the helpers every report module shares (no report imports another's
helpers, so the report modules form no import cycle)."""

from __future__ import annotations


def fmt(value, digits: int = 3) -> str:
    """A figure with `digits` decimals; "-" for a missing or NaN value."""
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
