"""Retake the README's screenshots: the app's main grids on a real Sentinel-1 patch with real RFI.

Runs the app (`streamlit run`, headless, the shipped checkpoints) and Debian's Chromium (/usr/bin/chromium, through
Playwright; nothing is downloaded) at 1920 x 1080, opens each page on a shared link and saves its main figure as
docs/<name>.png (one element screenshot, reduced to a 256-colour palette when it would pass MAX_BYTES). The SAR
pages open on the real patch `PATCH` of the SAR gallery, its hand-drawn boxes drawn on every panel.

Usage, from the repository root: `.venv/bin/python docs/screenshots.py [--patch tree]` (about a minute).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script in docs/: the project's packages are beside it

from PIL import Image  # noqa: E402

from benchmarks.app_server import free_port, launch_app, launch_chromium, wait_until_serving  # noqa: E402
from benchmarks.page_switch import RENDERED  # noqa: E402
from rfi_models.artifacts.atomic import write_bytes  # noqa: E402

PATCH = "tree"  # the real RFI patch with the most boxes (6 RFI boxes, 1 ignore box)
SHOTS = {"reconstruction": "reconstruction", "detection": "detection", "latent": "latent"}  # file -> URL path
MAX_BYTES = 300_000
VIEWPORT = {"width": 1920, "height": 1080}


def small_png(data: bytes, limit: int = MAX_BYTES) -> bytes:
    """PNG bytes under `limit` when they can be: as taken, else reduced to a 256-colour palette."""
    if len(data) <= limit:
        return data
    with Image.open(io.BytesIO(data)) as picture:
        reduced = picture.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    reduced.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def take(page, base: str, path: str, patch: str) -> bytes:
    """The main figure of the page at `path`, opened on the SAR gallery's real patch `patch`."""
    page.goto(f"{base}/{path}?domain=sar&source=gallery&sar_image={patch}")
    page.wait_for_selector("h1", state="attached", timeout=300_000)
    page.wait_for_timeout(500)
    page.wait_for_function(RENDERED, timeout=300_000, polling=200)
    page.wait_for_timeout(500)
    chart = page.locator("[data-testid='stMain'] [data-testid='stPlotlyChart']").first
    chart.locator(".main-svg").first.wait_for(timeout=120_000)
    return chart.screenshot()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patch", default=PATCH, choices=("one", "two", "tree"), help="the real RFI patch shown")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = os.environ | {"RFI_MODELS_CHECKPOINTS": str(ROOT / "checkpoints")}
    server = launch_app(port, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(port, server, time.perf_counter() + 120)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport=VIEWPORT)
            for name, path in SHOTS.items():
                data = small_png(take(page, f"http://127.0.0.1:{port}", path, args.patch))
                write_bytes(ROOT / "docs" / f"{name}.png", data)
                print(f"docs/{name}.png: {len(data) / 1000:.0f} kB")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=120)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
