"""Small UI pieces shared by the pages: image rows and figures, each downloadable as PNG, and talk mode."""

import streamlit as st

from rfi_models.view.export import file_bytes
from rfi_models.view.viz import PLOTLY_PNG_EXPORT, image_strip


def talk_mode() -> bool:
    return bool(st.session_state.get("talk", False))


def image_row(panels: list[tuple[str, object]], download: str, min_columns: int = 3) -> None:
    """Show (caption, uint8 image) panels side by side, and a button that downloads the row as one PNG.

    `download` names the file and keys the button, so it must be unique on the page. At least
    `min_columns` columns keep small images (MNIST) small; talk mode uses fewer, larger columns.
    """
    columns = st.columns(max(len(panels), 1 if talk_mode() else min_columns))
    for column, (caption, picture) in zip(columns[: len(panels)], panels, strict=True):
        column.image(picture, caption=caption, width="stretch")
    download_png(panels, download)


def download_png(panels: list[tuple[str, object]], download: str) -> None:
    """A button that downloads the panels side by side as one PNG, encoded only when it is clicked."""
    st.download_button("Download PNG", lambda: file_bytes(image_strip(panels), "png"), f"{download}.png",
                       "image/png", key=f"png_{download}")  # fmt: skip


def image_strip_row(panels: list[tuple[str, object]], download: str) -> None:
    """Many small (caption, uint8 image) panels as ONE picture, captions drawn in, small images enlarged pixel
    for pixel: one image for the browser to fetch instead of one per panel. With its PNG download button."""
    st.image(image_strip(panels), width="content")
    download_png(panels, download)


def figure(chart, key: str) -> None:
    """A plotly figure with its PNG export button."""
    st.plotly_chart(chart, key=key, config=PLOTLY_PNG_EXPORT, theme=None)  # the figure's own light template


# Pixels left for a page's main figure below its title and one row of controls: at 1920 x 1080 (normal) and at
# 1280 x 720 (talk mode, whose figure then also fits 1920 x 1080). tests/test_browser.py checks that it fits.
MAIN_HEIGHT = {False: 690, True: 490}


def main_height(rows_of_controls: int = 1) -> int:
    """The main figure's height for the current mode, less 80 px for each row of controls beyond the first."""
    return MAIN_HEIGHT[talk_mode()] - 80 * max(rows_of_controls - 1, 0)


def controls_area():
    """Where a page's controls go: on the page; in talk mode folded into one 'Settings' expander, so that the
    main figure fits a projector's screen."""
    return st.expander("Settings") if talk_mode() else st.container()


def dae_noise(selection) -> float:
    """The DAE's noise factor where a page has no control for it: the noise it was trained with (0 without a DAE)."""
    dae = selection.models.get("dae") if "dae" in selection.checkpoints else None
    return float(dae.config.noise_factor) if dae is not None else 0.0


def switch_to_sar(reason: str) -> None:
    """A note that the page needs SAR, and a button that switches the domain (kept in the URL by the sidebar)."""
    st.info(reason)
    st.button("Switch to SAR", type="primary", key="switch_to_sar",
              on_click=lambda: st.session_state.update(domain="sar"))  # fmt: skip


def selectable_figure(chart, key: str, selectable: bool = True) -> list[int]:
    """A plotly figure whose box/lasso selections rerun the page; returns the selected points' customdata ids.

    With `selectable` False (e.g. a 3-D map, which has no box or lasso) it is a plain figure and selects nothing.
    """
    if not selectable:
        figure(chart, key)
        return []
    event = st.plotly_chart(chart, key=key, config=PLOTLY_PNG_EXPORT, theme=None, on_select="rerun",
                            selection_mode=("box", "lasso"))  # fmt: skip
    points = (event or {}).get("selection", {}).get("points", [])
    return [int(p["customdata"]) for p in points if "customdata" in p]


def start_page(title: str, need_image: bool = True):
    """Title, the sidebar's problems (bad uploads, unreadable checkpoints), and the shared Selection.

    Stops the page with a hint when it needs an image or a checkpoint that is not there.
    """
    selection = st.session_state["selection"]
    st.title(title)
    for problem in selection.problems:
        st.error(problem)
    if not selection.checkpoints:
        st.info("No trained checkpoints for this domain in `checkpoints/`. Train them with `python -m train`.")
        st.stop()
    if need_image and selection.current is None:
        st.info("Choose an image in the sidebar: a gallery image, an upload, or (SAR) a generated patch.")
        st.stop()
    return selection
