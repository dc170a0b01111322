"""The whole image under the pages that look through the models' window: the window drawn on it, where it is,
and what was read (format, polarisations, size, scale, georeferencing, notes).

Folded by default: open, it pushed each page's main grid below a 1920 x 1080 screen (tests/test_browser.py checks
that the grid starts on the first screen)."""

import streamlit as st

from rfi_models.viz import display_stride, draw_boxes, false_colour
from rfi_models.window import outline


def what_was_read(current) -> None:
    """What the reader reported for the sidebar's image, one caption line each (nothing for generated images)."""
    if current is not None and current.info is not None:
        st.caption("  \n".join(current.info.lines()))


def scene_overview(selection) -> None:
    """The whole image with the window on it (and its hand-drawn boxes), folded, when the pages see a window of it;
    then what was read."""
    scene, window = selection.scene, selection.window
    if window is not None:
        stride = display_stride(scene.image.shape, max_side=800)
        picture = outline(false_colour(scene.image[:, ::stride, ::stride]), window, stride)
        picture = draw_boxes(picture, scene.boxes, scene.ignore_boxes, stride)
        boxes = "; RFI boxes green, ignore boxes orange" if scene.has_boxes else ""
        with st.expander(f"Whole image: {window.describe()}", expanded=False):
            st.image(picture, caption=f"the models' window (magenta); move it in the sidebar{boxes}", width="content")
            what_was_read(scene)
    elif scene is not None:
        what_was_read(scene)
