"""Cold start of the app: from launching `streamlit run` until its first page has finished rendering in
headless Chromium (Debian's /usr/bin/chromium driven by Playwright; nothing is downloaded).

The browser is started beforehand (a user's browser is already open) and every run gets a fresh browser
context (no cache, no cookies) and a fresh app process on a free port. The page has rendered when its title
is shown and Streamlit reports that the script is no longer running.
"""

from __future__ import annotations

import statistics
import time

from .app_server import CHROMIUM, free_port, launch_app, launch_chromium, wait_until_serving

TITLE = "MAE vs CAE vs DAE"
RENDERED = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_S = 120


def one_cold_start(browser) -> float:
    """Seconds from launching the app to the first page rendered, in a fresh context of `browser`."""
    port = free_port()
    context = browser.new_context(viewport={"width": 1600, "height": 1100})
    page = context.new_page()
    start = time.perf_counter()
    server = launch_app(port)
    try:
        wait_until_serving(port, server, start + TIMEOUT_S)
        page.goto(f"http://127.0.0.1:{port}/", timeout=TIMEOUT_S * 1000)
        page.locator("h1", has_text=TITLE).first.wait_for(timeout=TIMEOUT_S * 1000)
        page.wait_for_selector(RENDERED, timeout=TIMEOUT_S * 1000)
        return time.perf_counter() - start
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=30)


def cold_start_seconds(repeats: int, warmup: int = 1) -> float:
    """Median cold start in seconds over `repeats` runs after `warmup` runs (which fill the OS file cache)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for _ in range(warmup):
                one_cold_start(browser)
            return statistics.median(one_cold_start(browser) for _ in range(repeats))
        finally:
            browser.close()
