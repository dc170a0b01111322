"""The real app in a real browser: `streamlit run` headless on a free port with the shipped checkpoints, driven
by Debian's Chromium through Playwright. Visits every page, uploads a file, moves the mask slider, makes a box
selection on a latent map, and asserts that no exception element ever appears. Then every page of both domains
at 1920 x 1080, normal and in talk mode, and talk mode at 1280 x 720: the main grid of Reconstruction and of RFI
detection must lie within the first screen, and those of Explain and Latent space start on it; the same with a real
quick-look and a 391 x 671 patch uploaded (seen through the models' window, the whole image folded above).
Screenshots (one screen each) go to build/e2e/.

Needs /usr/bin/chromium (`apt-get install chromium`, done by .ci/run) and the playwright package (no browser
download: Playwright drives the system Chromium). Skipped when either is missing, unless RFI_E2E_REQUIRED=1,
which CI sets so that a missing browser fails instead of hiding.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, playwright_or_skip, start_server
from PIL import Image

from benchmarks.page_switch import RENDERED
from rfi_models.data import load_mnist_sample
from rfi_models.data.semisynthetic import QUICKLOOK_FOLDER

SCREENSHOTS = ROOT / "build" / "e2e"
FULL_HD, PROJECTOR = {"width": 1920, "height": 1080}, {"width": 1280, "height": 720}
PAGES = {"Home": "", "Reconstruction": "reconstruction", "Explain": "explain", "Latent space": "latent",
         "RFI detection": "detection", "Models": "models"}  # title -> URL path  # fmt: skip

sync_api = playwright_or_skip("sync_api")
pytestmark = pytest.mark.slow  # a real Chromium


@pytest.fixture(scope="module")
def browser_page():
    port = free_port()
    server = start_server(port)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=FULL_HD)
            page.set_default_timeout(120_000)  # a busy 2-core machine serves slowly
            page.goto(f"http://127.0.0.1:{port}/")
            settle(page)
            yield page
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=120)


def settle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the script run has finished and the page has drawn: its title, Streamlit's 'not running' state,
    every plotly figure drawn and every image loaded."""
    page.wait_for_selector("h1", state="attached", timeout=timeout_ms)
    page.wait_for_timeout(400)  # a rerun triggered by the last action starts within this
    page.wait_for_function(RENDERED, timeout=timeout_ms, polling=200)
    page.wait_for_timeout(300)


