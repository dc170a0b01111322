"""Small UI pieces shared by the pages: image rows and figures, each downloadable as PNG, and talk mode."""

import streamlit as st

from rfi_models.export import file_bytes
from rfi_models.viz import PLOTLY_PNG_EXPORT, image_strip


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
    st.download_button(
        "Download PNG", file_bytes(image_strip(panels), "png"), f"{download}.png", "image/png", key=f"png_{download}"
    )


def figure(chart, key: str) -> None:
    """A plotly figure with its PNG export button."""
    st.plotly_chart(chart, key=key, config=PLOTLY_PNG_EXPORT)


def selectable_figure(chart, key: str, selectable: bool = True) -> list[int]:
    """A plotly figure whose box/lasso selections rerun the page; returns the selected points' customdata ids.

    With `selectable` False (e.g. a 3-D map, which has no box or lasso) it is a plain figure and selects nothing.
    """
    if not selectable:
        figure(chart, key)
        return []
    event = st.plotly_chart(chart, key=key, config=PLOTLY_PNG_EXPORT, on_select="rerun",
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
