"""Page switches in the browser: from a click on a page's link in the sidebar until that page has rendered, in
headless Chromium (Debian's /usr/bin/chromium driven by Playwright), for every page, on MNIST and on SAR.

One app process and one browser page per domain. A first round visits every page (models load, caches fill, as
for a user who has looked around once); then `rounds` timed rounds visit every page in order. A page has
rendered when its title is shown, Streamlit reports that the script is no longer running, every plotly figure
has drawn and every image has loaded.
"""

from __future__ import annotations

import statistics
import time

from .app_server import CHROMIUM, free_port, launch_app, launch_chromium, wait_until_serving
from .cold_start import TIMEOUT_S

PAGES = ("Home", "Reconstruction", "Explain", "Latent space", "RFI detection", "Models")
TITLE = {"Home": "MAE vs CAE vs DAE"}
VIEWPORT = {"width": 1920, "height": 1080}
RENDERED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")];
  if (!charts.every((chart) => chart.querySelector('.main-svg'))) return false;
  return [...document.querySelectorAll("[data-testid='stMain'] img")].every((image) => image.complete);
}"""


def switch_seconds(page, title: str) -> float:
    """Click the sidebar link of page `title`; seconds until it has rendered."""
    heading = TITLE.get(title, title)
    start = time.perf_counter()
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    page.locator("h1", has_text=heading).first.wait_for(timeout=TIMEOUT_S * 1000)
    page.wait_for_function(RENDERED, timeout=TIMEOUT_S * 1000, polling=20)
    return time.perf_counter() - start


def domain_switches(browser, domain: str, rounds: int) -> dict[str, list[float]]:
    """Seconds of every timed switch to each page, on a fresh app process showing `domain`."""
    port = free_port()
    server = launch_app(port)
    context = browser.new_context(viewport=VIEWPORT)
    try:
        wait_until_serving(port, server, time.perf_counter() + TIMEOUT_S)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_S * 1000)
        page.goto(f"http://127.0.0.1:{port}/?domain={domain}", timeout=TIMEOUT_S * 1000)
        page.locator("h1").first.wait_for(timeout=TIMEOUT_S * 1000)
        for title in PAGES:  # warm-up round
            switch_seconds(page, title)
        times: dict[str, list[float]] = {title: [] for title in PAGES}
        for _ in range(rounds):
            for title in PAGES:
                times[title].append(switch_seconds(page, title))
        return times
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=30)


def page_switch_seconds(rounds: int = 3) -> dict[str, dict[str, float]]:
    """domain -> page -> median seconds from click to rendered, over `rounds` rounds after a warm-up round."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            return {
                domain: {title: statistics.median(times) for title, times in domain_switches(browser, domain,
                                                                                             rounds).items()}
                for domain in ("mnist", "sar")
            }  # fmt: skip
        finally:
            browser.close()