def assert_clean(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{name}: {exceptions.first.inner_text()[:500]}"


def open_page(page, title: str) -> None:
    """Click the page's link and wait until its title is shown and its run has finished."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    heading = "MAE vs CAE vs DAE" if title == "Home" else title
    page.locator("h1", has_text=heading).first.wait_for(timeout=120_000)
    settle(page)


def choose(page, label: str) -> None:
    """Click the sidebar option (radio button) labelled `label` and wait for the rerun."""
    page.locator('[data-testid="stSidebar"] label', has_text=label).first.click()
    settle(page)


def digit_png(tmp_path: Path) -> Path:
    digit = 255 - np.kron(load_mnist_sample()[0][3], np.ones((4, 4), np.uint8))  # dark on light, 112 x 112
    path = tmp_path / "digit.png"
    buffer = io.BytesIO()
    Image.fromarray(digit).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_every_page_in_a_real_browser(browser_page, tmp_path):
    page = browser_page
    assert page.locator("h1", has_text="MAE vs CAE vs DAE").count() == 1
    assert_clean(page, "01_home")

    open_page(page, "Reconstruction")
    caption = page.locator('[data-testid="stCaptionContainer"]').first
    assert "mask ratio 0.75" in caption.inner_text()
    slider = page.locator('[data-testid="stSidebar"] input[type="range"][aria-label="Mask ratio (MAE)"]')
    captions = page.locator('[data-testid="stCaptionContainer"]')
    for ratio in ("0.80", "0.85"):  # one step at a time: a rerun redraws the slider, which loses the focus
        slider.focus()
        slider.press("ArrowRight")
        captions.filter(has_text=f"mask ratio {ratio}").first.wait_for(timeout=120_000)
        settle(page)
    assert "mask ratio 0.85" in captions.first.inner_text()
    assert_clean(page, "02_reconstruction_mask_0.85")

    choose(page, "upload")
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(digit_png(tmp_path)))
    settle(page)
    page.wait_for_selector("text=upload digit.png", timeout=60_000)
    assert_clean(page, "03_reconstruction_upload")
    choose(page, "gallery")

    open_page(page, "Explain")
    page.wait_for_selector("text=Compared by numbers", timeout=60_000)
    assert_clean(page, "04_explain")

    open_page(page, "Latent space")
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=60_000)
    plot.hover()
    page.locator('.modebar-btn[data-title="Box Select"]').first.click()
    area = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.6, steps=12)
    page.mouse.up()
    settle(page)
    page.wait_for_selector("text=Selection:", timeout=60_000)
    assert_clean(page, "05_latent_box_selection")

    open_page(page, "Models")
    assert_clean(page, "06_models")

    choose(page, "SAR")
    open_page(page, "RFI detection")
    page.wait_for_selector("text=Against the true RFI mask", timeout=120_000)
    assert_clean(page, "07_rfi_detection")


def main_grid_box(page) -> dict:
    """Where the page's first figure (its main grid) lies once it has drawn, in viewport pixels."""
    chart = page.locator("[data-testid='stMain'] [data-testid='stPlotlyChart']").first
    chart.locator(".main-svg").first.wait_for(timeout=60_000)
    return chart.bounding_box()


def main_grid_fits(page, name: str) -> None:
    """The page's main grid has drawn and lies within the first screen."""
    box, screen = main_grid_box(page), page.viewport_size
    assert box["y"] >= 0 and box["y"] + box["height"] <= screen["height"], (name, box, screen)
    assert box["x"] >= 0 and box["x"] + box["width"] <= screen["width"], (name, box, screen)


def main_grid_starts_on_first_screen(page, name: str, rows_shown: float = 0.5) -> None:
    """The page's main comparison starts within the first screen, with at least `rows_shown` of its height on it
    (an open whole-image overview once pushed the Reconstruction grid to the fold, one row of it visible)."""
    box, screen = main_grid_box(page), page.viewport_size
    assert 0 <= box["y"] < screen["height"], (name, box, screen)
    assert screen["height"] - box["y"] >= rows_shown * min(box["height"], screen["height"]), (name, box, screen)


def tour(page, domain: str, mode: str) -> None:
    """Every page of the current domain, one screenshot each; the main grids must fit the screen."""
    for title, path in PAGES.items():
        open_page(page, title)
        name = f"{domain}_{path or 'home'}_{mode}"
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        assert page.locator('[data-testid="stException"]').count() == 0, name
        if title == "Reconstruction" or (title == "RFI detection" and domain == "sar"):
            main_grid_fits(page, name)
        elif title in ("Explain", "Latent space"):
            main_grid_starts_on_first_screen(page, name)


def test_every_page_fits_one_screen_normal_and_in_talk_mode(browser_page):
    page = browser_page
    for domain in ("SAR", "MNIST"):
        choose(page, domain)
        tour(page, domain.lower(), "1920x1080")
    page.locator('[data-testid="stSidebar"] label', has_text="Talk mode").first.click()
    settle(page)
    for domain in ("SAR", "MNIST"):
        choose(page, domain)
        tour(page, domain.lower(), "1920x1080_talk")
    base = page.url.split("?")[0].rsplit("/", 1)[0]
    page.set_viewport_size(PROJECTOR)
    for domain, path in (("mnist", "reconstruction"), ("sar", "reconstruction"), ("sar", "detection")):
        page.goto(f"{base}/{path}?domain={domain}&talk=1")  # a talk link: the sidebar starts folded
        settle(page)
        name = f"{domain}_{path}_1280x720_talk"
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        main_grid_fits(page, name)


READ_QUICKLOOK = "text=quick-look PNG · HH / HV · 721 x 504 px"  # what was read, under the whole image


def test_a_real_quicklook_upload_moves_its_window_in_a_real_browser(browser_page, tmp_path):
    """A real Sentinel-1 quick-look (721 x 504, HH/HV) through the sidebar's one uploader: the model pages look
    through the movable 340 x 500 window, and the arrow keys move it; then a 391 x 671 VV/VH patch, the original
    study's size, on the four pages that use the models."""
    found = sorted(QUICKLOOK_FOLDER.glob("S1C_S4_*.png"))  # shipped in the package
    page = browser_page
    page.set_viewport_size(FULL_HD)  # an earlier test may have left a talk link at 1280 x 720 open
    base = page.url.split("?")[0].rsplit("/", 1)[0]
    page.goto(f"{base}/reconstruction?domain=sar")
    settle(page)
    choose(page, "upload")
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(found[0]))
    settle(page)
    page.wait_for_selector(READ_QUICKLOOK, state="attached", timeout=120_000)  # in the folded overview
    expander = page.locator('[data-testid="stExpander"] summary').first
    before = expander.inner_text()
    assert "Whole image (721 x 504): window rows" in before  # one short line, folded
    assert_clean(page, "08_reconstruction_quicklook_window")
    main_grid_fits(page, "08_reconstruction_quicklook_window")  # the folded overview leaves the grid on screen
    slider = page.locator('[data-testid="stSidebar"] input[type="range"][aria-label="Window top row"]')
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")

    def top(text: str) -> int:
        return int(text.split("window rows ")[1].split("-")[0])

    for _ in range(240):  # the rerun may start late on a loaded machine
        settle(page)
        after = page.locator('[data-testid="stExpander"] summary').first.inner_text()
        if top(after) > top(before):
            break
    assert top(after) > top(before) and f"wtop={top(after)}" in page.url  # moved, and kept in the URL
    assert_clean(page, "09_reconstruction_window_moved")

    for number, title in enumerate(("Explain", "Latent space", "RFI detection"), start=10):  # the same upload
        open_page(page, title)
        page.wait_for_selector(READ_QUICKLOOK, state="attached", timeout=120_000)  # in the folded overview
        assert_clean(page, f"{number}_{PAGES[title]}_quicklook")
        main_grid_starts_on_first_screen(page, f"{number}_{PAGES[title]}_quicklook")

    patch = np.random.default_rng(0).integers(1, 256, (391, 671, 2)).astype(np.uint8)  # the study's own size
    np.save(tmp_path / "patch.npy", patch)
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(tmp_path / "patch.npy"))
    settle(page)
    for number, title in enumerate(("RFI detection", "Reconstruction", "Explain", "Latent space"), start=13):
        open_page(page, title)
        page.wait_for_selector("text=NumPy .npy · VV / VH · 391 x 671 px", state="attached", timeout=120_000)
        assert_clean(page, f"{number}_{PAGES[title]}_391x671")
        main_grid_starts_on_first_screen(page, f"{number}_{PAGES[title]}_391x671")
