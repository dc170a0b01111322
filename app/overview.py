"""The whole image under the pages that look through the models' window: the window drawn on it, where it is,
and what was read (format, polarisations, size, scale, georeferencing, notes).

Folded by default, under a one-line title, and in talk mode inside the page's one Settings expander: open, it
pushed each page's main grid below a 1920 x 1080 screen (tests/test_browser.py checks that the grid starts on the
first screen)."""

import streamlit as st
from widgets import controls_area, talk_mode

from rfi_models.view.viz import display_stride, draw_boxes, false_colour
from rfi_models.view.window import outline


def what_was_read(current) -> None:
    """What the reader reported for the sidebar's image, one caption line each (nothing for generated images)."""
    if current is not None and current.info is not None:
        st.caption("  \n".join(current.info.lines()))


def scene_overview(selection, area=None) -> None:
    """The whole image with the window on it (and its hand-drawn boxes) when the pages see a window of it, folded
    in its own expander or, given, in `area`; then what was read."""
    scene, window = selection.scene, selection.window
    if window is None:
        what_was_read(scene)
        return
    stride = display_stride(scene.image.shape, max_side=800)
    picture = outline(false_colour(scene.image[:, ::stride, ::stride]), window, stride)
    picture = draw_boxes(picture, scene.boxes, scene.ignore_boxes, stride)
    boxes = "; RFI boxes green, ignore boxes orange" if scene.has_boxes else ""
    title = f"Whole image ({scene.image.shape[1]} x {scene.image.shape[2]}): {window.span()}"
    with st.expander(title, expanded=False) if area is None else area:
        st.caption(window.describe() if area is None else f"{title}. {window.describe()}")
        st.image(picture, caption=f"the models' window (magenta); move it in the sidebar{boxes}", width="content")
        what_was_read(scene)


def overview_and_controls(selection):
    """The page's controls area (`widgets.controls_area`) with the whole-image overview under it; in talk mode the
    overview goes inside the controls' Settings expander, so that the main figure fits a projector."""
    area = controls_area()
    scene_overview(selection, area if talk_mode() else None)
    return area
